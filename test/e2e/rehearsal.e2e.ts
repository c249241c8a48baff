import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { RunbooksPage } from './pages/runbooks-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * The rehearsal story: open Runbooks on a fresh demo sandbox → rehearse seed 003's level 1 under its
 * scenario with fast waits → watch the step timer run and confirm the checklists from the keyboard →
 * it passes → the history chart gains its point → read the report.
 */

let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

test('rehearse a sample runbook end to end: timer, confirmations, pass, history, report', async ({ page }, testInfo) => {
  app = await startConsole();
  const console_ = new ConsolePage(page);
  const runbooks = new RunbooksPage(page);
  await console_.open(app.url);
  await runbooks.open();

  // The samples for seed 003's four levels and its emergency procedure are there, each with its plan.
  await expect(runbooks.rows).toHaveCount(5);
  const level1 = runbooks.rowNamed('Level 1');
  await expect(level1.getByTestId('runbook-level')).toHaveText('application');
  await expect(level1.getByTestId('runbook-plan')).toContainText('target 5–10 min');
  await level1.click();
  await expect(runbooks.title).toContainText('Level 1');

  // Not rehearsed yet: the history is empty.
  await runbooks.tab('history').click();
  await expect(page.getByTestId('rehearsal-history')).toContainText('Not rehearsed yet');
  await page.screenshot({ path: testInfo.outputPath('runbooks.png') });

  await runbooks.tab('rehearse').click();
  await expect(runbooks.scenario).toHaveValue('ml-registry-outage');
  // Automatic, as CI rehearses: only the checklists wait for a person (paced-rehearsal.e2e.ts walks the paced one).
  await runbooks.rehearse('Level 1', '0.01', 'automatic');

  // The first checklist waits for a person: its timer ticks, and what comes next is shown.
  await expect(runbooks.confirmation).toBeVisible({ timeout: 30_000 });
  await expect(runbooks.currentStep).toContainText('Before rolling back');
  await expect(runbooks.next).toContainText('Roll back to the previous version');
  await expect(runbooks.stepTimer).toHaveText(/^0:0[2-9]$/, { timeout: 5_000 });
  await expect(runbooks.elapsed).not.toHaveText('0:00');
  await page.screenshot({ path: testInfo.outputPath('rehearsal-running.png') });
  await runbooks.confirmWithEnter();

  // Rollback, resume and health checks run against the sandbox; the last checklist asks again.
  await expect(runbooks.steps.nth(0)).toHaveAttribute('data-state', 'passed');
  await expect(runbooks.currentStep).toContainText('After the rollback', { timeout: 60_000 });
  await expect(runbooks.steps.filter({ has: page.locator('[data-testid="step-outcome"]') })).toHaveCount(5);
  await runbooks.confirmWithEnter();

  await expect(runbooks.result).toHaveAttribute('data-passed', 'true', { timeout: 30_000 });
  await expect(page.getByTestId('rehearsal-verdict')).toHaveText('PASSED');
  await expect(runbooks.steps.and(page.locator('[data-state="failed"]'))).toHaveCount(0);

  // The report, from the end of the rehearsal.
  await runbooks.reportLink.click();
  await expect(runbooks.report).toContainText('Level 1');
  await expect(runbooks.report).toContainText('ml-training-pipeline');
  // The steps table renders as a table (rows of cells), not as lines of pipes.
  const steps = runbooks.report.getByTestId('report-table').filter({ has: page.locator('th', { hasText: 'Outcome' }) });
  await expect(steps.locator('tbody tr').first()).toBeVisible();
  await expect(runbooks.report).not.toContainText('| ---');
  await expect(page.getByTestId('report-download')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('rehearsal-report.png') });
  await page.keyboard.press('Escape');
  await expect(runbooks.reportDialog).toBeHidden();

  // The history chart has gained the point, marked passed, with the plan as a reference line.
  await runbooks.tab('history').click();
  await expect(runbooks.points).toHaveCount(1);
  await expect(runbooks.points.first()).toHaveAttribute('data-passed', 'true');
  // A horizontal line has no height, so Playwright calls it hidden: check it is drawn instead.
  await expect(page.getByTestId('history-plan-line')).toBeAttached();
  await expect(runbooks.historyRows).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath('rehearsal-history.png') });
});
