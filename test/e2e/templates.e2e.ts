import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { TemplateDialog } from './pages/template-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

test('New workflow from template: a form built from the parameter schema; refusals name the parameters; the workflow is created and opened', async ({ page }, testInfo) => {
  app = await startConsole({ demo: false });
  const c = new ConsolePage(page);
  const t = new TemplateDialog(page);
  await c.open(app.url);

  await t.openButton.click();
  await expect(t.dialog).toBeVisible();
  await t.select.selectOption('etl-pipeline');
  await expect(t.description).toContainText('Extracts a partition');
  // One field per parameter, typed and prefilled from the schema.
  await expect(t.param('source_table')).toHaveAttribute('type', 'text');
  await expect(t.param('source_table')).toHaveAttribute('aria-required', 'true');
  await expect(t.param('min_rows')).toHaveAttribute('type', 'number');
  await expect(t.param('min_rows')).toHaveValue('1');
  await expect(t.param('partition')).toHaveValue('yesterday');
  await expect(t.params).toContainText('Fewer aggregated rows than this');

  // The ML template's boolean parameter is a checkbox, checked by its default.
  await t.select.selectOption('ml-training-pipeline');
  await expect(t.param('validate_schema')).toBeChecked();
  await t.select.selectOption('etl-pipeline');

  // Missing required values: refused, naming each; nothing created.
  await t.workflowName.fill('orders-nightly');
  await t.create.click();
  await expect(t.error).toContainText('source_table is required');
  await expect(t.error).toContainText('target_table is required');
  await expect(c.workflowRow('orders-nightly')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('template-refused.png') });

  await t.param('source_table').fill('orders_db.orders');
  await t.param('target_table').fill('warehouse.orders_daily');
  await t.param('min_rows').fill('10');
  await t.create.click();
  await expect(t.dialog).toHaveCount(0);
  await expect(c.workflowRow('orders-nightly')).toBeVisible();
  await expect(c.workflowRow('orders-nightly')).toHaveAttribute('aria-current', 'true');
  await expect(c.activeVersion).toContainText('1');
  await expect(page.getByTestId('workflow-template')).toHaveText('from template etl-pipeline v1');
});
