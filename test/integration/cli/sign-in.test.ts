import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcVerifier } from '../../../main/server/auth/oidc-verifier.js';
import { parseRoleMapping } from '../../../main/server/auth/role-mapping.js';
import { CLIENT_ID, type TestProvider, startTestProvider, testRoles } from '../../support/oidc-provider.js';
import { visitAsPerson } from '../../support/oidc-user.js';
import { type TestServer, dsls, repoRoot, startServer, tempDir, uniqueName } from '../server/harness.js';

/*
 * The CLI signs a person in against a real provider: the device grant (the test is the person at the
 * provider's pages), the browser flow where the provider has no device grant, a cache file only its
 * owner can read, refreshed when the JWT lapses, `logout` revoking it; REWIND_TOKEN still wins.
 */

interface Cli {
  /** Resolves with the first stderr/stdout match of `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function rewind(args: string[], env: Record<string, string>): Cli {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.pattern.exec(stderr) ?? w.pattern.exec(stdout);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    check();
  });
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    check();
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    done,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        void done.then(() => reject(new Error(`the CLI exited before printing ${pattern}:\n${stdout}\n${stderr}`)));
      }),
  };
}

const run = (args: string[], env: Record<string, string>) => rewind(args, env).done;

function signedInServer(provider: TestProvider): Promise<TestServer> {
  return startServer({ oidc: new OidcVerifier({ issuer: provider.issuer, clientId: CLIENT_ID, audience: CLIENT_ID, groupsClaim: 'groups', roles: parseRoleMapping(testRoles), scopes: null }) });
}

interface CacheFile {
  servers: Record<string, { bearer: string; expires_at: number; refresh_token: string | null; discovery: { issuer: string } }>;
}

describe('rewind login (device grant)', () => {
  let provider: TestProvider;
  let s: TestServer;
  let env: Record<string, string>;
  let cacheFile: string;
  let wfName: string;

  beforeAll(async () => {
    provider = await startTestProvider();
    s = await signedInServer(provider);
    const home = tempDir('rewind-cli-home-');
    env = { XDG_CONFIG_HOME: home };
    cacheFile = join(home, 'Rewind', 'cli-sign-in.json');
    wfName = uniqueName('cli-oidc');
    const wf = await s.backend.call('workflows:create', { name: wfName, dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
  });
  afterAll(async () => {
    await s.close();
    await provider.close();
  });

  it('without a sign-in or REWIND_TOKEN, a server verb says how to get one', async () => {
    const out = await run(['--server', s.url, 'whoami'], env);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`rewind login --server ${s.url}`);
  });

  it('prints the address and code, and signs in once the person confirms at the provider', async () => {
    const cli = rewind(['login', '--server', s.url], env);
    const [, uri, code] = await cli.waitFor(/open (\S+) and enter the code (\S+)/);
    const [, complete] = await cli.waitFor(/\(or open (\S+)\)/);
    expect(uri).toBe(`${provider.issuer}/device`);
    expect(complete).toBe(`${uri}?user_code=${code}`);
    // The person, on another device: the provider's own confirmation, login and consent pages.
    const visit = await visitAsPerson(complete!, 'alice', { issuer: provider.issuer });
    expect(visit.body).toContain('Sign-in Success');
    const out = await cli.done;
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Signed in to ${s.url} as alice@example.com · operator`);
    // The cache: the owner's alone, holding the refresh token — and nothing of it on the terminal.
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    const cached = (JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile).servers[s.url]!;
    expect(cached.refresh_token).toBeTruthy();
    expect(out.stdout + out.stderr).not.toContain(cached.refresh_token!);
  });

  it('whoami and every verb act as the person; a rollback names them', async () => {
    // Someone widened the cache file: it is narrowed again before it is read (this whoami writes nothing).
    chmodSync(cacheFile, 0o644);
    const who = await run(['--server', s.url, 'whoami'], env);
    expect(who.code).toBe(0);
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    expect(who.stdout).toMatch(/^alice@example\.com · operator \(signed in, until /);
    const rolled = await run(['--server', s.url, 'rollback', wfName, '1'], env);
    expect(rolled.code).toBe(0);
    const { events } = await s.backend.call('events:list', { after: 0, limit: 1000 });
    expect(events.filter((e) => e.type === 'workflow_rollback').at(-1)?.actor).toBe('alice@example.com');
  });

  it('refreshes a lapsed JWT with the refresh token and keeps the new one, still for the owner only', async () => {
    const file = JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile;
    const before = file.servers[s.url]!;
    // As if an hour had passed: the cached JWT is due.
    before.expires_at = Date.now() - 1000;
    writeFileSync(cacheFile, JSON.stringify(file));
    const tokensBefore = provider.hits('/token');
    const who = await run(['--server', s.url, 'whoami'], env);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain('alice@example.com · operator');
    expect(provider.hits('/token')).toBe(tokensBefore + 1);
    const after = (JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile).servers[s.url]!;
    expect(after.bearer).not.toBe(before.bearer);
    expect(after.expires_at).toBeGreaterThan(Date.now());
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
  });

  it('REWIND_TOKEN still wins over the sign-in', async () => {
    const who = await run(['--server', s.url, 'whoami'], { ...env, REWIND_TOKEN: s.tokens.viewer });
    expect(who.stdout).toMatch(/^viewer · viewer \(API token\)/);
  });

  it('logout revokes the refresh token at the provider and forgets it', async () => {
    const refreshToken = (JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile).servers[s.url]!.refresh_token!;
    const out = await run(['logout', '--server', s.url], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Signed out of ${s.url} (the refresh token was revoked at ${provider.issuer})`);
    expect((JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile).servers[s.url]).toBeUndefined();
    const config = await client.discovery(new URL(provider.issuer), CLIENT_ID, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    await expect(client.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await run(['--server', s.url, 'whoami'], env)).code).toBe(2);
  });

  it('a server without sign-in says so, and how to use a token instead', async () => {
    const plain = await startServer();
    try {
      const out = await run(['login', '--server', plain.url], env);
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('SIGN_IN_FAILED');
      expect(out.stderr).toContain('REWIND_TOKEN');
    } finally {
      await plain.close();
    }
  });
});

describe('rewind login (browser flow, a provider without the device grant)', () => {
  it('prints the authorization address; the loopback redirect completes the sign-in', async () => {
    const provider = await startTestProvider({ deviceFlow: false });
    const s = await signedInServer(provider);
    const env = { XDG_CONFIG_HOME: tempDir('rewind-cli-home-') };
    try {
      const cli = rewind(['login', '--server', s.url], env);
      const [, url] = await cli.waitFor(/Open this address in your browser to sign in:\n\s+(\S+)/);
      const authorization = new URL(url!);
      expect(authorization.origin + authorization.pathname).toBe(`${provider.issuer}/auth`);
      expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorization.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      expect(authorization.searchParams.get('state')).toBeTruthy();
      expect(authorization.searchParams.get('nonce')).toBeTruthy();
      const visit = await visitAsPerson(url!, 'bob', { issuer: provider.issuer });
      expect(visit.body).toContain('Signed in to Rewind');
      const out = await cli.done;
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('as bob@example.com · admin');
    } finally {
      await s.close();
      await provider.close();
    }
  });
});
