import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';
import { expectNoFocusDrops, watchFocus } from './support/focus.js';

/*
 * The on-call story: open the console → see the failed run → inspect its checkpoints → roll the
 * workflow back to the previous version (preview, confirm) → a second console sees it live →
 * resume the failed run from its checkpoint under the rolled-back version → it succeeds.
 */

let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

async function onCallStory(page: ConsolePage, second: ConsolePage, shots: (name: string) => string): Promise<void> {
  // The incident is visible at a glance: one workflow carries the failed-runs badge.
  await expect(page.workflowsWithFailures).toHaveCount(1);
  const name = (await page.workflowsWithFailures.first().getAttribute('data-workflow-name'))!;
  await page.openWorkflow(name);
  const active = Number((await page.activeVersion.textContent())!.replace(/\D+/g, ''));
  const previous = active - 1;
  await expect(page.timelineVersion(active).getByTestId('version-status')).toHaveText('active');
  await page.screenshot(shots('workflows.png'));

  // The failed run and its checkpoints.
  await page.failedRunsButton.click();
  const failedRow = page.runRows.filter({ has: page.page.locator('[data-status="failed"]') }).filter({ hasText: `v${active}` }).first();
  await failedRow.click();
  await expect(page.inspectorStatus).toHaveText('failed');
  const failedRunId = (await page.inspector.getAttribute('data-run-id'))!;
  await expect(page.checkpointRows.first()).toBeVisible();
  const failedNode = page.dagNodes.and(page.page.locator('[data-state="failed"]'));
  await expect(failedNode).toHaveCount(1);
  await expect(page.checkpointJson).toContainText('"context"');
  await page.screenshot(shots('run-inspector.png'));

  // The second console watches the same workflow.
  await second.openWorkflow(name);
  await expect(second.timelineVersion(active).getByTestId('version-status')).toHaveText('active');

  // Roll back with preview and typed confirmation.
  await page.nav('workflows').click();
  await page.rollbackFrom(previous).click();
  await expect(page.rollbackPreview).toContainText(`Active now: v${active}`);
  await expect(page.page.getByTestId('rollback-resumable-run').filter({ hasText: failedRunId })).toContainText(`resumable on v${previous}`);
  await expect(page.rollbackSubmit).toBeDisabled();
  await page.rollbackConfirmName.fill(name);
  await page.screenshot(shots('rollback-dialog.png'));
  await page.rollbackSubmit.click();
  await expect(page.rollbackResult).toContainText(`v${active} → v${previous}`);
  await page.rollbackDone.click();
  await expect(page.activeVersion).toHaveText(`active v${previous}`);
  await expect(page.page.getByTestId('timeline-rollback').first()).toBeVisible();

  // Seen live by the other console: the timeline and the header. Both consoles act as the same
  // operator (the connection's actor), so the change is theirs too and raises no toast.
  await expect(second.timelineVersion(previous).getByTestId('version-status')).toHaveText('active');
  await expect(second.activeVersion).toHaveText(`active v${previous}`);
  await second.screenshot(shots('second-console-live.png'));
  await expect(second.toasts.filter({ hasText: `Rolled back v${active} → v${previous}` })).toHaveCount(0);

  // Resume the failed run under the rolled-back version.
  await page.nav('runs').click();
  await page.runRow(failedRunId).click();
  await expect(page.inspectorStatus).toHaveText('failed');
  await page.resumeVersion.selectOption(String(previous));
  await expect(page.resumeCompat).toHaveAttribute('data-compatible', 'true');
  await page.resumeSubmit.click();
  await expect(page.inspectorParent).toContainText(failedRunId);
  await expect(page.inspectorStatus).toHaveText('succeeded', { timeout: 30_000 });
  await expect(page.dagNodes.and(page.page.locator('[data-state="failed"]'))).toHaveCount(0);
  await page.screenshot(shots('resumed-run.png'));

  // The badge clears once the failed run has been resumed.
  await expect(page.workflowsWithFailures).toHaveCount(0);
}

test('on call: rollback and resume in the local sandbox, seen live by a second console', async ({ browser }, testInfo) => {
  app = await startConsole();
  const one = new ConsolePage(await (await browser.newContext()).newPage());
  const two = new ConsolePage(await (await browser.newContext()).newPage());
  await watchFocus(one.page);
  await one.open(app.url);
  await two.open(app.url);
  await onCallStory(one, two, (n) => testInfo.outputPath(n));

  await one.nav('audit').click();
  await expect(one.auditRows.first()).toBeVisible();
  await one.page.getByTestId('chain-verify').click();
  await expect(one.chainStatus).toHaveAttribute('data-ok', 'true');
  await one.screenshot(testInfo.outputPath('audit.png'));
  await expectNoFocusDrops(one.page);
});

test('on call: the same story against a real workflow server', async ({ browser }, testInfo) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const one = new ConsolePage(await (await browser.newContext()).newPage());
  const two = new ConsolePage(await (await browser.newContext()).newPage());
  await one.open(app.url);
  await one.addServer({ name: 'staging server', url: server.url, token: server.adminToken });
  await expect(one.connectionSelect.locator('option:checked')).toContainText('staging server');
  await expect(one.connectionState).toHaveText('connected');
  await two.open(app.url);
  await expect(two.connectionSelect.locator('option:checked')).toContainText('staging server');
  await onCallStory(one, two, (n) => testInfo.outputPath(`remote-${n}`));

  // Another operator, with their own token, pauses the workflow: that is someone else's change, toasted with their name.
  const auth = { authorization: `Bearer ${server.otherOperatorToken}` };
  const { workflows } = (await (await fetch(`${server.url}/api/v1/workflows`, { headers: auth })).json()) as { workflows: { id: string; status: string }[] };
  const target = workflows.find((w) => w.status === 'active')!;
  const paused = await fetch(`${server.url}/api/v1/workflows/${target.id}/pause`, { method: 'POST', headers: auth });
  expect(paused.status).toBe(200);
  await expect(one.toasts.filter({ hasText: 'Paused the workflow' })).toContainText('mina.kim');
  await expect(two.toasts.filter({ hasText: 'Paused the workflow' })).toContainText('mina.kim');
});
