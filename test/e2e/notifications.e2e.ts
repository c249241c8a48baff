import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { recordNotifications } from './support/notifications.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

/*
 * Desktop notifications in browser mode: the page's Notification constructor is replaced (before any
 * script runs) by one that records what it is asked to show, with permission granted. Another operator
 * rolls a workflow back on the server; the console watching it notifies, and a click opens the workflow —
 * also while the console shows another connection, to which the click switches back.
 */

let app: StartedConsole;
let server: StartedServer | null = null;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

test("another operator's rollback fires a desktop notification; a click opens the workflow; muting silences it", async ({ browser }) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const context = await browser.newContext();
  await recordNotifications(context);
  const console = new ConsolePage(await context.newPage());
  await console.open(app.url);
  await console.addServer({ name: 'staging server', url: server.url, token: server.adminToken });
  await expect(console.connectionState).toHaveText('connected');

  // Mina rolls back a workflow with a deprecated version to go back to, through the API.
  const auth = { authorization: `Bearer ${server.otherOperatorToken}` };
  const { workflows } = (await (await fetch(`${server.url}/api/v1/workflows`, { headers: auth })).json()) as { workflows: Array<{ id: string; name: string; active_version: number | null }> };
  let target: { id: string; name: string; from: number; to: number } | null = null;
  for (const w of workflows) {
    const { versions } = (await (await fetch(`${server.url}/api/v1/workflows/${w.id}/versions?include_dsl=false`, { headers: auth })).json()) as { versions: Array<{ version: number; status: string }> };
    const back = versions.find((v) => v.status === 'deprecated');
    if (back && w.active_version !== null) {
      target = { id: w.id, name: w.name, from: w.active_version, to: back.version };
      break;
    }
  }
  expect(target, 'a demo workflow with a version to roll back to').not.toBeNull();
  const rolled = await fetch(`${server.url}/api/v1/workflows/${target!.id}/versions/${target!.to}/rollback`, { method: 'POST', headers: auth });
  expect(rolled.status).toBe(200);

  const titles = () => console.page.evaluate(() => window.__notifications.map((n) => `${n.title} | ${n.body}`));
  await expect.poll(titles).toContain(`mina.kim rolled back ${target!.name} | v${target!.from} → v${target!.to}`);

  // The click opens the workflow's timeline.
  await console.page.evaluate(() => window.__notifications.find((n) => n.title.startsWith('mina.kim rolled back'))!.click());
  await expect(console.page.getByTestId('workflow-title')).toHaveText(target!.name);
  await expect(console.timeline).toBeVisible();

  // Muted from the palette: the next rollback by someone else shows nothing; unmuted, the one after does.
  const palette = async (command: string) => {
    await console.page.keyboard.press('Control+k');
    await console.page.keyboard.type(command);
    await console.page.keyboard.press('Enter');
  };
  const rollback = async (to: number) => expect((await fetch(`${server!.url}/api/v1/workflows/${target!.id}/versions/${to}/rollback`, { method: 'POST', headers: auth })).status).toBe(200);
  // A mute is main's once it answers: wait until the palette offers the opposite before the next rollback.
  const offered = async () => {
    await console.page.keyboard.press('Control+k');
    await console.page.keyboard.type('mute desktop notifications');
    const texts = await console.page.getByTestId('palette-item').allTextContents();
    await console.page.keyboard.press('Escape');
    return texts.find((t) => t.includes('desktop notifications of')) ?? '';
  };
  await palette('Mute desktop notifications');
  await expect.poll(offered).toContain('Unmute desktop notifications');
  await rollback(target!.from);
  await expect(console.toasts.filter({ hasText: `Rolled back v${target!.to} → v${target!.from}` })).toHaveCount(1);
  await palette('Unmute desktop notifications');
  await expect.poll(offered).toContain('Mute desktop notifications');
  await rollback(target!.to);
  const first = `mina.kim rolled back ${target!.name} | v${target!.from} → v${target!.to}`;
  // Events are handled in order: once the third rollback's notification is there, the muted one would have been too.
  await expect.poll(async () => (await titles()).filter((t) => t.startsWith('mina.kim'))).toEqual([first, first]);

  // Looking at the local sandbox, the server is still watched: its next rollback by Mina notifies, and
  // the click switches back to the server and opens the workflow there.
  await console.connectionSelect.selectOption({ label: 'Local sandbox (sandbox, connected)' });
  await expect(console.connectionSelect.locator('option:checked')).toContainText('Local sandbox');
  await rollback(target!.from);
  const second = `mina.kim rolled back ${target!.name} | v${target!.to} → v${target!.from}`;
  await expect.poll(async () => (await titles()).filter((t) => t.startsWith('mina.kim'))).toEqual([first, first, second]);
  await console.page.evaluate(() => window.__notifications.at(-1)!.click());
  await expect(console.connectionSelect.locator('option:checked')).toContainText('staging server');
  await expect(console.page.getByTestId('workflow-title')).toHaveText(target!.name);
  await expect(console.activeVersion).toContainText(`v${target!.from}`);
});
