import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { SandboxLivePanel } from './pages/sandbox-live-page.js';
import { startConsole, type StartedConsole } from './support/console.js';
import { expectFocusKept, expectNoFocusDrops, focusedElement, watchFocus } from './support/focus.js';

/*
 * Focus never falls to <body>: after Resume, Replay, Undo, Deny, Verify chain, Start rehearsal,
 * Escape on the live-execution dialog and a palette Enter with no match, focus lands on the next
 * useful control or, when there is none, on the heading of the view — and nowhere in these flows is
 * it left on the page itself (the shared watcher of support/focus.ts).
 */

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

const WORKFLOW = 'ml-training-pipeline';

test('Resume, Replay, Undo, Verify chain, Escape on the live-execution dialog, a palette Enter with no match and view changes keep the focus on a control', async ({ page }) => {
  await watchFocus(page);
  app = await startConsole();
  const c = new ConsolePage(page);
  const live = new SandboxLivePanel(page);
  await c.open(app.url);

  // Undo of a pause: the toast and its button go; focus returns to the Pause toggle.
  await c.openWorkflow(WORKFLOW);
  const toggle = page.getByTestId('workflow-pause-toggle');
  await toggle.click();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('workflow-header-status')).toHaveText('paused');
  const toast = c.toasts.filter({ hasText: `Paused ${WORKFLOW}` });
  await toast.getByTestId('toast-action').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('workflow-header-status')).toHaveText('active');
  await expect(toast).toBeHidden();
  expect(await expectFocusKept(page, 'Undo')).toBe('workflow-pause-toggle');

  // Resume a failed run on the previous version: the child run opens, its title focused.
  const active = Number((await c.activeVersion.textContent())!.replace(/\D+/g, ''));
  await c.failedRunsButton.click();
  await c.runRows.filter({ has: page.locator('[data-status="failed"]') }).filter({ hasText: `v${active}` }).first().click();
  await expect(c.inspectorStatus).toHaveText('failed');
  await c.resumeVersion.selectOption(String(active - 1));
  await expect(c.resumeCompat).toHaveAttribute('data-compatible', 'true');
  await c.resumeSubmit.focus();
  await page.keyboard.press('Enter');
  await expect(c.inspectorParent).toBeVisible();
  expect(await expectFocusKept(page, 'Resume')).toBe('inspector-title');

  // Replay the finished child on another version: focus goes to the result.
  await expect(c.inspectorStatus).toHaveText('succeeded', { timeout: 30_000 });
  await live.replayVersion.selectOption(String(active));
  await live.replaySubmit.focus();
  await page.keyboard.press('Enter');
  await expect(live.replayResult).toBeVisible({ timeout: 30_000 });
  expect(await expectFocusKept(page, 'Replay')).toBe('replay-result');

  // Verify chain: the button is busy for a moment; focus stays on it, and on the verdict's row.
  await c.nav('audit').focus();
  await page.keyboard.press('Enter');
  await expect(c.auditRows.first()).toBeVisible();
  await expectFocusKept(page, 'going to the audit log');
  await page.getByTestId('chain-verify').focus();
  await page.keyboard.press('Enter');
  await expect(c.chainStatus).toHaveAttribute('data-ok', 'true');
  expect(await expectFocusKept(page, 'Verify chain')).toBe('chain-verify');

  // Escape on the live-execution dialog, opened from the connection menu (whose item is gone by then).
  await live.connectionMenu.click();
  await live.connectionMenuItem.click();
  await expect(live.dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(live.dialog).toBeHidden();
  expect(await expectFocusKept(page, 'Escape on the live-execution dialog')).toBe('connection-menu');

  // A palette Enter with no match keeps the palette and its input; Escape then returns to the view.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('no such command at all');
  await expect(page.getByTestId('palette-item')).toHaveCount(0);
  await page.keyboard.press('Enter');
  await expectFocusKept(page, 'a palette Enter with no match');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('palette')).toBeHidden();
  await expectFocusKept(page, 'Escape on the palette');

  // A view change from the palette, with focus on nothing in that view: its heading takes it.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('go to runs');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('runs-view')).toBeVisible();
  await expectFocusKept(page, 'Go to Runs from the palette');

  await expectNoFocusDrops(page);
});

test('Deny from the run inspector lands on the denied run, not on the page', async ({ page }) => {
  await watchFocus(page);
  app = await startConsole({
    prepare: async (sb) => {
      await sb.call('workflows:create', {
        name: 'release-gate',
        source_type: 'MANUAL',
        dsl: {
          defaults: {},
          nodes: [
            { id: 'build', type: 'task', params: { duration_ms: 200 }, next: ['gate'] },
            { id: 'gate', type: 'approval', params: { prompt: 'Ship it?' }, next: ['ship'] },
            { id: 'ship', type: 'transform', params: { set: { shipped: true } }, next: [] },
          ],
        },
      });
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow('release-gate');
  await page.getByTestId('workflow-start-run').click();
  await expect(c.inspectorStatus).toHaveText('waiting', { timeout: 30_000 });
  await page.getByTestId('approval-deny').focus();
  await page.keyboard.press('Enter');
  await expect(c.inspectorStatus).toHaveText('denied', { timeout: 30_000 });
  await expect(page.getByTestId('approval-panel')).toBeHidden();
  expect(await expectFocusKept(page, 'Deny')).toBe('inspector-title');
  await expectNoFocusDrops(page);
});

test('Start rehearsal moves focus into the rehearsal, never to the page', async ({ page }) => {
  await watchFocus(page);
  app = await startConsole();
  const c = new ConsolePage(page);
  const runbooks = new RunbooksPage(page);
  await c.open(app.url);
  await runbooks.open();
  await runbooks.rowNamed('Level 1').click();
  await runbooks.tab('rehearse').click();
  await runbooks.timeScale.selectOption('0');
  await runbooks.start.focus();
  await page.keyboard.press('Enter');
  await expect(runbooks.run).toBeVisible();
  const focused = await expectFocusKept(page, 'Start rehearsal');
  expect(['rehearsal-run', 'rehearsal-confirm']).toContain(focused);
  await expectNoFocusDrops(page);
  expect(await focusedElement(page)).not.toBe('body');
});
