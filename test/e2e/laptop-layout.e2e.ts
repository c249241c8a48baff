import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { startConsole, type StartedConsole } from './support/console.js';
import { expectFocusKept, expectNoFocusDrops, watchFocus } from './support/focus.js';

/*
 * The console fits a laptop and a big screen, in both themes: one walk of the main views per size and
 * theme (the theme is the system's, which the console follows until the operator chooses one). On
 * each view: no sideways scroll of the page, the key text is not cut (a graph node's name, a
 * timeline's change message, the diff's changed lines), the inspector stacks where it is narrow, its
 * failed node and "Copy JSON" stay in view, axe finds nothing serious, and focus is never left on
 * <body>. Screenshots land under test-results/ for review.
 */

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

const WORKFLOW = 'ml-training-pipeline';

async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).slice(0, 3).join(' | ')}`);
}

async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, client: document.scrollingElement!.clientWidth }));
  expect(scroll, `the page scrolls sideways on ${where}`).toBeLessThanOrEqual(client);
}

/** The texts among `selector` cut at their right edge (scrollWidth > clientWidth). */
async function cutTexts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => (e.textContent ?? '').trim()));
}

async function goTo(page: Page, command: string): Promise<void> {
  await page.keyboard.press('Control+k');
  await page.keyboard.type(command);
  await expect(page.getByTestId('palette-item').first()).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('palette')).toBeHidden();
}

for (const size of [
  { width: 1024, height: 640 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
]) {
  for (const theme of ['dark', 'light'] as const) {
    test(`${size.width}×${size.height}, ${theme}: every main view fits, keeps its key text whole, has no serious axe violation and never drops focus`, async ({ page }, testInfo) => {
      const shot = (name: string) => page.screenshot({ path: testInfo.outputPath(`${name}-${size.width}-${theme}.png`) });
      await page.emulateMedia({ colorScheme: theme });
      await page.setViewportSize(size);
      await watchFocus(page);
      app = await startConsole();
      const c = new ConsolePage(page);
      await c.open(app.url);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);

      // Home.
      await expect(c.incident(WORKFLOW)).toBeVisible();
      await expectNoSidewaysScroll(page, 'home');
      expect(await seriousViolations(page), 'home').toEqual([]);
      await shot('home');

      // A workflow: its timeline puts message and health on a second line, whole.
      await goTo(page, `open workflow ${WORKFLOW}`);
      await expect(page.getByTestId('workflow-title')).toHaveText(WORKFLOW);
      await expectFocusKept(page, 'opening a workflow from the palette');
      await expect(c.timelineVersion(4)).toBeVisible();
      await expectNoSidewaysScroll(page, 'workflow');
      expect(await cutTexts(page, '[data-testid="timeline-message"]'), 'timeline change messages').toEqual([]);
      expect(await cutTexts(page, '.tl-version .tl-log'), 'timeline message and health line').toEqual([]);
      await expect(c.rollbackFrom(3)).toBeInViewport({ ratio: 1 });

      // The side-by-side diff wraps its long changed lines.
      await c.pick(4).click();
      await c.pick(3).click();
      await expect(page.getByTestId('dsl-diff')).toBeVisible();
      expect(await cutTexts(page, '[data-testid="dsl-diff"] .dsl-changed .dsl-cell'), 'changed lines of the diff').toEqual([]);
      await expectNoSidewaysScroll(page, 'workflow with its diff');
      expect(await seriousViolations(page), 'workflow and diff').toEqual([]);
      await shot('workflow');

      // The failed run: the whole node names, the failed node in view, the inspector stacked where narrow, Copy JSON in view.
      await c.failedRunsButton.click();
      await expect(c.inspectorStatus).toHaveText('failed');
      const failed = c.dagNodes.and(page.locator('[data-state="failed"]'));
      await expect(failed).toHaveCount(1);
      await expect(failed).toBeInViewport({ ratio: 1 });
      expect(await cutTexts(page, '[data-testid="dag-label"]'), 'graph node names').toEqual([]);
      const cutFailedNodes = await page
        .locator('[data-testid="run-row"] .run-failed-node')
        .evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().right > e.parentElement!.getBoundingClientRect().right + 1).map((e) => e.textContent));
      expect(cutFailedNodes, 'the failed node of each run in the list').toEqual([]);
      await failed.click();
      await expect(c.checkpointJson).toContainText('"context"');
      const copy = page.getByTestId('checkpoint-json-copy');
      await copy.scrollIntoViewIfNeeded();
      await expect(copy).toBeInViewport({ ratio: 1 });
      const list = (await page.locator('.checkpoint-list').boundingBox())!;
      const state = (await page.locator('.checkpoint-state').boundingBox())!;
      if (size.width <= 1024) expect(state.y, 'the state pane stacks below the checkpoints at a laptop width').toBeGreaterThanOrEqual(list.y + list.height);
      expect(state.width, 'the state pane is wide enough to read').toBeGreaterThan(360);
      await expectNoSidewaysScroll(page, 'runs and inspector');
      expect(await seriousViolations(page), 'runs and inspector').toEqual([]);
      await shot('inspector');

      // Runbooks.
      const runbooks = new RunbooksPage(page);
      await goTo(page, 'go to runbooks');
      await expect(runbooks.rows.first()).toBeVisible();
      await expectFocusKept(page, 'going to the runbooks');
      await runbooks.rowNamed('Level 1').click();
      await expect(runbooks.title).toContainText('Level 1');
      await expectNoSidewaysScroll(page, 'runbooks');
      expect(await seriousViolations(page), 'runbooks').toEqual([]);
      await shot('runbooks');

      // The audit log, and its virtualized rows further down once scrolled into view.
      await goTo(page, 'go to audit log');
      await expect(c.auditRows.first()).toBeVisible();
      await expectFocusKept(page, 'going to the audit log');
      await expectNoSidewaysScroll(page, 'audit log');
      expect(await seriousViolations(page), 'audit log').toEqual([]);
      await page.getByTestId('audit-list').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await expect(page.locator('[data-testid="audit-row"][data-seq="1"]')).toBeVisible();
      expect(await seriousViolations(page), 'audit log scrolled to its oldest rows').toEqual([]);
      await shot('audit');

      await expectNoFocusDrops(page);
    });
  }
}
