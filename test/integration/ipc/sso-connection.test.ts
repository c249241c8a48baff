import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { SECRETS_FILE } from '../../../main/ipc/connections/token-vault.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import { OidcVerifier } from '../../../main/server/auth/oidc-verifier.js';
import { parseRoleMapping } from '../../../main/server/auth/role-mapping.js';
import { authorizationOpener } from '../../../main/sign-in/external-opener.js';
import type { ApiResult, AuthDiscovery, ConnectionInfo, SignInResult, Workflow } from '../../../preload/contract/index.js';
import { CLIENT_ID, type TestProvider, startTestProvider, testRoles } from '../../support/oidc-provider.js';
import { visitAsPerson } from '../../support/oidc-user.js';
import { dsls, startServer, uniqueName } from '../server/harness.js';
import { eventually, fakeSecretStore, onCleanup, tempDir } from './helpers.js';

/*
 * "Sign in with SSO" in the desktop console, with everything real but the system browser: main opens
 * the provider's authorization endpoint through the opener it is given (here: the person at the
 * provider's pages, played over HTTP), catches the loopback redirect, keeps the refresh token in the
 * keychain vault and the JWT in memory only.
 */

function value<T>(result: ApiResult<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

async function signedInServer(provider: TestProvider) {
  const server = await startServer({ oidc: new OidcVerifier({ issuer: provider.issuer, clientId: CLIENT_ID, audience: CLIENT_ID, groupsClaim: 'groups', roles: parseRoleMapping(testRoles), scopes: null }) });
  onCleanup(() => server.close());
  return server;
}

/** The system browser, as the desktop's shell.openExternal would be: records what it was asked to open, and the person signs in there. */
function browserOf(provider: TestProvider, person: () => string | null) {
  const opened: string[] = [];
  return {
    opened,
    open: async (url: string) => {
      opened.push(url);
      const who = person();
      // Nobody at the browser: the sign-in waits (until cancelled).
      if (who !== null) void visitAsPerson(url, who, { issuer: provider.issuer });
    },
  };
}

/** Every file under `dir`, as text: what a copied disk would give away. */
function everythingOnDisk(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path).toString('latin1'))
    .join('\n');
}

