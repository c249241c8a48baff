import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * Rehearsals time the operator: paced (the default) waits at each step for the operator's go — the
 * action, the check, the checklist — and the clock counts that wait; the history says "paced". A
 * scenario on a sandbox already fixed offers to reset to the demo first instead of refusing, and the
 * rehearsal then runs on a fresh demo copy, the operator's sandbox left as it was.
 */

const ML = 'ml-training-pipeline';
let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

/** "2.4 s", "1 min 3 s", "800 ms" back to milliseconds. */
function ms(text: string): number {
  const m = /(?:(\d+) min)?\s*(?:([\d.]+) s)?\s*(?:(\d+) ms)?/.exec(text.trim())!;
  return Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
}

test('a paced rehearsal waits for the operator at every step and times them; the history labels it paced', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  const runbooks = new RunbooksPage(page);
  await c.open(app.url);
  await runbooks.open();
  await runbooks.rowNamed('Level 1').click();
  await runbooks.tab('rehearse').click();
  await expect(runbooks.pace).toHaveValue('paced');
  await runbooks.rehearse('Level 1', '0.01');
  await expect(page.getByTestId('rehearsal-pace')).toHaveText('paced');

  await runbooks.confirmWithEnter();
  // The rollback waits for the operator's go, named for what it does; its timer runs meanwhile.
  await expect(runbooks.currentStep).toContainText('Roll back to the previous version', { timeout: 30_000 });
  await expect(runbooks.confirm).toContainText('Do it');
  await expect(runbooks.stepTimer).toHaveText(/^0:0[2-9]$/, { timeout: 10_000 });
  await page.screenshot({ path: testInfo.outputPath('paced-action-waits.png') });
  await runbooks.confirmWithEnter();
  await expect(runbooks.currentStep).toContainText('Resume the failed run', { timeout: 30_000 });
  await runbooks.confirmWithEnter();
  await expect(runbooks.currentStep).toContainText('A fresh run succeeds', { timeout: 30_000 });
  await expect(runbooks.confirm).toContainText('Check now');
  await runbooks.confirmWithEnter();
  await expect(runbooks.currentStep).toContainText('Failure rate below 20 %', { timeout: 30_000 });
  await runbooks.confirmWithEnter();
  await expect(runbooks.currentStep).toContainText('After the rollback', { timeout: 30_000 });
  await runbooks.confirmWithEnter();
  await expect(runbooks.result).toHaveAttribute('data-passed', 'true', { timeout: 30_000 });

  // The rollback step's time is the operator's: at least the two seconds it waited for the go.
  const rollbackStep = runbooks.steps.nth(1);
  const took = ms((await rollbackStep.locator('.step-time .mono').first().textContent()) ?? '');
  expect(took).toBeGreaterThanOrEqual(2000);
  await expect(page.getByTestId('rehearsal-automatic-note')).toHaveCount(0);

  await runbooks.tab('history').click();
  await expect(runbooks.pacesInHistory).toHaveText(['paced']);
  await page.screenshot({ path: testInfo.outputPath('paced-history.png') });
});

test('a scenario on an already-fixed sandbox offers to reset to the demo first, then rehearses on a fresh demo copy', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  const runbooks = new RunbooksPage(page);
  await c.open(app.url);
  // Someone fixed the sandbox: the ML pipeline rolled back to v3.
  await c.openWorkflow(ML);
  await c.rollBack(ML, 3);
  await expect(c.rollbackResult).toBeVisible();
  await c.rollbackDone.click();

  await runbooks.open();
  await runbooks.rowNamed('Level 1').click();
  await runbooks.tab('rehearse').click();
  await runbooks.timeScale.selectOption('0');
  await runbooks.pace.selectOption('automatic');
  await runbooks.start.click();
  await expect(runbooks.resetOffer).toContainText('ml-training-pipeline runs v3, not its newest v4: it was rolled back already');
  await expect(runbooks.resetOffer).toContainText('fresh demo copy, and your sandbox stays as it is');
  await expect(runbooks.resetFirst).toBeFocused();
  await page.screenshot({ path: testInfo.outputPath('reset-offer.png') });
  await page.keyboard.press('Enter');
  await expect(runbooks.run).toBeVisible();
  await runbooks.confirmWithEnter();
  await expect(runbooks.currentStep).toContainText('After the rollback', { timeout: 60_000 });
  await runbooks.confirmWithEnter();
  await expect(runbooks.result).toHaveAttribute('data-passed', 'true', { timeout: 30_000 });
  await expect(page.getByTestId('rehearsal-automatic-note')).toContainText('times the machine, not an operator');

  // The operator's sandbox is as they left it: still on v3.
  await c.openWorkflow(ML);
  await expect(c.activeVersion).toContainText('v3');
  await runbooks.open();
  await runbooks.tab('history').click();
  await expect(runbooks.pacesInHistory).toHaveText(['automatic (CI)']);
});
