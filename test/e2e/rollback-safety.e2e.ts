import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * Rollback safety on the demo sandbox (ml-training-pipeline: v4 active and failing, v3 its last good
 * version, an old v2 failure six days ago): the rollback to v3 takes the usual two clicks plus the
 * name and lists only the incident window's failed run as resumable; its result resumes it in one
 * click; afterwards the v4 row says "Make v4 active again", and doing so warns that v4 is bad and
 * asks for its version number too.
 */

const ML = 'ml-training-pipeline';
let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

test('roll back, resume from the result, and a warned "make the bad version active again"', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(ML);

  // The normal case: click the row's Roll back, type the name, Enter — no version asked off production.
  await expect(c.rollbackFrom(3)).toHaveText('Roll back');
  await c.rollbackFrom(3).click();
  await expect(c.rollbackPreview).toBeVisible();
  await expect(page.getByTestId('rollback-target-warning')).toHaveCount(0);
  await expect(c.rollbackConfirmVersion).toHaveCount(0);
  // Only the failure of the incident window: not the six-day-old v2 run.
  const resumable = page.getByTestId('rollback-resumable-run');
  await expect(resumable).toHaveCount(1);
  await expect(resumable).toContainText('(v4');
  await expect(c.rollbackPreview).toContainText('Failed or interrupted in the last 24 hours (1)');
  await c.rollbackConfirmName.fill(ML);
  await page.keyboard.press('Enter');
  await expect(c.rollbackResult).toBeVisible();

  // The result offers Resume for the resumable run, on the version rolled back to.
  const resume = c.rollbackResult.getByTestId('rollback-resume-run');
  await expect(resume).toHaveText('Resume on v3');
  await resume.click();
  await expect(c.rollbackResult.getByTestId('rollback-resumed-child')).toHaveText(/^Resumed as /);
  await page.screenshot({ path: testInfo.outputPath('rollback-result-resumed.png') });
  await c.rollbackDone.click();

  // The v4 row is now the forward action, named so; it is marked bad, and doing it warns and asks for v4.
  const forward = c.rollbackFrom(4);
  await expect(forward).toHaveText('Make v4 active again');
  await expect(forward).toHaveAttribute('data-direction', 'forward');
  await forward.click();
  await expect(c.rollbackDialog.getByRole('heading', { level: 2 })).toHaveText(`Make v4 of ${ML} active again`);
  const warning = page.getByTestId('rollback-target-warning');
  await expect(warning).toContainText('v4 is marked bad.');
  await expect(warning).toContainText('v4 failed 1 of its 1 finished runs (100 %, above the 20 % threshold)');
  await c.rollbackConfirmName.fill(ML);
  await expect(c.rollbackSubmit).toBeDisabled();
  await c.rollbackConfirmVersion.fill('v4');
  await expect(c.rollbackSubmit).toBeEnabled();
  await expect(c.rollbackSubmit).toHaveText('Make v4 active again');
  await page.screenshot({ path: testInfo.outputPath('rollback-onto-bad-version.png') });
  await page.keyboard.press('Escape');
  await expect(c.rollbackDialog).toBeHidden();
});
