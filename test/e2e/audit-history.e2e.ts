import { expect, test, type WebSocket } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * The audit log of a server with a few thousand events, in browser mode: it opens on the newest
 * page, reads older pages as the operator scrolls back, filters by type and actor on the server, and
 * shows a live event at the top. What the page asks through its WebSocket is recorded: no request
 * for the log from its start, and pages of a bounded size.
 */

const HISTORY = 3000;

let app: StartedConsole;
let server: StartedServer;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
});

interface EventsListCall {
  method: string;
  input: { after?: number; before?: number; limit?: number; type?: string; actor?: string };
}

test('scrolls a long audit log back, filters it on the server and follows it live', async ({ page }) => {
  test.setTimeout(180_000);
  server = await startWorkflowServer({ history: HISTORY });
  app = await startConsole();
  const calls: EventsListCall[] = [];
  page.on('websocket', (ws: WebSocket) => {
    ws.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as EventsListCall;
      if (frame.method === 'events:list') calls.push(frame);
    });
  });
  const auth = { authorization: `Bearer ${server.adminToken}` };
  const head = ((await (await fetch(`${server.url}/api/v1/events/head`, { headers: auth })).json()) as { seq: number }).seq;
  expect(head).toBeGreaterThanOrEqual(HISTORY);

  const console = new ConsolePage(page);
  await console.open(app.url);
  await console.addServer({ name: 'history server', url: server.url, token: server.adminToken });
  await expect(console.connectionState).toHaveText('connected');
  await console.nav('audit').click();
  await expect(console.auditRows.first()).toHaveAttribute('data-seq', String(head));
  await expect(console.auditCount).toHaveText(`${head.toLocaleString('en')} events`);

  // Scrolling back: End goes to the last row read, which reads the next older page, until #(head - 1000) shows.
  const target = head - 1000;
  await console.auditRows.first().locator('[data-primary]').focus();
  for (let i = 0; i < 40 && (await console.auditRow(target).count()) === 0; i++) {
    await page.keyboard.press('End');
    await page.waitForTimeout(100);
  }
  await expect(console.auditRow(target)).toBeVisible();
  const paged = calls.filter((c) => c.input.before !== undefined && c.input.type === undefined && c.input.actor === undefined);
  expect(paged.length).toBeGreaterThanOrEqual(5);
  expect(paged.every((c) => (c.input.limit ?? Infinity) <= 200)).toBe(true);
  // Never the log from its start.
  expect(calls.filter((c) => c.input.before === undefined)).toEqual([]);

  // By type, then by who did it: the server answers only those.
  await console.auditFilterType.selectOption('run_failed');
  await expect(console.auditCount).toHaveText(/matching$/);
  await expect.poll(() => calls.at(-1)?.input).toMatchObject({ type: 'run_failed' });
  await expect(console.auditRows.first()).toHaveAttribute('data-type', 'run_failed');
  const types = await console.auditRows.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.type));
  expect(new Set(types)).toEqual(new Set(['run_failed']));

  await console.auditFilterActor.fill('mina.kim');
  await console.auditFilterActor.press('Enter');
  await expect.poll(() => calls.at(-1)?.input).toMatchObject({ type: 'run_failed', actor: 'mina.kim' });
  await expect(console.auditRows.first()).toContainText('mina.kim');
  const texts = await console.auditRows.evaluateAll((rows) => rows.map((r) => r.textContent ?? ''));
  expect(texts.every((text) => text.includes('mina.kim'))).toBe(true);

  // Mina starts a run now, and it fails: its failure arrives at the top of the filtered log, live.
  const mina = { authorization: `Bearer ${server.otherOperatorToken}`, 'content-type': 'application/json' };
  const { workflows } = (await (await fetch(`${server.url}/api/v1/workflows`, { headers: mina })).json()) as { workflows: Array<{ id: string; status: string }> };
  const active = workflows.find((w) => w.status === 'active')!;
  const started = await fetch(`${server.url}/api/v1/workflows/${active.id}/runs`, { method: 'POST', headers: mina, body: JSON.stringify({ faults: { fail_node: 'extract' } }) });
  expect(started.status).toBe(200);
  await expect(console.auditRows.first()).toHaveAttribute('data-type', 'run_failed');
  await expect.poll(async () => Number(await console.auditRows.first().getAttribute('data-seq'))).toBeGreaterThan(head);
  await expect(console.auditRows.first()).toContainText('mina.kim');
});
