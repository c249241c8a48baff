import { expect, test } from '@playwright/test';
import { ConsolePage } from './pages/console-page.js';
import { startConsole, startWorkflowServer, type StartedConsole, type StartedServer } from './support/console.js';

let app: StartedConsole;
let server: StartedServer | null = null;
test.afterEach(async () => {
  await app?.close();
  await server?.close();
  server = null;
});

const WORKFLOW = 'defect-rate-judgment';

test('a stale revision is refused with its hint, and reload-and-retry succeeds', async ({ browser }, testInfo) => {
  app = await startConsole();
  const me = new ConsolePage(await (await browser.newContext()).newPage());
  const other = new ConsolePage(await (await browser.newContext()).newPage());
  await me.open(app.url);
  await other.open(app.url);
  await me.openWorkflow(WORKFLOW);
  await me.rollbackFrom(1).click();
  await expect(me.rollbackPreview).toBeVisible();

  // Meanwhile another operator pauses the workflow: the revision the preview showed is now stale.
  await other.openWorkflow(WORKFLOW);
  await other.page.getByTestId('workflow-pause-toggle').click();
  await other.page.getByTestId('pause-confirm').click();
  await expect(other.page.getByTestId('workflow-header-status')).toHaveText('paused');

  await me.rollbackConfirmName.fill(WORKFLOW);
  await me.rollbackSubmit.click();
  await expect(me.rollbackError).toHaveAttribute('data-code', 'STALE_REVISION');
  await expect(me.rollbackError).toContainText('Someone else changed this workflow first');
  await expect(me.rollbackErrorHint).not.toBeEmpty();
  await me.page.screenshot({ path: testInfo.outputPath('stale-revision.png') });

  await me.rollbackReload.click();
  await expect(me.rollbackPreview).toBeVisible();
  await me.rollbackConfirmName.fill(WORKFLOW);
  await me.rollbackSubmit.click();
  await expect(me.rollbackResult).toContainText('v1');
});

test('a viewer token: the console disables the rollback with the reason, and the server still refuses it with who can do it', async ({ page }, testInfo) => {
  server = await startWorkflowServer();
  app = await startConsole();
  const c = new ConsolePage(page);
  await c.open(app.url);
  await c.addServer({ name: 'prod (read only)', url: server.url, token: server.viewerToken, environment: 'production' });
  await expect(page.getByTestId('connection-production')).toBeVisible();
  await expect(c.connectionRole).toHaveText('viewer');
  await c.openWorkflow(WORKFLOW);
  // Never a confirmation typed only to be refused: the control says why it is off.
  await expect(c.rollbackFrom(1)).toBeDisabled();
  await expect(c.rollbackFrom(1)).toHaveAttribute('title', /viewer/);
  await expect(page.getByTestId('workflow-start-run')).toBeDisabled();
  await expect(page.getByTestId('workflow-start-run')).toHaveAttribute('title', /not start runs/);
  await page.screenshot({ path: testInfo.outputPath('viewer-forbidden.png') });

  const auth = { authorization: `Bearer ${server.viewerToken}` };
  const { workflows } = (await (await fetch(`${server.url}/api/v1/workflows`, { headers: auth })).json()) as { workflows: { id: string; name: string }[] };
  const wf = workflows.find((w) => w.name === WORKFLOW)!;
  const refused = await fetch(`${server.url}/api/v1/workflows/${wf.id}/versions/1/rollback`, { method: 'POST', headers: auth });
  expect(refused.status).toBe(403);
  const body = (await refused.json()) as { error: { code: string; hint: string } };
  expect(body.error.code).toBe('FORBIDDEN');
  expect(body.error.hint).toContain('operator');
});
