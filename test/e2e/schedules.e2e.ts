import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

const WORKFLOW = 'nightly-report';

test('backfill: the dialog lists the ticks first, a changed range asks again, and the runs appear with their trigger', async ({ page }, testInfo) => {
  app = await startConsole({
    prepare: async (sandbox) => {
      const wf = await sandbox.call('workflows:create', {
        name: WORKFLOW,
        dsl: { nodes: [{ id: 'report', type: 'transform', params: { set: { done: true } }, next: [] }] },
      });
      await sandbox.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '0 2 * * *', catchup: 'latest' });
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(WORKFLOW);

  // The schedule line: its cron, its policy and the next three fire times.
  await expect(page.getByTestId('schedule-expression')).toHaveText('0 2 * * *');
  await expect(page.getByTestId('schedule-policy')).toHaveText('catch-up latest');
  await expect(page.getByTestId('schedule-next-time')).toHaveCount(3);

  await page.getByTestId('schedule-backfill').click();
  const dialog = page.getByTestId('backfill-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('backfill-from')).toBeFocused();
  // Date-time inputs; "List the ticks" says why it waits.
  await expect(page.getByTestId('backfill-from')).toHaveAttribute('type', 'datetime-local');
  await expect(page.getByTestId('backfill-preview')).toBeDisabled();
  await expect(page.getByTestId('backfill-preview')).toHaveAccessibleDescription('Pick a From and a To date and time first.');
  await page.getByTestId('backfill-from').fill('2026-11-01T00:00');
  await page.getByTestId('backfill-to').fill('2026-11-04T00:00');
  // Nothing can start before the ticks are shown.
  await expect(page.getByTestId('backfill-confirm')).toHaveCount(0);
  await page.getByTestId('backfill-preview').click();
  await expect(page.getByTestId('backfill-tick')).toHaveText(['2026-11-01 02:00:00Z', '2026-11-02 02:00:00Z', '2026-11-03 02:00:00Z']);
  await expect(page.getByTestId('backfill-confirm')).toHaveText('Start 3 runs');
  await page.screenshot({ path: testInfo.outputPath('backfill-preview.png') });

  // Another range: the listed ticks were for the old one, so they go, and the start with them.
  await page.getByTestId('backfill-to').fill('2026-11-03T00:00');
  await expect(page.getByTestId('backfill-tick')).toHaveCount(0);
  await expect(page.getByTestId('backfill-confirm')).toHaveCount(0);
  await page.getByTestId('backfill-preview').click();
  await expect(page.getByTestId('backfill-tick')).toHaveCount(2);
  // One at a time: the first starts now, the second as soon as the first ends.
  await page.getByTestId('backfill-max-concurrent').fill('1');
  await page.getByTestId('backfill-confirm').click();
  await expect(page.getByTestId('backfill-result')).toHaveText(
    'Started 1 backfill run; 1 pending, each starting as an earlier one ends (at most 1 at once); they appear in Runs.',
  );
  await page.getByTestId('backfill-done').click();
  await expect(dialog).toHaveCount(0);

  // Again over a wider range: the two that ran are marked, and only the rest would start.
  await page.getByTestId('schedule-backfill').click();
  await page.getByTestId('backfill-from').fill('2026-11-01T00:00');
  await page.getByTestId('backfill-to').fill('2026-11-04T00:00');
  await page.getByTestId('backfill-preview').click();
  await expect(page.locator('[data-testid="backfill-tick"][data-already="true"]')).toHaveCount(2);
  await expect(page.getByTestId('backfill-summary')).toHaveText('3 ticks in range; 1 would start a run, 2 ran already.');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  // The runs list shows each run's trigger and the tick it stands for.
  await page.getByTestId('workflow-runs').click();
  await expect(c.runRows).toHaveCount(2);
  await expect(page.getByTestId('run-trigger')).toHaveCount(2);
  await expect(page.getByTestId('run-trigger').first()).toContainText('backfill');
});

test('a bad range is refused in the dialog with its hint, and nothing starts', async ({ page }) => {
  app = await startConsole({
    prepare: async (sandbox) => {
      const wf = await sandbox.call('workflows:create', { name: WORKFLOW, dsl: { nodes: [{ id: 'report', type: 'transform', params: {}, next: [] }] } });
      await sandbox.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '* * * * *' });
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(WORKFLOW);
  await page.getByTestId('schedule-backfill').click();
  await page.getByTestId('backfill-from').fill('2026-11-04T00:00');
  await page.getByTestId('backfill-to').fill('2026-11-01T00:00');
  await page.getByTestId('backfill-preview').click();
  await expect(page.getByTestId('backfill-error')).toContainText('from earlier than to');
  await page.getByTestId('backfill-to').fill('2026-12-01T00:00');
  await page.getByTestId('backfill-preview').click();
  await expect(page.getByTestId('backfill-error')).toContainText('more than 1000 ticks');
  await expect(page.getByTestId('backfill-confirm')).toHaveCount(0);
});
