import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import type { EngineBackend } from '../../main/backends/engine-backend.js';
import { localService } from '../unit/engine/real-nodes/local-service.js';
import { ConsolePage } from './pages/console-page.js';
import { SandboxLivePanel } from './pages/sandbox-live-page.js';
import { startConsole, type StartedConsole } from './support/console.js';

/*
 * A sandbox's live execution, end to end in browser mode: an http node answers its stand-in while
 * live execution is off (the local service hears nothing), then — switched on and given a secret in
 * "Live execution and secrets…" — calls the service for real with the secret in its header, while
 * the value never shows in the page again, not even in the checkpoint of the answer that echoes it.
 *
 * The console has no "start run" button nor palette command: the prepared run is started through
 * the engine before the console opens, and the runs after it are its replays from the run inspector.
 */

const WORKFLOW = 'live-inspection';
const SECRET = 'sk-live-e2e-7Qx9wZp4';
const STAND_IN = { defect_rate: 0.01, stand_in: true };

let app: StartedConsole | undefined;
let service: Awaited<ReturnType<typeof localService>> | undefined;
test.afterEach(async () => {
  await app?.close();
  await service?.close();
  app = undefined;
  service = undefined;
});

/** One http node calling the local service with the secret; offline it answers its `sandbox` stand-in. */
async function liveWorkflow(sandbox: EngineBackend, url: string): Promise<void> {
  const wf = await sandbox.call('workflows:create', {
    name: WORKFLOW,
    dsl: {
      nodes: [
        {
          id: 'inspect',
          type: 'http',
          params: { method: 'GET', url: `${url}/inspect`, headers: { Authorization: 'Bearer {{secret.API_TOKEN}}' }, output_key: 'inspection', sandbox: { output: STAND_IN } },
          next: [],
        },
      ],
    },
  });
  await sandbox.call('runs:start', { workflow_id: wf.id, wait: true });
}

/** Whether the value is anywhere in the page: its markup, or what an input holds. */
const pageHolds = (page: Page, value: string) =>
  page.evaluate((v) => document.documentElement.outerHTML.includes(v) || [...document.querySelectorAll('input, textarea')].some((e) => (e as HTMLInputElement).value.includes(v)), value);

async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).include('[data-testid="sandbox-live-dialog"]').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Replays the open run on its own version from the inspector; answers the replay's run id. */
async function replayOpenRun(c: ConsolePage, live: SandboxLivePanel): Promise<string> {
  await expect(c.inspectorStatus).toHaveText('succeeded');
  await expect(live.replayVersion).toHaveValue('1');
  await live.replaySubmit.focus();
  await c.page.keyboard.press('Enter');
  await expect(live.replayResult).toContainText('on v1: succeeded', { timeout: 20_000 });
  return (await live.replayResult.locator('.mono').first().textContent())!;
}

