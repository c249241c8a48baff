import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * Nothing done twice by accident, rehearsals that repeat: a resumed run is not offered for resume
 * again; the sandbox resets to the demo after a preview of what is lost; a report reads as a document
 * and saves as a file.
 */

let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

test('a resumed run shows its child and is not offered for resume again; the resume defaults to the last good version', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.workflowsWithFailures).toHaveCount(1);
  const name = (await c.workflowsWithFailures.first().getAttribute('data-workflow-name'))!;
  await c.openWorkflow(name);
  const active = Number((await c.activeVersion.textContent())!.replace(/\D+/g, ''));

  await c.failedRunsButton.click();
  const failedRow = c.runRows.filter({ has: page.locator('[data-status="failed"]') }).filter({ hasText: `v${active}` }).first();
  await failedRow.click();
  await expect(c.inspectorStatus).toHaveText('failed');
  const parentId = (await c.inspector.getAttribute('data-run-id'))!;
  // Not the bad active version: the one a rollback would go to.
  await expect(c.resumeVersion).toHaveValue(String(active - 1));
  await expect(c.resumeCompat).toHaveAttribute('data-compatible', 'true');
  await c.resumeSubmit.click();
  await expect(c.inspectorParent).toContainText(parentId);
  const childId = (await c.inspector.getAttribute('data-run-id'))!;
  expect(childId).not.toBe(parentId);

  // Back on the parent: its child, and no resume offer.
  await c.inspectorParent.click();
  await expect(c.inspector).toHaveAttribute('data-run-id', parentId);
  await expect(page.getByTestId('resume-panel')).toHaveAttribute('data-resumed', 'true');
  await expect(page.getByTestId('resume-child')).toHaveText(childId);
  await expect(c.resumeSubmit).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('resumed-parent.png') });

  // Resuming again is a separate, deliberate step that says what it does.
  await page.getByTestId('resume-again-open').click();
  await expect(page.getByTestId('resume-again-warning')).toContainText(childId);
  await expect(c.resumeSubmit).toContainText('Resume again');
  await page.getByTestId('resume-again-cancel').click();
  await expect(page.getByTestId('resume-child')).toHaveText(childId);

  // The child opens from the parent.
  await page.getByTestId('resume-child').click();
  await expect(c.inspector).toHaveAttribute('data-run-id', childId);
});

test('reset the sandbox to the demo: the preview says what is lost, then the demo is back', async ({ page }, testInfo) => {
  app = await startConsole({
    prepare: async (sandbox) => {
      await sandbox.call('workflows:create', { name: 'operator-made', dsl: { nodes: [{ id: 'a', type: 'task', params: {}, next: [] }], defaults: {} } });
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.workflowRow('operator-made')).toBeVisible();
  const before = await c.workflowRows.count();

  await page.getByTestId('connection-menu').click();
  await page.getByTestId('connection-menu-resetSandbox').click();
  const preview = page.getByTestId('reset-sandbox-preview');
  await expect(preview).toContainText(`${before} workflows`);
  await expect(page.getByTestId('reset-sandbox-dialog')).toContainText('.before-reset');
  await page.screenshot({ path: testInfo.outputPath('reset-sandbox-preview.png') });
  await page.getByTestId('reset-sandbox-confirm').click();
  await expect(page.getByTestId('reset-sandbox-dialog')).toBeHidden();

  await expect(c.workflowRow('operator-made')).toHaveCount(0);
  await expect(c.workflowRows).toHaveCount(before - 1);
  await expect(c.workflowsWithFailures).toHaveCount(1);
});

test('the post-incident report is rendered, and saved as a file', async ({ page }, testInfo) => {
  app = await startConsole({
    prepare: async (sandbox) => {
      const { runbooks } = await sandbox.call('runbooks:list', {});
      const level1 = runbooks.find((r) => r.name.startsWith('Level 1'))!;
      const at = '2026-11-24T10:00:00.000Z';
      await sandbox.call('rehearsals:record', {
        runbook: level1.id,
        record: {
          runbook_name: level1.name,
          scenario: 'ml-registry-outage',
          started_at: at,
          finished_at: '2026-11-24T10:04:00.000Z',
          total_ms: 240_000,
          passed: true,
          steps: [{ index: 1, title: 'Confirm the <b>alert</b>', kind: 'checklist', outcome: 'passed', expected_ms: 60_000, duration_ms: 50_000, detail: 'confirmed' }],
          rollbacks: [{ workflow: 'ml-training-pipeline', from_version: 4, to_version: 3 }],
          time_scale: 0.01,
          auto_executed: true,
          scratch_copy: true,
        },
      });
    },
  });
  const c = new ConsolePage(page);
  const runbooks = new RunbooksPage(page);
  await c.open(app.url);
  await runbooks.open();
  await runbooks.rowNamed('Level 1').click();
  await runbooks.tab('history').click();
  await page.getByTestId('history-report').first().click();

  const report = runbooks.report;
  await expect(report.locator('h1')).toContainText('Post-incident report: Level 1');
  await expect(report.locator('h2').first()).toHaveText('Basic information');
  await expect(report).toContainText('actions executed automatically; on a scratch copy of the sandbox');
  await expect(report).not.toContainText('## ');
  // Markup inside the text is shown as text, never rendered as HTML.
  await expect(report.locator('b')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('report-rendered.png') });

  // Browser mode has no save dialog: the file goes out as a download.
  const download = page.waitForEvent('download');
  await page.getByTestId('report-download').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^report-Level-1.*\.md$/);
  await expect(page.getByTestId('report-saved')).toContainText('Downloaded as');
});
