import { expect, test } from '@playwright/test';
import { ApprovalsPage } from './pages/approvals-page.js';
import { ConsolePage } from './pages/console-page.js';
import { expectNoFocusDrops, watchFocus } from './support/focus.js';
import { recordNotifications } from './support/notifications.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * Approvals an operator can judge, on a production connection: the home lists each request with its
 * prompt, who asks and what the run has done; Approve and Deny ask first, naming the prompt; after
 * an answer the home stays the home with the next request focused; a deny ends the run `denied`,
 * logged as approval_denied, and is no incident. The notification says the same.
 */

let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

const PROMPT = 'Ship the nightly release to production?';

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

test('judge and answer approvals on a production connection: prompt, asker, progress; confirmation; focus stays on the home; a deny is an outcome', async ({ browser }, testInfo) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const context = await browser.newContext();
  // The page's Notification API, recorded (browser mode shows notifications through it).
  await recordNotifications(context);
  const page = await context.newPage();
  await watchFocus(page);
  const c = new ConsolePage(page);
  const a = new ApprovalsPage(page);
  await c.open(app.url);
  await c.addServer({ name: 'prod', url: server.url, token: server.adminToken, environment: 'production' });
  await expect(c.connectionState).toHaveText('connected');

  const gated = (await rest(server.url, server.adminToken, 'POST', '/api/v1/workflows', {
    name: 'release-gate',
    dsl: {
      nodes: [
        { id: 'build', type: 'task', params: { duration_ms: 500 }, next: ['test'] },
        { id: 'test', type: 'task', params: { duration_ms: 500 }, next: ['gate'] },
        { id: 'gate', type: 'approval', params: { prompt: PROMPT }, next: ['ship'] },
        { id: 'ship', type: 'transform', params: { set: { shipped: true } }, next: [] },
      ],
    },
  })) as { id: string };
  const runIds: string[] = [];
  for (let i = 0; i < 2; i++) runIds.push(String((await rest(server.url, server.adminToken, 'POST', `/api/v1/workflows/${gated.id}/runs`, {})).run_id));
  await expect.poll(async () => Promise.all(runIds.map(async (id) => (await rest(server!.url, server!.adminToken, 'GET', `/api/v1/runs/${id}`)).status)), { timeout: 20_000 }).toEqual(['waiting', 'waiting']);

  // The home: each request with what an approver judges by.
  await c.nav('home').click();
  await expect(a.requests).toHaveCount(2);
  const [first, second] = runIds as [string, string];
  await expect(a.request(first).getByTestId('approval-prompt')).toHaveText(`“${PROMPT}”`);
  await expect(a.request(first).getByTestId('approval-asker')).toHaveText(`run ${first} · v1 · api · started by e2e-admin · waits at gate`);
  await expect(a.request(first).getByTestId('approval-done')).toHaveText('done 2 of 4: build, test');
  await page.screenshot({ path: testInfo.outputPath('approvals-home.png') });

  // The notification named the prompt and what the run had done.
  await expect.poll(() => page.evaluate(() => window.__notifications.filter((n) => n.title === 'Approval wanted: release-gate').map((n) => n.body))).toContain(
    `“${PROMPT}” · Run ${first} v1 (api) by e2e-admin waits at gate · done: build, test`,
  );

  // Production: Approve asks first, naming the prompt; Enter confirms.
  await a.approveOf(first).click();
  await expect(a.confirmDialog).toBeVisible();
  await expect(a.confirmDialog).toContainText(PROMPT);
  await expect(a.confirmSubmit).toHaveText(`Approve: ${PROMPT}`);
  await expect(a.confirmSubmit).toBeFocused();
  await page.screenshot({ path: testInfo.outputPath('approvals-confirm.png') });
  await page.keyboard.press('Enter');
  await expect(a.confirmDialog).toBeHidden();
  // The home stays, the next request focused.
  await expect(a.requests).toHaveCount(1);
  await expect(c.home).toBeVisible();
  await expect(a.approveOf(second)).toBeFocused();
  await expect.poll(async () => (await rest(server!.url, server!.adminToken, 'GET', `/api/v1/runs/${first}`)).status, { timeout: 20_000 }).toBe('succeeded');

  // Deny the other, with a comment: the run ends denied, not failed, and no incident names it.
  await a.denyOf(second).click();
  await expect(a.confirmDialog).toContainText('Deny on production?');
  await a.confirmComment.fill('not on a Friday');
  await page.keyboard.press('Enter');
  await expect(a.requests).toHaveCount(0);
  await expect(a.homeTitle).toBeFocused();
  await expect.poll(async () => (await rest(server!.url, server!.adminToken, 'GET', `/api/v1/runs/${second}`)).status, { timeout: 20_000 }).toBe('denied');
  await expect(c.incident('release-gate')).toHaveCount(0);
  const { events } = (await rest(server.url, server.adminToken, 'GET', `/api/v1/events?workflow_id=${gated.id}&run_id=${second}`)) as { events: Array<{ type: string; payload: Record<string, unknown> }> };
  expect(events.map((e) => e.type)).toEqual(['run_started', 'approval_requested', 'approval_denied', 'run_denied']);
  expect(events[2]!.payload).toMatchObject({ decision: 'deny', comment: 'not on a Friday' });

  // In the inspector: its own badge, the denied gate drawn apart from a failure.
  await c.nav('runs').click();
  await c.runRow(second).click();
  await expect(c.inspectorStatus).toHaveText('denied');
  await expect(c.inspectorStatus).toHaveAttribute('data-status', 'denied');
  await expect(c.dagNodes.and(page.locator('[data-node-id="gate"]'))).toHaveAttribute('data-state', 'denied');
  await page.screenshot({ path: testInfo.outputPath('approvals-denied-run.png') });
  await expectNoFocusDrops(page);
});

test('the inspector shows what a waiting run asks; off production an answer goes at once', async ({ page }, testInfo) => {
  await watchFocus(page);
  server = await startWorkflowServer();
  app = await startConsole();
  const c = new ConsolePage(page);
  const a = new ApprovalsPage(page);
  await c.open(app.url);
  await c.addServer({ name: 'staging', url: server.url, token: server.adminToken });
  await expect(c.connectionState).toHaveText('connected');
  const gated = (await rest(server.url, server.adminToken, 'POST', '/api/v1/workflows', {
    name: 'release-gate',
    dsl: { nodes: [{ id: 'gate', type: 'approval', params: { prompt: PROMPT }, next: [] }] },
  })) as { id: string };
  const runId = String((await rest(server.url, server.adminToken, 'POST', `/api/v1/workflows/${gated.id}/runs`, {})).run_id);
  await expect.poll(async () => (await rest(server!.url, server!.adminToken, 'GET', `/api/v1/runs/${runId}`)).status, { timeout: 20_000 }).toBe('waiting');

  await c.nav('runs').click();
  await c.runRow(runId).click();
  await expect(a.panel.getByTestId('approval-prompt')).toHaveText(`“${PROMPT}”`);
  await expect(a.panel.getByTestId('approval-done')).toHaveText('nothing done yet of 1 nodes');
  await page.screenshot({ path: testInfo.outputPath('approvals-inspector.png') });
  await a.panel.getByTestId('approval-approve').click();
  await expect(a.confirmDialog).toHaveCount(0);
  await expect(c.inspectorStatus).toHaveText('succeeded', { timeout: 20_000 });
  await expect(page.getByTestId('inspector-title')).toBeFocused();
  await expectNoFocusDrops(page);
});
