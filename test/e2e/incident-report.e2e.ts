import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * The demo's incident as a record: "I'm on it" on its card, the rollback plan copied and attached
 * before acting, the rollback, then the post-incident report with every seed 003 field the log
 * knows filled, the human fields saved, and the report saved as a .md file.
 */

const ML = 'ml-training-pipeline';
let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

test('the demo incident: acknowledge, plan, roll back, and a report with every seed 003 field', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  const record = c.incident(ML).getByTestId('incident-record');
  await expect(record.getByTestId('incident-record-stage')).toHaveText('open');

  await record.getByTestId('incident-ack').click();
  await expect(record.getByTestId('incident-record-stage')).toHaveText('acknowledged');
  await expect(record.getByTestId('incident-record-times')).toContainText('acknowledged by');

  await record.getByTestId('incident-plan').click();
  const plan = page.getByTestId('rollback-plan-text');
  await expect(plan).toContainText('Rollback plan: ml-training-pipeline');
  await expect(plan).toContainText('Target version: v3 (the last good version)');
  await expect(plan).toContainText('Rollback scope');
  await expect(plan).toContainText('Recovery plan');
  await page.getByTestId('rollback-plan-attach').click();
  await expect(page.getByTestId('rollback-plan-attach')).toHaveText('Attached to the report');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('rollback-plan-dialog')).toBeHidden();

  await c.incidentAction(ML).click();
  await c.rollbackConfirmName.fill(ML);
  await page.keyboard.press('Enter');
  await expect(c.rollbackResult).toContainText('v4 → v3');
  await c.rollbackDone.click();
  await expect(record.getByTestId('incident-record-stage')).toHaveText('mitigated');
  await expect(record.getByTestId('incident-record-times')).toContainText('mitigated (rollback by');

  await record.getByTestId('incident-report').click();
  const report = page.getByTestId('incident-report-text');
  for (const field of [
    'Post-incident report: ml-training-pipeline v4',
    'First failure:',
    'Rollback time:',
    'Duration:',
    'Rollback reason: failure rate of v4 above 20 %',
    'Affected version: v4',
    'Recovered version: v3',
    'People involved:',
    'Root cause',
    'Trigger',
    'v4 was put forward by',
    'Diff v3 → v4',
    'Impact',
    'Response timeline',
    'Rolled back v4 → v3',
    'Preventing a recurrence',
    'Lessons learned',
    'Attached: rollback plan',
  ]) {
    await expect(report, field).toContainText(field);
  }
  await expect(report.locator('table').first()).toContainText('mitigate');

  await page.getByTestId('incident-report-root_cause').fill('The registry moved to registry-v2.internal before it was reachable.');
  await page.getByTestId('incident-report-save').click();
  await expect(page.getByTestId('incident-report-revision')).toContainText('revision 2');
  await expect(report).toContainText('The registry moved to registry-v2.internal');
  await page.screenshot({ path: testInfo.outputPath('incident-report.png') });

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('incident-report-download').click()]);
  expect(download.suggestedFilename()).toMatch(/^incident-inc-[0-9a-f]+\.md$/);
  const text = readFileSync((await download.path())!, 'utf8');
  expect(text).toContain('# Post-incident report: ml-training-pipeline v4');
  expect(text).toContain('1. **Root cause**: The registry moved to registry-v2.internal');
});
