import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * A second pair of eyes in the browser console: a server started with review of publishes holds ana's
 * publish; the console's person (another admin token) sees it on Home under "Waiting for review",
 * opens Approve, reads the diff, confirms from the keyboard, and the version is published as ana's.
 * Their own request waits there without an Approve.
 */

let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

test('Home lists a review request; Approve shows the diff, Enter approves, and it is published as the requester’s', async ({ page }, testInfo) => {
  server = await startWorkflowServer({ review: { actions: new Set(['publish']), expiryMs: 30 * 60_000 } });
  const admin = { authorization: `Bearer ${server.adminToken}` };
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server!.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const ana = (await call(server.adminToken, 'POST', '/api/v1/tokens', { name: 'ana', role: 'admin' })).json.token as string;
  const dsl = (duration: number) => ({ nodes: [{ id: 'load', type: 'task', params: { duration_ms: duration }, next: [] }] });
  const create = async (name: string) => (await call(server!.adminToken, 'POST', '/api/v1/workflows', { name, dsl: dsl(5) })).json as { id: string; active_version: number };
  const etl = await create('orders-etl');
  const ml = await create('model-training');
  const drafted = await call(ana, 'POST', `/api/v1/workflows/${etl.id}/versions`, { dsl: dsl(50), change_log: 'slower load' });
  expect(drafted.status, JSON.stringify(drafted.json)).toBe(200);
  const draft = drafted.json.version as number;
  const asked = await call(ana, 'POST', `/api/v1/workflows/${etl.id}/versions/${draft}/publish`, {});
  expect(asked.status, JSON.stringify(asked.json)).toBe(202);
  // The console's own person asks too: theirs waits for someone else.
  const ownDraft = (await call(server.adminToken, 'POST', `/api/v1/workflows/${ml.id}/versions`, { dsl: dsl(7), change_log: 'mine' })).json.version as number;
  expect((await call(server.adminToken, 'POST', `/api/v1/workflows/${ml.id}/versions/${ownDraft}/publish`, {})).status).toBe(202);

  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.addServer({ name: 'reviewed', url: server.url, token: server.adminToken });
  await expect(c.connectionState).toHaveText('connected');

  const section = page.getByTestId('home-section-reviews');
  await expect(section.getByRole('heading')).toHaveText('Waiting for review 2');
  const theirs = section.getByTestId('home-review').filter({ hasText: 'orders-etl' });
  await expect(theirs.getByTestId('home-review-what')).toHaveText(`Publish v${draft} (active: v${etl.active_version})`);
  await expect(theirs.getByTestId('home-review-who')).toContainText('asked by ana');
  await expect(theirs.getByTestId('home-review-expires')).toContainText(/expires in (29|30) min/);
  const mine = section.getByTestId('home-review').filter({ hasText: 'model-training' });
  await expect(mine.getByTestId('home-review-own')).toHaveText('Your request: another person must approve it.');
  await expect(mine.getByTestId('home-review-approve')).toHaveCount(0);

  await theirs.getByTestId('home-review-approve').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('review-answer-dialog');
  await expect(dialog.getByTestId('review-answer-consequence')).toContainText("recorded as ana's, with you as the reviewer");
  await expect(dialog.getByTestId('review-answer-diff')).toContainText(`v${etl.active_version} → v${draft}`);
  await expect(dialog.getByTestId('review-answer-submit')).toBeFocused();
  await page.screenshot({ path: testInfo.outputPath('review-approve-dialog.png') });
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(section.getByRole('heading')).toHaveText('Waiting for review 1');

  const after = (await (await fetch(`${server.url}/api/v1/workflows/${etl.id}`, { headers: admin })).json()) as { active_version: number };
  expect(after.active_version).toBe(draft);
  const { events } = (await (await fetch(`${server.url}/api/v1/events?workflow_id=${etl.id}`, { headers: admin })).json()) as { events: Array<{ type: string; actor: string }> };
  expect(events.filter((e) => e.type === 'version_published').at(-1)?.actor).toBe('ana');
  expect(events.find((e) => e.type === 'review_answered')?.actor).toBe('e2e-admin');
});
