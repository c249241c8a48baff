import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * No false alarm: after the console's own "Reset sandbox to the demo" — the operator had worked
 * past where a fresh demo ends — no red tamper banner appears, nor after a reload; the reset is in
 * the new log. (A truncation by another process is still caught: test/integration/tamper/sandbox-reset.test.ts.)
 */

let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

test("the console's own sandbox reset raises no tamper alarm, now or after a reload, and is recorded", async ({ page }, testInfo) => {
  app = await startConsole({
    prepare: async (sandbox) => {
      // Past where a fresh demo's log ends, so the verified head is beyond anything the new log has.
      for (let i = 0; i < 30; i++) await sandbox.call('workflows:create', { name: `operator-made-${i}`, dsl: { nodes: [{ id: 'a', type: 'task', params: {}, next: [] }], defaults: {} } });
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await expect(c.workflowRow('operator-made-0')).toBeVisible();
  await expect(page.getByTestId('alarm-banner')).toHaveCount(0);

  await page.getByTestId('connection-menu').click();
  await page.getByTestId('connection-menu-resetSandbox').click();
  await page.getByTestId('reset-sandbox-confirm').click();
  await expect(page.getByTestId('reset-sandbox-dialog')).toBeHidden();
  await expect(c.workflowRow('operator-made-0')).toHaveCount(0);
  await expect(page.getByTestId('alarm-banner')).toHaveCount(0);

  await page.reload();
  await expect(c.connectionState).toHaveText('connected');
  await expect(c.workflowsWithFailures).toHaveCount(1);
  await expect(page.getByTestId('alarm-banner')).toHaveCount(0);

  // The reset is in the new log.
  await c.nav('audit').click();
  await expect(c.auditRows.filter({ hasText: 'Sandbox reset to the demo' })).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath('after-reset-no-alarm.png') });
});
