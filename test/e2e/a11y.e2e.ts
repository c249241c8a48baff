import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

async function seriousViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

test('the incident home, the folded header at 1024×640 and its view menu have no serious accessibility violations, in both themes', async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 640 });
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.incident('ml-training-pipeline')).toBeVisible();
  expect(await seriousViolations(page), 'home at 1024').toEqual([]);
  await page.getByTestId('view-menu').click();
  await expect(page.getByTestId('view-menu-home')).toBeFocused();
  expect(await seriousViolations(page), 'view menu open').toEqual([]);
  await page.keyboard.press('Escape');
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await seriousViolations(page), 'home at 1024, light theme').toEqual([]);
});

test('the main views have no serious accessibility violations, in both themes', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow('ml-training-pipeline');
  await c.pick(4).click();
  await c.pick(3).click();
  await expect(c.diffSummary).toBeVisible();
  expect(await seriousViolations(page), 'workflow and diff').toEqual([]);

  await expect(page.getByTestId('dsl-diff').locator('ins.diff-hl').first()).toBeVisible();
  expect(await seriousViolations(page), 'diff with the changed parts marked').toEqual([]);

  await page.getByTestId('workflow-pause-toggle').click();
  await expect(page.getByTestId('pause-confirm')).toBeFocused();
  expect(await seriousViolations(page), 'pause dialog').toEqual([]);
  await page.keyboard.press('Escape');

  await c.rollbackFrom(3).click();
  await expect(c.rollbackPreview).toBeVisible();
  expect(await seriousViolations(page), 'rollback dialog').toEqual([]);
  await page.keyboard.press('Escape');
  await expect(c.rollbackDialog).toBeHidden();

  await c.nav('runs').click();
  await c.runRows.first().click();
  await expect(c.dagNodes.first()).toBeVisible();
  expect(await seriousViolations(page), 'runs and inspector').toEqual([]);

  await c.nav('audit').click();
  await expect(c.auditRows.first()).toBeVisible();
  expect(await seriousViolations(page), 'audit log').toEqual([]);

  const runbooks = new RunbooksPage(page);
  await runbooks.open();
  await runbooks.rowNamed('Level 1').click();
  await expect(runbooks.title).toContainText('Level 1');
  expect(await seriousViolations(page), 'runbooks, rehearse panel').toEqual([]);
  await runbooks.tab('history').click();
  expect(await seriousViolations(page), 'runbook history').toEqual([]);
  await runbooks.tab('edit').click();
  expect(await seriousViolations(page), 'runbook editor').toEqual([]);

  await page.keyboard.press('Control+k');
  await expect(page.getByTestId('palette-input')).toBeFocused();
  expect(await seriousViolations(page), 'command palette').toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('palette.png') });
  await page.keyboard.press('Escape');

  await page.getByTestId('theme-toggle').click();
  await c.nav('workflows').click();
  expect(await seriousViolations(page), 'light theme').toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('light-theme.png') });
});
