import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { BIG_WORKFLOW, seedBigTimeline } from './support/big-timeline.js';
import { startConsole, type StartedConsole } from './support/console.js';

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

test('a 10,000-version timeline scrolls and selects', async ({ page }, testInfo) => {
  app = await startConsole({ demo: false, prepare: (s) => seedBigTimeline(s) });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(BIG_WORKFLOW);
  await expect(page.getByTestId('timeline-count')).toHaveText('10000 versions');
  await expect(c.timelineVersion(10000)).toBeVisible();
  // Virtualized: only the rows in view exist.
  expect(await page.locator('[data-testid="timeline"] [role="listitem"]').count()).toBeLessThan(80);

  // Keyboard: End jumps to the oldest version, which is then picked with Space.
  await c.pick(10000).focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('End');
  await expect(c.timelineVersion(1)).toBeVisible();
  await expect(c.pick(1)).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('timeline-picked')).toHaveText('Picked v10000, v1');
  await expect(c.diffSummary).toContainText('changed extract');

  // The mouse wheel scrolls through the middle.
  await page.keyboard.press('Home');
  await expect(c.timelineVersion(10000)).toBeVisible();
  await c.timeline.hover();
  for (let i = 0; i < 20; i++) await page.mouse.wheel(0, 4000);
  await expect(c.timelineVersion(10000)).toHaveCount(0);
  await expect(page.locator('[data-testid="timeline-version"]').first()).toBeVisible();
  await page.keyboard.press('Escape');
  await page.screenshot({ path: testInfo.outputPath('timeline-10k.png') });
});
