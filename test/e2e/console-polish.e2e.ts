import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * The on-call console's smaller promises, as an operator sees them: Pause asks and can be undone, a
 * publish is one timeline row, a diff marks what changed, runs waiting for approval are counted and
 * answered from the palette, real nodes are marked in the run graph, and browser mode downloads a
 * snapshot as a file.
 */

let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

const WORKFLOW = 'ml-training-pipeline';

test('pause asks first and offers Undo; a publish is one row; the diff marks the changed part', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(WORKFLOW);

  // The demo published v2, v3 and v4 after creating them: one row each, the publish drawn on it.
  const versions = await c.timeline.getByTestId('timeline-version').count();
  expect(versions).toBeGreaterThanOrEqual(4);
  await expect(c.timeline.getByTestId('timeline-publish')).toHaveCount(0);
  await expect(c.timelineVersion(4).getByTestId('timeline-published')).toHaveText('▲ published');
  await expect(c.timelineVersion(4).getByTestId('timeline-published')).toHaveAttribute('title', /^Published v4 \(was v3\) by /);

  // The diff of v3 and v4 marks the changed characters, not a cut-off start.
  await c.pick(4).click();
  await c.pick(3).click();
  await expect(c.diffSummary).toBeVisible();
  await expect(page.getByTestId('diff-after').locator('ins.diff-hl').first()).toBeVisible();
  await expect(page.getByTestId('dsl-diff').locator('ins.diff-hl').first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('diff-highlight.png') });

  // Pause asks; Escape leaves the workflow active.
  const toggle = page.getByTestId('workflow-pause-toggle');
  await toggle.click();
  await expect(page.getByTestId('pause-confirm')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('pause-dialog')).toBeHidden();
  await expect(page.getByTestId('workflow-header-status')).toHaveText('active');

  // Enter pauses; the toast's Undo unpauses.
  await toggle.click();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('workflow-header-status')).toHaveText('paused');
  const toast = c.toasts.filter({ hasText: `Paused ${WORKFLOW}` });
  await expect(toast).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('pause-undo.png') });
  await toast.getByTestId('toast-action').click();
  await expect(page.getByTestId('workflow-header-status')).toHaveText('active');
  await expect(toast).toBeHidden();
});

test('Run now starts a manual run of the active version and opens it; the palette offers it; a paused workflow starts none', async ({ page }, testInfo) => {
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.openWorkflow(WORKFLOW);
  const active = (await c.activeVersion.textContent())!.replace('active ', '');

  const runNow = page.getByTestId('workflow-start-run');
  await runNow.click();
  await expect(c.inspector).toBeVisible();
  await expect(page.getByTestId('inspector-trigger')).toHaveText(`${active} · manual`);
  await expect(c.toasts.filter({ hasText: `Started a run of ${WORKFLOW} on ${active}` })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('run-now.png') });
  const first = await page.getByTestId('inspector-title').textContent();

  // From the palette, by keyboard: the same, on the workflow in view.
  await c.openWorkflow(WORKFLOW);
  await page.keyboard.press('Control+k');
  await page.keyboard.type('start a run');
  await expect(page.getByTestId('palette-item').first()).toHaveText(new RegExp(`Start a run of ${WORKFLOW} \\(${active}\\)`));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('inspector-title')).not.toHaveText(first ?? '');
  await expect(page.getByTestId('inspector-trigger')).toHaveText(`${active} · manual`);

  // Paused: no new runs, so no Run now.
  await c.openWorkflow(WORKFLOW);
  await page.getByTestId('workflow-pause-toggle').click();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('workflow-header-status')).toHaveText('paused');
  await expect(runNow).toBeDisabled();
});

async function rest(url: string, token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

test('runs waiting for approval: counted on the workflow, approved and denied from the palette, the gate marked real; a snapshot downloads as a file', async ({ page }, testInfo) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const gated = (await rest(server.url, server.adminToken, 'POST', '/api/v1/workflows', {
    name: 'model-promotion',
    source_type: 'MANUAL',
    dsl: {
      nodes: [
        { id: 'score', type: 'task', params: { duration_ms: 1000 }, next: ['gate'] },
        { id: 'gate', type: 'approval', params: { prompt: 'Promote the model?' }, next: ['ship'] },
        { id: 'ship', type: 'transform', params: { set: { shipped: true } }, next: [] },
      ],
    },
  })) as { id: string };
  const runIds: string[] = [];
  for (let i = 0; i < 2; i++) runIds.push(String((await rest(server.url, server.adminToken, 'POST', `/api/v1/workflows/${gated.id}/runs`, {})).run_id));
  await expect
    .poll(async () => Promise.all(runIds.map(async (id) => (await rest(server!.url, server!.adminToken, 'GET', `/api/v1/runs/${id}`)).status)), { timeout: 20_000 })
    .toEqual(['waiting', 'waiting']);

  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.addServer({ name: 'prod', url: server.url, token: server.adminToken });
  await expect(c.connectionState).toHaveText('connected');
  const badge = c.workflowRow('model-promotion').getByTestId('workflow-waiting-badge');
  await expect(badge).toHaveText('2 to approve');
  // The incident home, the first screen of the connection, lists them too.
  await expect(page.getByTestId('home-waiting')).toHaveCount(2);
  await page.screenshot({ path: testInfo.outputPath('waiting-badge.png') });

  // Approve the first from the palette: the run moves on in the inspector.
  await page.keyboard.press('Control+k');
  await page.keyboard.type(`approve run ${runIds[0]}`);
  await expect(page.getByTestId('palette-item')).toHaveCount(1);
  await page.keyboard.press('Enter');
  await expect(c.inspectorStatus).toHaveText('succeeded', { timeout: 20_000 });
  await expect(badge).toHaveText('1 to approve');

  // The gate is real work, the rest simulated.
  await expect(c.dagNodes.and(page.locator('[data-node-id="gate"]'))).toHaveAttribute('data-work', 'real');
  await expect(c.dagNodes.and(page.locator('[data-node-id="score"]'))).toHaveAttribute('data-work', 'simulated');
  await expect(page.getByTestId('dag-legend')).toBeVisible();

  // Deny the second: the palette stops at the focused Deny button; Enter ends the run denied (an outcome, not a failure).
  await page.keyboard.press('Control+k');
  await page.keyboard.type('deny run');
  await expect(page.getByTestId('palette-item')).toHaveCount(1);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('approval-deny')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(c.inspectorStatus).toHaveText('denied', { timeout: 20_000 });
  await expect(badge).toBeHidden();

  // Browser mode: Download snapshot asks for no server path and hands the browser a file.
  await page.getByTestId('connection-menu').click();
  await page.getByTestId('connection-menu-snapshot').click();
  await expect(page.getByTestId('snapshot-path')).toHaveCount(0);
  await expect(page.getByTestId('snapshot-start')).toBeFocused();
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(download.suggestedFilename()).toMatch(/^snapshot-127\.0\.0\.1-\d+-\d{8}T\d{6}Z\.db$/);
  const bytes = await readFile(await download.path());
  expect(bytes.subarray(0, 15).toString()).toBe('SQLite format 3');
  await expect(page.getByTestId('snapshot-downloaded')).toHaveText(`Downloaded as ${download.suggestedFilename()}.`);
  await page.screenshot({ path: testInfo.outputPath('snapshot-downloaded.png') });
});
