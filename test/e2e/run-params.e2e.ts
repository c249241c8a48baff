import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import type { EngineBackend } from '../../main/backends/engine-backend.js';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * Run now on a workflow that declares its run params (issue 20): the console asks for them in a
 * form built from the declarations, shows the sandbox's refusal with its hint, and starts the run
 * with the values typed — all by keyboard.
 */

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

const NAME = 'ship-orders';

async function declaredWorkflow(sandbox: EngineBackend): Promise<void> {
  await sandbox.call('workflows:create', {
    name: NAME,
    dsl: {
      params: { order_id: { type: 'string', required: true, description: 'The order to ship, e.g. o-1042.' }, batch: { type: 'integer', default: 1 } },
      nodes: [{ id: 'ship', type: 'transform', params: { copy: { 'shipped.order': 'order_id', 'shipped.batch': 'batch' } }, next: [] }],
    },
  });
}

test('Run now asks for the declared params, shows a refusal with its hint, and starts with the values typed', async ({ page }, testInfo) => {
  app = await startConsole({ prepare: declaredWorkflow });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(NAME);

  await page.getByTestId('workflow-start-run').click();
  const dialog = page.getByTestId('run-params-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('run-param-order_id')).toBeFocused();
  await expect(page.getByTestId('run-param-batch')).toHaveValue('1');
  const { violations } = await new AxeBuilder({ page }).include('[data-testid="run-params-dialog"]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

  // Started without the required param: the sandbox refuses, the form says why and what to do.
  await page.keyboard.press('Enter');
  const refusal = page.getByTestId('run-params-error');
  await expect(refusal).toHaveAttribute('data-code', 'MISSING_PARAM');
  await expect(page.getByTestId('run-params-error-hint')).toContainText('--param order_id=…');
  await page.screenshot({ path: testInfo.outputPath('run-params-refused.png') });

  await page.getByTestId('run-param-order_id').fill('o-1042');
  await page.getByTestId('run-param-batch').fill('3');
  await page.getByTestId('run-param-batch').press('Enter');
  await expect(dialog).toBeHidden();
  await expect(c.inspector).toBeVisible();
  await expect(page.getByTestId('inspector-status')).toHaveText('succeeded');
  await expect(c.toasts.filter({ hasText: `Started a run of ${NAME} on v1` })).toBeVisible();
});