test('live execution and secrets: offline the stand-in answers; on, the secret reaches the service and never the page; deleted after a confirmation', async ({ page }, testInfo) => {
  service = await localService({
    '/inspect': (_req, res, seen) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ defect_rate: 0.04, echoed: seen.headers.authorization ?? null })),
  });
  const url = service.url;
  app = await startConsole({ demo: false, prepare: (s) => liveWorkflow(s, url) });
  const c = new ConsolePage(page);
  const live = new SandboxLivePanel(page);
  await c.open(app.url);

  // Offline (the default): the prepared run and its replay answer the stand-in; the service hears nothing.
  await c.nav('runs').click();
  await expect(c.runRows).toHaveCount(1);
  const prepared = (await c.runRows.first().getAttribute('data-run-id'))!;
  await c.runRow(prepared).click();
  const offline = await replayOpenRun(c, live);
  await expect(live.replayOutcomes).toHaveCount(1);
  await expect(live.replayOutcomes.first()).toHaveAttribute('data-changed', 'false');
  await expect(live.replayOutcomes.first()).toContainText('"stand_in":true');
  await c.runRow(offline).click();
  await expect(c.inspectorStatus).toHaveText('succeeded');
  await expect(c.checkpointJson).toContainText('"stand_in": true');
  expect(service.seen).toEqual([]);

  // The panel from the palette: live execution on, applied; the commands stay off.
  await page.keyboard.press('Control+k');
  await expect(live.paletteInput).toBeFocused();
  await page.keyboard.type('live execution');
  await expect(live.paletteItems).toHaveCount(1);
  await page.keyboard.press('Enter');
  await expect(live.dialog).toBeVisible();
  await expect(live.liveToggle).toBeFocused();
  await expect(live.liveToggle).not.toBeChecked();
  expect(await seriousViolations(page), 'panel, offline').toEqual([]);
  await page.keyboard.press('Space');
  await expect(live.liveToggle).toBeChecked();
  await expect(live.commandsToggle).toBeEnabled();
  await expect(live.commandsToggle).not.toBeChecked();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(live.apply).toBeFocused();
  await expect(live.apply).toHaveText('Apply: run for real');
  expect(await seriousViolations(page), 'panel, live execution about to be applied').toEqual([]);
  await page.keyboard.press('Enter');
  // Applied: the checkboxes start from what main holds now, so there is nothing left to apply, and focus stays in the panel.
  await expect(live.apply).toBeDisabled();
  await expect(live.liveToggle).toBeChecked();
  await expect(live.liveToggle).toBeFocused();
  await expect(live.commandsToggle).not.toBeChecked();

  // The secret: saved once, listed by name, its value nowhere in the page afterwards.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(live.secretName).toBeFocused();
  await page.keyboard.type('api_token');
  await expect(live.secretName).toHaveValue('API_TOKEN');
  await page.keyboard.press('Tab');
  await expect(live.secretValue).toBeFocused();
  await expect(live.secretValue).toHaveAttribute('type', 'password');
  await page.keyboard.type(SECRET);
  await expect(live.saveSecret).toHaveText('Save secret');
  await page.keyboard.press('Enter');
  await expect(live.secret('API_TOKEN')).toBeVisible();
  await expect(live.secretName).toHaveValue('');
  await expect(live.secretValue).toHaveValue('');
  await expect(live.error).toHaveCount(0);
  expect(await pageHolds(page, SECRET), 'the secret after saving').toBe(false);
  await page.screenshot({ path: testInfo.outputPath('sandbox-live-panel.png') });
  await page.keyboard.press('Escape');
  await expect(live.dialog).toBeHidden();

  // Live: the replay calls the service with the secret; the checkpoint of its answer shows it redacted.
  await c.nav('runs').click();
  await c.runRow(prepared).click();
  const real = await replayOpenRun(c, live);
  await expect(live.replayOutcomes.first()).toHaveAttribute('data-changed', 'true');
  expect(service.seen).toHaveLength(1);
  expect(service.seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(service.seen[0]!.headers['idempotency-key']).toBe(`${real}/inspect/1`);
  await c.runRow(real).click();
  await expect(c.inspectorStatus).toHaveText('succeeded');
  await expect(c.checkpointJson).toContainText('"defect_rate": 0.04');
  await expect(c.checkpointJson).toContainText('Bearer [secret:API_TOKEN]');
  await expect(c.checkpointJson).not.toContainText(SECRET);
  expect(await pageHolds(page, SECRET), 'the secret after the live run').toBe(false);
  await page.screenshot({ path: testInfo.outputPath('live-checkpoint.png') });

  // The panel from the connection's ⋯ menu: deleting asks first, Keep keeps it, Delete deletes it.
  await live.connectionMenu.focus();
  await page.keyboard.press('Enter');
  await expect(live.connectionMenuItem).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(live.dialog).toBeVisible();
  await expect(live.secret('API_TOKEN')).toBeVisible();
  await expect(live.liveToggle).toBeChecked();
  await live.deleteSecret('API_TOKEN').focus();
  await page.keyboard.press('Enter');
  await expect(live.confirmDelete('API_TOKEN')).toBeFocused();
  await expect(live.secret('API_TOKEN').getByRole('alert')).toHaveText('Delete API_TOKEN? Workflows reading it fail until it is set again.');
  expect(await seriousViolations(page), 'panel, asking to delete').toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('sandbox-live-delete.png') });
  await page.keyboard.press('Enter');
  await expect(live.secret('API_TOKEN')).toHaveCount(0);
  await expect(live.dialog).toContainText('No secrets kept for this sandbox.');
  await expect(live.error).toHaveCount(0);
  expect(await seriousViolations(page), 'panel, secret deleted').toEqual([]);
});
