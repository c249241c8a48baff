import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, type TestProvider, startTestProvider, testRoles } from '../../support/oidc-provider.js';
import { signInAs } from '../../support/oidc-sign-in.js';
import { type ChildServer, api, killHard, spawnServer, tempDir } from './harness.js';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './harness.js';

/** The `rewind-server` bin as an operator starts it: the sign-in settings from its environment, mistakes refused before it listens. */
describe('rewind-server --oidc-*', () => {
  let provider: TestProvider;
  let child: ChildServer;
  beforeAll(async () => {
    provider = await startTestProvider();
    child = await spawnServer(['--port', '0', '--db', join(tempDir(), 'rewind.db')], {
      REWIND_OIDC_ISSUER: provider.issuer,
      REWIND_OIDC_CLIENT_ID: CLIENT_ID,
      REWIND_OIDC_ROLES: testRoles,
      REWIND_ADMIN_TOKEN: 'rwt_admin-token-for-the-flags-test',
    });
  });
  afterAll(async () => {
    await killHard(child);
    await provider.close();
  });

  it('says how people sign in, announces it, and takes their JWTs beside API tokens', async () => {
    expect(child.output()).toContain(`Sign-in: OpenID Connect through ${provider.issuer} (client ${CLIENT_ID}, audience ${CLIENT_ID}; admin: rewind-admins; operator: rewind-operators, oncall; viewer: rewind-viewers), and API tokens.`);
    expect((await api(child.url, undefined, 'GET', '/api/v1/auth')).json).toMatchObject({ methods: ['token', 'oidc'], oidc: { issuer: provider.issuer, client_id: CLIENT_ID } });
    const bob = (await signInAs(provider, 'bob')).bearer;
    expect((await api(child.url, bob, 'GET', '/api/v1/whoami')).json).toMatchObject({ name: 'bob@example.com', role: 'admin', via: 'oidc' });
    expect((await api(child.url, 'rwt_admin-token-for-the-flags-test', 'GET', '/api/v1/whoami')).json).toMatchObject({ name: 'admin', via: 'token' });
  });

  it('refuses settings it cannot use, naming them, with exit 2', () => {
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['bin/rewind-server.mjs', '--port', '0', '--db', join(tempDir(), 'x.db')], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    const noRoles = start({ REWIND_OIDC_ISSUER: provider.issuer, REWIND_OIDC_CLIENT_ID: CLIENT_ID });
    expect(noRoles.status).toBe(2);
    expect(noRoles.stderr).toContain('--oidc-issuer needs --oidc-roles');
    const badRole = start({ REWIND_OIDC_ISSUER: provider.issuer, REWIND_OIDC_CLIENT_ID: CLIENT_ID, REWIND_OIDC_ROLES: 'owner=everyone' });
    expect(badRole.status).toBe(2);
    expect(badRole.stderr).toContain('"owner" is not a role');
    const plainHttp = start({ REWIND_OIDC_ISSUER: 'http://id.example', REWIND_OIDC_CLIENT_ID: CLIENT_ID, REWIND_OIDC_ROLES: 'viewer=*' });
    expect(plainHttp.status).toBe(2);
    expect(plainHttp.stderr).toContain('is not https');
  });
});
