import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';
import { expectNoFocusDrops, watchFocus } from './support/focus.js';

/*
 * The theme follows the system until the operator chooses one (and again once told to), and form
 * inputs — the backfill's date-time inputs included — look enabled in both themes: their edge stands
 * at 3:1 or more against their fill (WCAG 1.4.11), and "List the ticks" says why it waits.
 */

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

/** The contrast ratio of an input's border against its own background, as the browser computed them. */
async function edgeContrast(input: Locator): Promise<number> {
  return input.evaluate((el) => {
    const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const lum = (c: string) => {
      const [r, g, b] = rgb(c).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const style = getComputedStyle(el);
    const a = lum(style.borderTopColor);
    const b = lum(style.backgroundColor);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}

test('the theme follows the system until chosen, and again once told to', async ({ page }) => {
  await watchFocus(page);
  await page.emulateMedia({ colorScheme: 'light' });
  app = await startConsole();
  const c = new ConsolePage(page);
  const html = page.locator('html');
  await c.open(app.url);
  await expect(html).toHaveAttribute('data-theme', 'light');
  // The system changes while the console is open: it follows.
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'dark');

  // A choice holds against the system, across a reload.
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.reload();
  await expect(c.connectionState).toHaveText('connected');
  await expect(html).toHaveAttribute('data-theme', 'light');

  // Back to the system's, from the palette.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('follow the system theme');
  await page.keyboard.press('Enter');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveAttribute('data-theme', 'light');
  await expectNoFocusDrops(page);
});

for (const theme of ['dark', 'light'] as const) {
  test(`${theme}: form inputs look enabled; the backfill takes date-time inputs and says why "List the ticks" waits`, async ({ page }, testInfo) => {
    await watchFocus(page);
    await page.emulateMedia({ colorScheme: theme });
    app = await startConsole({
      prepare: async (sandbox) => {
        const wf = await sandbox.call('workflows:create', { name: 'nightly-report', dsl: { nodes: [{ id: 'report', type: 'transform', params: { set: { done: true } }, next: [] }] } });
        await sandbox.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '0 2 * * *', catchup: 'latest' });
      },
    });
    const c = new ConsolePage(page);
    await c.open(app.url);
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    expect(await edgeContrast(page.getByPlaceholder('Search workflows')), 'the workflow search box').toBeGreaterThanOrEqual(3);

    await c.openWorkflow('nightly-report');
    await page.getByTestId('schedule-backfill').click();
    const from = page.getByTestId('backfill-from');
    const to = page.getByTestId('backfill-to');
    await expect(from).toHaveAttribute('type', 'datetime-local');
    await expect(to).toHaveAttribute('type', 'datetime-local');
    for (const [name, input] of [
      ['From', from],
      ['To', to],
      ['At most in flight', page.getByTestId('backfill-max-concurrent')],
    ] as const) {
      await expect(input).toBeEnabled();
      expect(await edgeContrast(input), `the edge of ${name}`).toBeGreaterThanOrEqual(3);
    }

    const list = page.getByTestId('backfill-preview');
    await expect(list).toBeDisabled();
    await expect(list).toHaveAccessibleDescription('Pick a From and a To date and time first.');
    await from.fill('2026-11-04T00:00');
    await expect(list).toBeDisabled();
    await expect(list).toHaveAccessibleDescription('Pick a To date and time first.');
    await to.fill('2026-11-06T00:00');
    await expect(list).toBeEnabled();
    await list.click();
    await expect(page.getByTestId('backfill-tick')).toHaveText(['2026-11-04 02:00:00Z', '2026-11-05 02:00:00Z']);
    const { violations } = await new AxeBuilder({ page }).include('[data-testid="backfill-dialog"]').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
    await page.screenshot({ path: testInfo.outputPath(`backfill-${theme}.png`) });
    await page.keyboard.press('Escape');
    await expectNoFocusDrops(page);
  });
}
