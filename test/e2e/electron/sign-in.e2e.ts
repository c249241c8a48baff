import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { findElectron } from '../../../scripts/electron-binary.mjs';
import { OidcVerifier } from '../../../main/server/auth/oidc-verifier.js';
import { parseRoleMapping } from '../../../main/server/auth/role-mapping.js';
import { CLIENT_ID, type TestProvider, startTestProvider, testRoles } from '../../support/oidc-provider.js';
import { visitAsPerson } from '../../support/oidc-user.js';
import { type StartedServer, startWorkflowServer } from '../support/console.js';

/*
 * Electron-only: "Sign in with SSO" in the desktop app opens the system browser through
 * shell.openExternal (here recorded, and the person played at the provider's pages over HTTP) and
 * catches the answer on a loopback port in main. Skipped, saying why, where no Electron binary exists;
 * the same flow is tested in Node (test/integration/ipc/sso-connection.test.ts) with an injected opener.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const found = findElectron();
const skipReason = found.binary === null ? `Electron-only test skipped: ${found.reason}.` : '';
if (skipReason) console.log(skipReason);

test.describe('desktop sign-in with SSO (Electron)', () => {
  test.skip(found.binary === null, skipReason);

  let app: ElectronApplication;
  let dataDir: string;
  let provider: TestProvider;
  let server: StartedServer;

  test.beforeAll(async () => {
    provider = await startTestProvider();
    server = await startWorkflowServer({
      oidc: new OidcVerifier({ issuer: provider.issuer, clientId: CLIENT_ID, audience: CLIENT_ID, groupsClaim: 'groups', roles: parseRoleMapping(testRoles), scopes: null }),
    });
    dataDir = mkdtempSync(join(tmpdir(), 'rewind-electron-sso-'));
    app = await electron.launch({ executablePath: found.binary ?? undefined, args: [ROOT, `--rewind-data-dir=${dataDir}`] });
    // The system browser, recorded: what main asks it to open.
    await app.evaluate(({ shell }) => {
      const opened: string[] = [];
      (globalThis as unknown as { openedUrls: string[] }).openedUrls = opened;
      shell.openExternal = async (url: string) => {
        opened.push(url);
      };
    });
  });

  test.afterAll(async () => {
    await app?.close();
    await server?.close();
    await provider?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('opens the provider in the system browser (PKCE, loopback) and comes back signed in as the person', async () => {
    const page = await app.firstWindow();
    await page.getByTestId('connection-add').click();
    await page.getByTestId('add-connection-name').fill('Ops (SSO)');
    await page.getByTestId('add-connection-url').fill(server.url);
    await page.getByTestId('add-connection-sso').click();
    await expect(page.getByTestId('add-connection-sso-waiting')).toBeVisible();
    let opened: string[] = [];
    await expect.poll(async () => (opened = await app.evaluate(() => (globalThis as unknown as { openedUrls: string[] }).openedUrls))).toHaveLength(1);
    const url = new URL(opened[0]!);
    expect(`${url.origin}${url.pathname}`).toBe(`${provider.issuer}/auth`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    // The person, in "their browser".
    await visitAsPerson(url.href, 'alice', { issuer: provider.issuer });
    await expect(page.getByTestId('connection-identity')).toHaveText('alice@example.com · operator');
  });
});