describe('the desktop console signs people in with SSO', () => {
  it('adds a server through the system browser (PKCE, state, nonce, loopback), shows the person and role, and acts as them', async () => {
    const provider = await startTestProvider();
    onCleanup(() => provider.close());
    const server = await signedInServer(provider);
    const wf = await server.backend.call('workflows:create', { name: uniqueName('sso'), dsl: dsls.v1 });
    await server.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    await server.backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const dir = tempDir();
    const secretStore = fakeSecretStore();
    const browser = browserOf(provider, () => 'alice');
    const open = () => openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0 }, connectionsDir: dir, secretStore, createRemote: createRemoteBackend, sso: { kind: 'system-browser', open: browser.open } });
    const opened = await open();
    const { service, connections } = opened;

    const auth = value<AuthDiscovery>(await service.handle('connections:authMethods', { url: server.url }));
    expect(auth).toMatchObject({ methods: ['token', 'oidc'], oidc: { issuer: provider.issuer, client_id: CLIENT_ID } });

    const added = value<SignInResult>(await service.handle('connections:addSso', { name: 'Ops', url: server.url, environment: 'production' }));
    expect(added.redirect).toBeNull();
    const id = added.connection!.id;
    expect(added.connection).toMatchObject({ sign_in: 'oidc', has_token: true });
    // The system browser was asked for the provider's authorization endpoint, and nothing else.
    expect(browser.opened).toHaveLength(1);
    const request = new URL(browser.opened[0]!);
    expect(`${request.origin}${request.pathname}`).toBe(`${provider.issuer}/auth`);
    expect(request.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');
    expect(request.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.searchParams.get('state')).toBeTruthy();
    expect(request.searchParams.get('nonce')).toBeTruthy();
    const info = () => connections.list().find((c) => c.id === id);
    await eventually(() => expect(info()).toMatchObject({ state: 'connected', actor: 'alice@example.com', role: 'operator', sign_in: 'oidc' }), 15_000);

    value(await service.handle('connections:select', { id }));
    const { workflows } = value<{ workflows: Workflow[] }>(await service.handle('workflows:list', { query: wf.name }));
    value(await service.handle('versions:rollback', { workflow_id: wf.id, version: 1, expected_revision: workflows[0]!.revision }));
    const { events } = await server.backend.call('events:list', { after: 0, workflow_id: wf.id, limit: 100 });
    expect(events.find((e) => e.type === 'workflow_rollback')?.actor).toBe('alice@example.com');

    // The refresh token is in the keychain's file, encrypted; no JWT and no refresh token is on disk in the clear.
    const secrets = JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, string> };
    const kept = JSON.parse(secretStore.decryptString(Buffer.from(secrets.secrets[id]!, 'base64'))) as { refresh_token: string };
    expect(kept.refresh_token).toBeTruthy();
    const disk = everythingOnDisk(dir);
    expect(disk).not.toContain(kept.refresh_token);
    expect(disk).not.toContain('eyJ');

    // A restart signs in again from the keychain alone: no browser.
    await opened.close();
    const again = await open();
    onCleanup(() => again.close());
    await eventually(() => expect(again.connections.list().find((c) => c.id === id)).toMatchObject({ state: 'connected', actor: 'alice@example.com', role: 'operator' }), 15_000);
    expect(browser.opened).toHaveLength(1);

    // Sign out: forgotten here, revoked at the provider; the connection stays, asking for a sign-in.
    const refresh = (JSON.parse(secretStore.decryptString(Buffer.from((JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, string> }).secrets[id]!, 'base64'))) as { refresh_token: string }).refresh_token;
    const out = value<ConnectionInfo>(await again.service.handle('connections:signOut', { id }));
    expect(out).toMatchObject({ has_token: false, state: 'refused', detail: expect.stringContaining('Signed out') });
    expect((JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, string> }).secrets[id]).toBeUndefined();
    const config = await client.discovery(new URL(provider.issuer), CLIENT_ID, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    await expect(client.refreshTokenGrant(config, refresh)).rejects.toMatchObject({ error: 'invalid_grant' });

    // And back in, as the person the browser signs in now.
    const back = value<SignInResult>(await again.service.handle('connections:signIn', { id }));
    expect(back.connection).toMatchObject({ has_token: true });
    await eventually(() => expect(again.connections.list().find((c) => c.id === id)).toMatchObject({ state: 'connected', actor: 'alice@example.com' }), 15_000);
  });

  it('a refresh the provider refuses asks to sign in again, and the console stays where it was', async () => {
    // Short-lived JWTs, so the console refreshes within seconds.
    const provider = await startTestProvider({ idTokenTtl: 4 });
    onCleanup(() => provider.close());
    const server = await signedInServer(provider);
    const dir = tempDir();
    const browser = browserOf(provider, () => 'bob');
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0 }, connectionsDir: dir, secretStore: fakeSecretStore(), createRemote: createRemoteBackend, sso: { kind: 'system-browser', open: browser.open } });
    onCleanup(() => opened.close());
    const id = value<SignInResult>(await opened.service.handle('connections:addSso', { name: 'Ops', url: server.url })).connection!.id;
    value(await opened.service.handle('connections:select', { id }));
    await eventually(() => expect(opened.connections.list().find((c) => c.id === id)).toMatchObject({ state: 'connected', actor: 'bob@example.com', role: 'admin' }), 15_000);
    // The person is disabled at the provider: every refresh token it issued is gone.
    provider.revokeEverything();
    await eventually(
      () => expect(opened.connections.list().find((c) => c.id === id)).toMatchObject({ has_token: false, state: 'refused', selected: true, detail: expect.stringContaining('Sign in again') }),
      20_000,
    );
    // Calls say so too, with the same remedy.
    const refused = await opened.service.handle('workflows:list', {});
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', hint: expect.stringContaining('Sign in') } });
  });

  it('a sign-in nobody finishes can be cancelled; a server without SSO says so', async () => {
    const provider = await startTestProvider();
    onCleanup(() => provider.close());
    const server = await signedInServer(provider);
    const plain = await startServer();
    onCleanup(() => plain.close());
    const dir = tempDir();
    const browser = browserOf(provider, () => null);
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend, sso: { kind: 'system-browser', open: browser.open } });
    onCleanup(() => opened.close());
    const waiting = opened.service.handle('connections:addSso', { name: 'Ops', url: server.url });
    await eventually(() => expect(browser.opened).toHaveLength(1), 10_000);
    expect(value<{ cancelled: boolean }>(await opened.service.handle('connections:cancelSignIn', {}))).toEqual({ cancelled: true });
    expect(await waiting).toMatchObject({ ok: false, error: { code: 'SIGN_IN_FAILED', message: expect.stringContaining('cancelled') } });
    expect(opened.connections.list().map((c) => c.name)).not.toContain('Ops');
    expect(await opened.service.handle('connections:addSso', { name: 'Plain', url: plain.url })).toMatchObject({ ok: false, error: { code: 'SIGN_IN_FAILED', message: expect.stringContaining('API tokens only') } });
    expect(value<AuthDiscovery>(await opened.service.handle('connections:authMethods', { url: plain.url }))).toEqual({ methods: ['token'] });
  });

  it('the opener passes only the provider’s authorization endpoint to the system browser', async () => {
    const seen: string[] = [];
    const open = authorizationOpener(async (url) => void seen.push(url), 'https://id.example/realms/ops/protocol/openid-connect/auth');
    await open('https://id.example/realms/ops/protocol/openid-connect/auth?client_id=rewind&state=s');
    for (const bad of ['https://evil.example/realms/ops/protocol/openid-connect/auth', 'file:///etc/passwd', 'http://id.example/realms/ops/protocol/openid-connect/auth', 'https://id.example/other', 'javascript:alert(1)']) {
      await expect(open(bad)).rejects.toMatchObject({ code: 'SIGN_IN_FAILED' });
    }
    expect(seen).toEqual(['https://id.example/realms/ops/protocol/openid-connect/auth?client_id=rewind&state=s']);
  });
});
