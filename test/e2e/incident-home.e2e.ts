import { expect, test, type Page } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * The on-call hour from the incident home: the incident in one look, the rollback and the resume in
 * a few keys (counted), focus where the next step is, a viewer's controls disabled with the reason,
 * and a layout that holds from 1024×640 up in both themes.
 */

const ML = 'ml-training-pipeline';
let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

/** Presses keys and counts them: the measure of "a few keys". */
class Keys {
  count = 0;
  constructor(private readonly page: Page) {}
  async press(key: string): Promise<void> {
    this.count += 1;
    await this.page.keyboard.press(key);
  }
  /** Typed text counts one key per character. */
  async type(text: string): Promise<void> {
    this.count += text.length;
    await this.page.keyboard.type(text);
  }
}

const focusedTestId = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? null);

test('the home shows the incident first: bad since v4, last good v3, relative times with the absolute time on hover', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.home).toBeVisible();
  const item = c.incident(ML);
  await expect(item.getByTestId('incident-bad')).toHaveText('bad since v4 (failing 1/1)');
  await expect(item.getByTestId('incident-last-good')).toHaveText('last good: v3');
  await expect(item.getByTestId('incident-last')).toHaveText(/min ago$/);
  await expect(item.getByTestId('incident-last')).toHaveAttribute('title', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(.+, UTC[+-]\d{2}:\d{2}\)$/);
  await expect(item.locator('[data-testid="incident-rate"][data-version="4"]')).toContainText('1/1');
  await expect(c.incidentAction(ML)).toHaveText('Roll back to v3 (last good)');
  // Only the ML pipeline is failing; the other workflows are healthy and absent.
  await expect(page.getByTestId('incident-item')).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath('home.png') });

  // The bad and last good versions are marked on the timeline too.
  await item.getByTestId('incident-timeline').click();
  await expect(c.timelineVersion(4)).toHaveAttribute('data-mark', 'bad');
  await expect(c.timelineVersion(3)).toHaveAttribute('data-mark', 'last-good');
  await expect(c.timelineVersion(2)).not.toHaveAttribute('data-mark', /./);
  await page.screenshot({ path: testInfo.outputPath('timeline-marks.png') });
});

test('keys counted: from first open to a confirmed rollback in ≤ 8 keys plus the confirmation, then a resumed run in ≤ 6 more; focus follows each step', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  const keys = new Keys(page);
  // Focus starts on the incident's suggested action.
  await expect(c.incidentAction(ML)).toBeFocused();

  await keys.press('Enter');
  await expect(c.rollbackConfirmName).toBeFocused();
  await expect(c.rollbackPreview).toContainText('Active now: v4');
  await page.keyboard.type(ML); // the typed confirmation, not counted
  await keys.press('Enter');
  await expect(c.rollbackResult).toContainText('v4 → v3');
  await expect(c.rollbackDone).toBeFocused();
  await keys.press('Enter');
  await expect(c.rollbackDialog).toBeHidden();
  expect(keys.count, 'keys to a confirmed rollback').toBeLessThanOrEqual(8);

  // Focus is back on the incident, whose next step is now the resume on the last good version.
  await expect(c.incidentAction(ML)).toHaveAttribute('data-action', 'resume');
  await expect(c.incidentAction(ML)).toBeFocused();
  await expect(c.incident(ML).getByTestId('incident-bad')).toHaveText('bad since v4 (failing 1/1)');
  await expect(c.homeRollbacks.first()).toContainText('v4 → v3');
  const before = keys.count;
  await keys.press('Enter');
  await expect(c.inspectorParent).toBeVisible();
  await expect(c.inspectorStatus).toHaveText('succeeded', { timeout: 30_000 });
  expect(keys.count - before, 'keys to a resumed run').toBeLessThanOrEqual(6);
  expect(await focusedTestId(page)).toBe('inspector-title');
  await page.screenshot({ path: testInfo.outputPath('resumed.png') });

  // Resumed: the incident is over and the home says so.
  await c.nav('home').click();
  await expect(page.getByTestId('home-clear')).toBeVisible();
});

test('the palette acts: "roll" lists the rollback that makes sense now, and "res" the resume after it, in counted keys', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.incidentAction(ML)).toBeFocused();
  const keys = new Keys(page);
  await keys.press('Control+k');
  await keys.type('roll');
  const first = page.getByTestId('palette-item').first();
  await expect(first).toContainText(`Roll back ${ML} to v3 (last good)`);
  await page.screenshot({ path: testInfo.outputPath('palette-roll.png') });
  await keys.press('Enter');
  await expect(c.rollbackConfirmName).toBeFocused();
  await page.keyboard.type(ML);
  await keys.press('Enter');
  await expect(c.rollbackDone).toBeFocused();
  await keys.press('Enter');
  await expect(c.rollbackDialog).toBeHidden();
  expect(keys.count, 'palette keys to a confirmed rollback').toBeLessThanOrEqual(8);
  // The dialog was opened from the palette: focus returns to the incident it acted on.
  await expect(c.incidentAction(ML)).toBeFocused();

  const before = keys.count;
  await expect(c.incidentAction(ML)).toHaveAttribute('data-action', 'resume');
  await keys.press('Control+k');
  await keys.type('res');
  await expect(page.getByTestId('palette-item').first()).toContainText(`Resume run`);
  await keys.press('Enter');
  await expect(c.inspectorParent).toBeVisible();
  expect(keys.count - before, 'palette keys to a resumed run').toBeLessThanOrEqual(6);
});

