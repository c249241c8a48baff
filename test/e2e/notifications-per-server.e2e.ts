import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { recordNotifications } from './support/notifications.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * Notifications per server, not per connection: the console has two connections to one server (a
 * viewer's token, added first, and an admin's). An approval wanted there is notified once, and its
 * click opens the run on the connection with the most rights — where Approve is enabled.
 */

let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

test('two connections to one server: one notification, and its click opens the connection that may approve', async ({ browser }, testInfo) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const context = await browser.newContext();
  await recordNotifications(context);
  const page = await context.newPage();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.addServer({ name: 'prod viewer', url: server.url, token: server.viewerToken });
  await expect(c.connectionState).toHaveText('connected');
  await c.addServer({ name: 'prod ops', url: server.url, token: server.adminToken });
  await expect(c.connectionState).toHaveText('connected');
  // Look at the sandbox: both server connections are watched in the background.
  await c.connectionSelect.selectOption({ label: 'Local sandbox (sandbox, connected)' });
  await expect(c.connectionSelect.locator('option:checked')).toContainText('Local sandbox');

  const auth = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' };
  const created = (await (
    await fetch(`${server.url}/api/v1/workflows`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'release-gate', dsl: { nodes: [{ id: 'gate', type: 'approval', params: { prompt: 'Ship it?' }, next: [] }] } }),
    })
  ).json()) as { id: string };
  const run = (await (await fetch(`${server.url}/api/v1/workflows/${created.id}/runs`, { method: 'POST', headers: auth, body: '{}' })).json()) as { run_id: string };
  // A second notifiable event after it: once its notification is there, both connections have heard the first.
  const failing = (await (
    await fetch(`${server.url}/api/v1/workflows`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'always-fails', dsl: { nodes: [{ id: 'x', type: 'task', params: { failure_rate: 1 }, next: [] }] } }),
    })
  ).json()) as { id: string };
  await fetch(`${server.url}/api/v1/workflows/${failing.id}/runs`, { method: 'POST', headers: auth, body: '{"wait": true}' });

  const titles = () => page.evaluate(() => window.__notifications.map((n) => n.title));
  await expect.poll(titles, { timeout: 20_000 }).toContain('Run of always-fails failed');
  expect((await titles()).filter((t) => t === 'Approval wanted: release-gate')).toHaveLength(1);

  // The click opens the run on the admin's connection, where Approve is allowed.
  await page.evaluate(() => window.__notifications.find((n) => n.title === 'Approval wanted: release-gate')!.click());
  await expect(c.connectionSelect.locator('option:checked')).toContainText('prod ops');
  await expect(c.inspector).toHaveAttribute('data-run-id', run.run_id);
  await expect(page.getByTestId('approval-approve')).toBeEnabled();
  await page.screenshot({ path: testInfo.outputPath('notification-opened-ops.png') });
});
