import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * The incident card says what broke and who shipped it: the newest error line, who published the
 * bad version and when. A canary whose policy already rolled it back is no longer "Failing now": it
 * is listed under "Recently rolled back" with what the policy did, and its failed canary runs are
 * not offered for resume on the old version.
 */

const ML = 'ml-training-pipeline';
const CANARY = 'payments-canary';
let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
});

test('the card names the error line and who published the bad version; a canary rolled back by its policy moves to "Recently rolled back"', async ({ page }, testInfo) => {
  app = await startConsole({
    prepare: async (sandbox) => {
      // v1 stable and healthy; v2 as a canary for half the runs, each of which fails: the policy rolls it back.
      const ok = { nodes: [{ id: 'charge', type: 'task' as const, params: { duration_ms: 0 }, next: [] }], defaults: {} };
      const broken = { nodes: [{ id: 'charge', type: 'task' as const, params: { duration_ms: 0, failure_rate: 1, error: 'card processor answered 502' }, next: [] }], defaults: {} };
      const wf = await sandbox.call('workflows:create', { name: CANARY, dsl: ok }, { actor: 'ana' });
      await sandbox.call('versions:createDraft', { workflow_id: wf.id, dsl: broken, change_log: 'new card processor' }, { actor: 'bo.admin' });
      await sandbox.call('versions:publish', { workflow_id: wf.id, version: 2, canary: { percent: 50, min_runs: 2, max_failure_rate: 0.3, promote: 'manual' } }, { actor: 'bo.admin' });
      for (let i = 0; i < 60 && (await sandbox.call('workflows:get', { workflow_id: wf.id })).canary; i++) await sandbox.call('runs:start', { workflow_id: wf.id, wait: true });
    },
  });
  const c = new ConsolePage(page);
  await c.open(app.url);

  // The ML pipeline: still failing now, its error line and who published v4.
  const ml = c.incident(ML);
  await expect(ml.getByTestId('incident-error')).toContainText('deploy:');
  await expect(ml.getByTestId('incident-error')).toContainText('connection refused');
  await expect(ml.getByTestId('incident-published')).toHaveText(/^v4 published by \S+ \d+ (d|h|min) ago$/);
  await expect(page.getByTestId('home-section-failing').getByTestId('incident-item')).toHaveCount(1);

  // The canary: under "Recently rolled back", with what the policy did; no resume offered for its runs.
  const section = page.getByTestId('home-section-rolled-back');
  await expect(section.getByRole('heading')).toContainText('Recently rolled back');
  const card = c.incident(CANARY);
  await expect(card).toHaveAttribute('data-rolled-back', 'true');
  await expect(card.getByTestId('incident-policy')).toContainText('policy:canary rolled v2 back to v1: failure rate 100.0 % over 2 runs broke the limit of 30.0 %');
  await expect(card.getByTestId('incident-published')).toHaveText(/^v2 put forward by bo\.admin /);
  await expect(card.getByTestId('incident-error')).toHaveText('charge: card processor answered 502');
  await expect(card.getByTestId('incident-action')).toHaveText('Open the failing run');
  await expect(card.getByTestId('incident-action')).toHaveAttribute('data-action', 'open-run');
  await page.screenshot({ path: testInfo.outputPath('incident-cards.png') });

  await page.keyboard.press('Control+k');
  await page.keyboard.type(`resume ${CANARY}`);
  await expect(page.getByTestId('palette-item')).toHaveCount(0);
  await page.keyboard.press('Escape');
});