test('a refusal takes focus and Escape dismisses it', async ({ page }) => {
  // A MANUAL workflow that a CODE one of the same name overrides: its unpause is always refused.
  app = await startConsole({
    prepare: async (sb) => {
      const dsl = { nodes: [{ id: 'a', type: 'task' as const, params: {}, next: [] }], defaults: {} };
      await sb.call('workflows:create', { name: 'billing-sync', dsl, source_type: 'MANUAL' });
      await sb.engine.workflows.asCodeFolder(() => sb.call('workflows:create', { name: 'billing-sync', dsl, source_type: 'CODE' }));
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await page.locator('[data-testid="workflow-row"][data-workflow-name="billing-sync"]').filter({ has: page.locator('[data-status="overridden"]') }).click();
  const toggle = page.getByTestId('workflow-pause-toggle');
  await expect(toggle).toHaveText('Unpause');
  await toggle.click();
  const notice = page.getByTestId('workflow-error');
  await expect(notice).toHaveAttribute('data-code', 'UNPAUSE_OVERRIDDEN');
  await expect(notice).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(notice).toBeHidden();
});

test('a viewer sees Roll back, Pause and Resume disabled with the reason, and its role in the header', async ({ page }, testInfo) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.connectionRole).toHaveText('admin');
  await c.addServer({ name: 'prod viewer', url: server.url, token: server.viewerToken });
  await expect(c.connectionState).toHaveText('connected');
  await expect(c.connectionRole).toHaveText('viewer');
  await c.nav('home').click();
  const action = c.incidentAction(ML);
  await expect(action).toBeDisabled();
  await expect(c.incident(ML).getByTestId('incident-action-reason')).toContainText('viewer');
  await page.screenshot({ path: testInfo.outputPath('viewer-home.png') });

  await c.openWorkflow(ML);
  await expect(c.rollbackFrom(3)).toBeDisabled();
  await expect(c.rollbackFrom(3)).toHaveAttribute('title', /viewer/);
  await expect(page.getByTestId('workflow-pause-toggle')).toBeDisabled();
  await expect(page.getByTestId('workflow-pause-toggle-reason')).toContainText('viewer');

  await c.failedRunsButton.click();
  await expect(c.inspectorStatus).toHaveText('failed');
  await expect(c.resumeSubmit).toBeDisabled();
  await expect(page.getByTestId('resume-submit-reason')).toContainText('viewer');
  await page.screenshot({ path: testInfo.outputPath('viewer-run.png') });

  // The palette lists the actions the viewer would be refused, disabled, with the reason (issue 23 item 8).
  await page.keyboard.press('Control+k');
  await page.keyboard.type('roll');
  const rollbacks = page.getByTestId('palette-item').filter({ hasText: 'Roll back' });
  await expect(rollbacks.first()).toBeVisible();
  for (const item of await rollbacks.all()) {
    await expect(item).toHaveAttribute('aria-disabled', 'true');
    await expect(item.getByTestId('palette-item-reason')).toContainText('viewer');
  }
});

/** No region scrolls sideways, and the header stays one line. */
async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const overflow = await page.evaluate(() =>
    ['.topbar', '.sidebar', '.main', '.timeline-list', '.incident-home', '.runs-view', 'html']
      .flatMap((sel) => [...document.querySelectorAll<HTMLElement>(sel)].map((el) => ({ sel, scroll: el.scrollWidth, client: el.clientWidth })))
      .filter((r) => r.scroll > r.client + 1),
  );
  expect(overflow, `sideways scroll on ${where}`).toEqual([]);
  const header = await page.locator('.topbar').boundingBox();
  expect(header!.height, `header height on ${where}`).toBeLessThan(56);
}

for (const size of [
  { width: 1024, height: 640 },
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
]) {
  for (const theme of ['dark', 'light'] as const) {
    test(`layout at ${size.width}×${size.height}, ${theme}: one-line header, no sideways scroll, row actions visible and unclipped`, async ({ page }, testInfo) => {
      await page.setViewportSize(size);
      app = await startConsole();
      const c = new ConsolePage(page);
      await c.open(app.url);
      if (theme === 'light') await page.getByTestId('theme-toggle').click();
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      await expect(c.incident(ML)).toBeVisible();
      await expectNoSidewaysScroll(page, 'home');
      await page.screenshot({ path: testInfo.outputPath(`home-${size.width}-${theme}.png`) });

      await c.openWorkflow(ML);
      await expectNoSidewaysScroll(page, 'workflow');
      const button = c.rollbackFrom(3);
      await expect(button).toBeInViewport({ ratio: 1 });
      const clipped = await button.evaluate((el) => el.scrollWidth > el.clientWidth);
      expect(clipped, '"Roll back" is not clipped').toBe(false);
      const title = page.getByTestId('workflow-title');
      await expect(title).toHaveAttribute('title', ML);
      await page.screenshot({ path: testInfo.outputPath(`workflow-${size.width}-${theme}.png`) });

      await c.failedRunsButton.click();
      await expect(c.inspectorStatus).toHaveText('failed');
      await expectNoSidewaysScroll(page, 'runs');
      await page.screenshot({ path: testInfo.outputPath(`runs-${size.width}-${theme}.png`) });

      if (size.width < 1280) {
        // The tabs fold into one menu; every view stays one choice away.
        await expect(page.getByTestId('nav-runs')).toBeHidden();
        await page.getByTestId('view-menu').click();
        await page.getByTestId('view-menu-audit').click();
        await expect(c.auditRows.first()).toBeVisible();
      } else {
        await c.nav('audit').click();
        await expect(c.auditRows.first()).toBeVisible();
      }
      await expectNoSidewaysScroll(page, 'audit');
    });
  }
}
