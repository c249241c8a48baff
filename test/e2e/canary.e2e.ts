import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import type { EngineBackend } from '../../main/backends/engine-backend.js';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * Seed 000's canary on the demo timeline: v4's automatic rollback is marked as such, each version
 * shows its health, and a new canary (v5) runs in a band with Promote and Abort — abort asked from
 * the palette, confirmed in the band, and the workflow back on v2.
 */

const DEFECT = 'defect-rate-judgment';

let app: StartedConsole;
test.afterEach(async () => {
  await app?.close();
});

/** A second canary on the demo: v5 for 30 % of new runs, with two runs so far. */
async function runningCanary(sandbox: EngineBackend): Promise<void> {
  const wf = (await sandbox.call('workflows:list', {})).workflows.find((w) => w.name === DEFECT)!;
  const draft = await sandbox.call('versions:createDraft', { workflow_id: wf.id, change_log: 'Same rules, new sampler' });
  await sandbox.call('versions:publish', { workflow_id: wf.id, version: draft.version, canary: { percent: 30, min_runs: 50, max_failure_rate: 0.1, promote: 'manual' } }, { actor: 'mina.kim' });
  for (let i = 0; i < 2; i++) await sandbox.call('runs:start', { workflow_id: wf.id, version: draft.version, params: { defect_rate: 0.01 }, wait: true });
}

test('the canary band and per-version health on the demo timeline; an automatic rollback is marked; abort from the palette', async ({ page }, testInfo) => {
  app = await startConsole({ prepare: runningCanary });
  const c = new ConsolePage(page);
  await c.open(app.url);
  // The incident home lists the running canary.
  await expect(page.getByTestId('home-canary')).toContainText('defect-rate-judgment');
  await expect(page.getByTestId('home-canary')).toContainText('v5 (running)');
  await c.openWorkflow(DEFECT);

  const band = page.getByTestId('canary-band');
  await expect(band.getByTestId('canary-version')).toHaveText('Canary v5');
  await expect(band.getByTestId('canary-state')).toHaveText('running');
  await expect(band.getByTestId('canary-summary')).toHaveText('30 % of new runs · 2 runs · failure rate 0.0 % of 10.0 % allowed · judged from 50 runs');

  // The demo's canary v4 rolled itself back: its rollback row says so, and v4's health shows why it was judged.
  const automatic = page.locator('[data-automatic="true"]');
  await expect(automatic).toHaveCount(1);
  await expect(automatic).toContainText('Automatic rollback v4 → v2');
  await expect(automatic).toContainText('policy:canary');
  const v4Health = c.timelineVersion(4).getByTestId('timeline-health');
  await expect(v4Health).toHaveAttribute('data-runs', '5');
  await expect(v4Health).toHaveAttribute('title', /5 finished runs, 0 failed \(0 %\).*verdict warning: 5/);
  await expect(c.timelineVersion(5).getByTestId('timeline-health')).toHaveAttribute('data-runs', '2');
  await expect(c.timelineVersion(2).getByTestId('timeline-health')).toHaveAttribute('title', /verdict pass: \d+/);
  await page.screenshot({ path: testInfo.outputPath('canary-band.png') });
  const { violations } = await new AxeBuilder({ page }).include('[data-testid="workflow-view"]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

  // Promote is asked first; keeping it running changes nothing.
  await band.getByTestId('canary-promote').click();
  await expect(band.getByTestId('canary-confirm')).toContainText('Promote v5: it becomes the active version for every new run, and v2 is deprecated.');
  await band.getByTestId('canary-confirm-no').click();
  await expect(band.getByTestId('canary-confirm')).toHaveCount(0);

  // From the palette: abort, confirmed in the band.
  await page.keyboard.press('Control+k');
  await page.getByTestId('palette-input').fill('abort canary');
  await expect(page.getByTestId('palette-item').first()).toHaveText(/Abort canary of defect-rate-judgment \(v5\), roll back to v2/);
  await page.keyboard.press('Enter');
  const yes = band.getByTestId('canary-confirm-yes');
  await expect(yes).toBeFocused();
  await expect(yes).toHaveText('Abort and roll back to v2');
  await page.keyboard.press('Enter');
  await expect(band).toHaveCount(0);
  await expect(page.getByTestId('workflow-active-version')).toHaveText('active v2');
  await expect(c.timelineVersion(5)).toHaveAttribute('data-status', 'deprecated');
  // The operator's rollback is a person's: not marked automatic.
  await expect(page.locator('[data-testid="timeline-rollback"]', { hasText: 'Rolled back v5 → v2' })).toHaveCount(1);
  await expect(automatic).toHaveCount(1);
});
