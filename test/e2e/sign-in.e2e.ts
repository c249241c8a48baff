import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { OidcVerifier } from '../../main/server/auth/oidc-verifier.js';
import { parseRoleMapping } from '../../main/server/auth/role-mapping.js';
import { CLIENT_ID, type TestProvider, startTestProvider, testRoles } from '../support/oidc-provider.js';
import { ConsolePage } from './pages/console-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { type StartedConsole, type StartedServer, startConsole, startWorkflowServer } from './support/console.js';

/*
 * Browser mode, Chromium: a person adds a server with "Sign in with SSO", signs in on the identity
 * provider's own login and consent pages (oidc-provider, on 127.0.0.1), comes back to the console as
 * themselves with their group's role, rolls back (the event names them), signs out and back in.
 */

let provider: TestProvider;
let server: StartedServer & { backend: Awaited<ReturnType<typeof startWorkflowServer>>['backend'] };
let app: StartedConsole;

test.afterEach(async () => {
  await app?.close();
  await server?.close();
  await provider?.close();
});

test('sign in with SSO through the provider, act as the person, sign out and back in', async ({ page }) => {
  provider = await startTestProvider();
  server = await startWorkflowServer({
    oidc: new OidcVerifier({ issuer: provider.issuer, clientId: CLIENT_ID, audience: CLIENT_ID, groupsClaim: 'groups', roles: parseRoleMapping(testRoles), scopes: null }),
  });
  app = await startConsole();
  // Tests talk to 127.0.0.1 only (the provider's pages import a web font from elsewhere: refused here).
  await page.context().route(
    (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    (route) => route.abort(),
  );
  const c = new ConsolePage(page);
  const s = new SignInPage(page);
  await c.open(app.url);

  // The server offers SSO as soon as its address is typed; a token stays possible.
  await s.startAdding({ name: 'Ops (SSO)', url: server.url, environment: 'production' });
  await expect(s.ssoOffer).toContainText(provider.issuer);
  await expect(page.getByTestId('add-connection-token')).toBeVisible();
  const { violations } = await new AxeBuilder({ page }).include('[data-testid="add-connection"]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  await s.ssoButton.click();

  // The provider's own pages, then back through the console's /callback to the console itself.
  await s.signInAtProvider(provider.issuer, 'alice');
  await expect(page).toHaveURL(new RegExp(`^${app.url.split('?')[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?token=`));
  await expect(s.identity).toHaveText('alice@example.com · operator');
  await expect(c.connectionState).toHaveText('connected');

  // A rollback as alice: the audit log names her.
  const { workflows } = await server.backend.call('workflows:list', {});
  const wf = workflows.find((w) => (w.active_version ?? 0) >= 2 && w.canary === null)!;
  const active = wf.active_version!;
  await c.openWorkflow(wf.name);
  await c.rollbackFrom(active - 1).click();
  await c.rollbackConfirmName.fill(wf.name);
  // Added as production: the stronger confirmation.
  await c.rollbackConfirmVersion.fill(`v${active - 1}`);
  await c.rollbackSubmit.click();
  await expect(c.rollbackResult).toContainText(`v${active} → v${active - 1}`);
  await c.rollbackDone.click();
  const { events } = await server.backend.call('events:list', { after: 0, workflow_id: wf.id, limit: 1000 });
  expect(events.filter((e) => e.type === 'workflow_rollback').at(-1)?.actor).toBe('alice@example.com');
  await c.nav('audit').click();
  await expect(page.locator('[data-testid="audit-row"][data-type="workflow_rollback"]').first()).toContainText('alice@example.com');

  // Sign out: the connection stays, asks for a sign-in, and the view is left as it was.
  await s.openConnectionMenu();
  await s.menuItem('signOut').click();
  await expect(s.identity).toBeHidden();
  await expect(s.connectionDetail).toContainText('Signed out');
  await expect(c.nav('audit')).toHaveAttribute('aria-current', 'page');

  // Back in with one button: the provider still knows her (no password this time); the sign-out revoked
  // the grant, so it asks her consent again. The console comes back to the view it left.
  await s.signInAgain.click();
  await expect(page.getByRole('button', { name: 'Continue' })).toBeVisible();
  await expect(page.locator('input[name="password"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(s.identity).toHaveText('alice@example.com · operator');
  await expect(c.nav('audit')).toHaveAttribute('aria-current', 'page');
  await expect(s.connectionDetail).toBeHidden();
});
