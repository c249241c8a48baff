import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { RemoteBackend } from '../../main/backends/remote/index.js';
import { snapshotServer } from '../../main/snapshots/snapshot.js';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';
import { expectNoFocusDrops, watchFocus } from './support/focus.js';

/*
 * A viewer's console and a snapshot say what is true: no action is offered that the server will
 * refuse — Replay, Resume and the timeline's rollbacks are disabled with the reason as their
 * accessible description, and the palette lists forbidden commands disabled with that reason — and
 * in a snapshot the times are relative to the snapshot and every action says it acts on this copy.
 */

const WORKFLOW = 'ml-training-pipeline';
let app: StartedConsole;
let server: StartedServer | null = null;
let dir: string | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

/** Disabled buttons on screen whose accessible description (aria-describedby) is missing or empty. */
async function undescribedDisabledButtons(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLButtonElement>('#main button:disabled')]
      .filter((b) => {
        const ids = (b.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
        return !ids.some((id) => (document.getElementById(id)?.textContent ?? '').trim() !== '');
      })
      .map((b) => b.getAttribute('data-testid') ?? b.textContent ?? '?'),
  );
}

test('a viewer: Replay, Resume and the rollbacks are disabled with the reason; the palette lists them disabled, with the reason', async ({ page }, testInfo) => {
  await watchFocus(page);
  server = await startWorkflowServer();
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.addServer({ name: 'prod (viewer)', url: server.url, token: server.viewerToken, environment: 'production' });
  await expect(c.connectionRole).toHaveText('viewer');

  // The timeline: each row's Roll back is disabled, described by the reason said once above the rows.
  await c.openWorkflow(WORKFLOW);
  await expect(c.rollbackFrom(3)).toBeDisabled();
  expect(await undescribedDisabledButtons(page), 'disabled buttons of the workflow view without a reason').toEqual([]);
  await expect(c.rollbackFrom(3)).toHaveAccessibleDescription(/a viewer's: it may read, not roll back/);
  await expect(page.getByTestId('timeline-note')).toContainText("Your token is a viewer's");

  // The failed run: Replay and Resume are disabled, each with why.
  await c.failedRunsButton.click();
  await expect(c.inspectorStatus).toHaveText('failed');
  const replay = page.getByTestId('replay-submit');
  await expect(replay).toBeDisabled();
  await expect(replay).toHaveAccessibleDescription(/not replay runs/);
  await expect(page.getByTestId('replay-submit-reason')).toBeVisible();
  await expect(c.resumeSubmit).toBeDisabled();
  await expect(c.resumeSubmit).toHaveAccessibleDescription(/not resume runs/);
  await page.screenshot({ path: testInfo.outputPath('viewer-inspector.png') });
  expect(await undescribedDisabledButtons(page), 'disabled buttons of the run inspector without a reason').toEqual([]);

  // The palette lists the forbidden commands, disabled, with the reason; Enter on one runs nothing.
  await page.keyboard.press('Control+k');
  await page.keyboard.type('replay');
  const item = page.getByTestId('palette-item').first();
  await expect(item).toHaveAttribute('aria-disabled', 'true');
  await expect(item).toHaveAccessibleDescription(/not replay runs/);
  await expect(item.getByTestId('palette-item-reason')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('viewer-palette.png') });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('palette-input')).toBeFocused();
  await expect(page.getByTestId('replay-result')).toHaveCount(0);
  await page.keyboard.press('Escape');

  await c.nav('workflows').click();
  await page.keyboard.press('Control+k');
  await page.keyboard.type(`roll back ${WORKFLOW}`);
  await expect(page.getByTestId('palette-item').first()).toHaveAttribute('aria-disabled', 'true');
  await expect(page.getByTestId('palette-item').first()).toHaveAccessibleDescription(/not roll back/);
  await page.keyboard.press('Escape');
  await expectNoFocusDrops(page);
});

test('a snapshot: times are relative to the snapshot, and every action says it acts on this copy', async ({ page }, testInfo) => {
  await watchFocus(page);
  server = await startWorkflowServer();
  app = await startConsole();
  dir = await mkdtemp(join(tmpdir(), 'rewind-e2e-copy-'));
  const path = join(dir, 'copy.db');
  const remote = new RemoteBackend({ url: server.url, token: server.adminToken, retries: 1, timeoutMs: 10_000 });
  try {
    await snapshotServer({ backend: remote, sourceUrl: server.url, path, runs: 200 });
  } finally {
    await remote.close();
  }

  const c = new ConsolePage(page);
  await c.open(app.url);
  await page.keyboard.press('Control+k');
  await page.keyboard.type('open sandbox file');
  await page.keyboard.press('Enter');
  await page.getByTestId('open-sandbox-path').fill(path);
  await page.getByTestId('open-sandbox-submit').click();
  await expect(page.getByTestId('snapshot-banner')).toBeVisible();

  // Home: each time is read against the snapshot, not the wall clock.
  await expect(c.incident(WORKFLOW)).toBeVisible();
  const last = c.incident(WORKFLOW).getByTestId('incident-last');
  await expect(last).toHaveText(/(before|at) the snapshot$/);
  await expect(c.home).not.toContainText(/\bago\b|just now/);
  await page.screenshot({ path: testInfo.outputPath('snapshot-home.png') });

  // The workflow: Run now, Pause and every rollback act on this copy, and say so.
  await c.openWorkflow(WORKFLOW);
  await expect(page.getByTestId('workflow-start-run')).toContainText('on this copy');
  await expect(page.getByTestId('workflow-pause-toggle')).toContainText('on this copy');
  await expect(c.rollbackFrom(3)).toContainText('on this copy');
  await expect(c.rollbackFrom(3)).toHaveAccessibleDescription(/act on this copy \(a snapshot\), never on the server/);
  await page.screenshot({ path: testInfo.outputPath('snapshot-workflow.png') });
  await c.rollbackFrom(3).click();
  await expect(c.rollbackPreview).toBeVisible();
  await expect(c.rollbackSubmit).toContainText('on this copy');
  await page.keyboard.press('Escape');

  // The failed run: Resume and Replay too.
  await c.failedRunsButton.click();
  await expect(c.inspectorStatus).toHaveText('failed');
  await expect(c.resumeSubmit).toContainText('on this copy');
  await expect(page.getByTestId('replay-submit')).toContainText('on this copy');
  await expectNoFocusDrops(page);
});
