import { type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OidcVerifier, type OidcVerifierOptions } from '../../../main/server/auth/oidc-verifier.js';
import { parseRoleMapping } from '../../../main/server/auth/role-mapping.js';
import { closeCodes } from '../../../main/protocol/wire.js';
import { stores } from '../../support/stores.js';
import { CLIENT_ID, OTHER_CLIENT_ID, type TestProvider, startTestProvider, testRoles } from '../../support/oidc-provider.js';
import { signInAs } from '../../support/oidc-sign-in.js';
import { type TestServer, api, dsls, startServer, uniqueName } from './harness.js';

/*
 * People through OpenID Connect, against a real provider (oidc-provider on 127.0.0.1): each group's
 * role, every way a JWT is refused (with the hint a person needs), key rotation, NO_ROLE, and the
 * person as the actor of what they do — on both stores.
 */

function verifier(provider: TestProvider, roles = testRoles, options: OidcVerifierOptions = {}): OidcVerifier {
  return new OidcVerifier({ issuer: provider.issuer, clientId: CLIENT_ID, audience: CLIENT_ID, groupsClaim: 'groups', roles: parseRoleMapping(roles), scopes: null }, options);
}

interface ErrorBody {
  error: { code: string; message: string; hint: string; details?: Record<string, unknown> };
}
const errorOf = (json: unknown) => (json as ErrorBody).error;

async function foreignKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
}

describe.each(stores)('sign-in with OpenID Connect ($kind)', (factory) => {
  let provider: TestProvider;
  let s: TestServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    provider = await startTestProvider();
    s = await startServer({ store: await factory.open(uniqueName('oidc')), oidc: verifier(provider) });
    for (const person of ['alice', 'bob', 'vera', 'carol', 'dan', 'eve']) tokens[person] = (await signInAs(provider, person)).bearer;
  });
  afterAll(async () => {
    await s?.close();
    await provider?.close();
    await factory.dispose();
  });

  it('GET /api/v1/auth says how to sign in, without a token, and OpenAPI describes it', async () => {
    const res = await api(s.url, undefined, 'GET', '/api/v1/auth');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      methods: ['token', 'oidc'],
      // The provider lists offline_access and groups: the clients ask for both.
      oidc: { issuer: provider.issuer, client_id: CLIENT_ID, scopes: ['openid', 'profile', 'email', 'offline_access', 'groups'], audience: CLIENT_ID },
    });
    const doc = (await api(s.url, undefined, 'GET', '/api/v1/openapi.json')).json as { paths: Record<string, Record<string, { security: unknown[] }>> };
    expect(doc.paths['/api/v1/auth']?.get?.security).toEqual([]);
  });

  it('each group gives its role; whoami names the person, how they came in and when it expires', async () => {
    const expected = { alice: ['alice@example.com', 'operator'], bob: ['bob@example.com', 'admin'], vera: ['vera@example.com', 'viewer'] } as const;
    for (const [person, [name, role]] of Object.entries(expected)) {
      const res = await api(s.url, tokens[person], 'GET', '/api/v1/whoami');
      expect(res.status).toBe(200);
      const who = res.json as { name: string; role: string; via: string; expires_at: string };
      expect(who).toMatchObject({ name, role, via: 'oidc', environment: null });
      expect(Date.parse(who.expires_at)).toBeGreaterThan(Date.now());
    }
    // API tokens work beside people, as before.
    expect((await api(s.url, s.tokens.operator, 'GET', '/api/v1/whoami')).json).toEqual({ name: 'operator', role: 'operator', environment: null, via: 'token', expires_at: null });
  });

  it('the person is the email, else preferred_username — and never an email the provider has not verified', async () => {
    expect((await api(s.url, tokens.dan, 'GET', '/api/v1/whoami')).json).toMatchObject({ name: 'dan.ops', role: 'operator' });
    expect((await api(s.url, tokens.eve, 'GET', '/api/v1/whoami')).json).toMatchObject({ name: 'eve', role: 'operator' });
  });

  it('a person in no mapped group gets 403 NO_ROLE naming the groups that would give one', async () => {
    const res = await api(s.url, tokens.carol, 'GET', '/api/v1/workflows');
    expect(res.status).toBe(403);
    const error = errorOf(res.json);
    expect(error.code).toBe('NO_ROLE');
    expect(error.message).toContain('carol@example.com');
    expect(error.message).toContain('marketing');
    for (const group of ['rewind-admins', 'rewind-operators', 'oncall', 'rewind-viewers']) expect(error.hint).toContain(group);
    expect(error.details).toMatchObject({ person: 'carol@example.com', groups: ['marketing'], role_groups: { admin: ['rewind-admins'], operator: ['rewind-operators', 'oncall'], viewer: ['rewind-viewers'] } });
  });

  it("a rollback by a person names them as the event's actor; a refusal names the person and the groups to ask for", async () => {
    const wf = await s.backend.call('workflows:create', { name: uniqueName('oidc-rollback'), dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const refused = await api(s.url, tokens.vera, 'POST', `/api/v1/workflows/${wf.id}/versions/1/rollback`, {});
    expect(refused.status).toBe(403);
    expect(errorOf(refused.json).message).toContain('vera@example.com is viewer');
    expect(errorOf(refused.json).hint).toContain('rewind-operators');
    const done = await api(s.url, tokens.alice, 'POST', `/api/v1/workflows/${wf.id}/versions/1/rollback`, {});
    expect(done.status).toBe(200);
    const { events } = await s.backend.call('events:list', { after: 0, workflow_id: wf.id, limit: 100 });
    expect(events.find((e) => e.type === 'workflow_rollback')?.actor).toBe('alice@example.com');
    // An admin's token management is the person's too.
    const issued = await api(s.url, tokens.bob, 'POST', '/api/v1/tokens', { name: uniqueName('ci'), role: 'viewer' });
    expect(issued.status).toBe(201);
    expect((issued.json as { created_by: string }).created_by).toBe('bob@example.com');
    const log = await s.backend.call('events:list', { after: 0, limit: 10_000 });
    expect(log.events.filter((e) => e.type === 'token_issued').at(-1)?.actor).toBe('bob@example.com');
  });

  describe('refused tokens answer 401 with a hint', () => {
    const refusal = async (token: string) => {
      const res = await api(s.url, token, 'GET', '/api/v1/workflows');
      expect(res.status).toBe(401);
      const error = errorOf(res.json);
      expect(error.code).toBe('UNAUTHORIZED');
      return error;
    };
    const now = () => Math.floor(Date.now() / 1000);

    it("another application's token (wrong aud) names the audience expected", async () => {
      const grafana = (await signInAs(provider, 'alice', OTHER_CLIENT_ID)).bearer;
      const error = await refusal(grafana);
      expect(error.details).toMatchObject({ reason: 'audience', audience: OTHER_CLIENT_ID, expected_audience: CLIENT_ID });
      expect(error.message).toContain(`audience "${CLIENT_ID}"`);
      expect(error.hint).toContain('--oidc-audience');
    });

    it('an expired token says to sign in again', async () => {
      const token = await provider.mint({ sub: 'alice', email: 'alice@example.com', groups: ['rewind-operators'], iat: now() - 3600, exp: now() - 120 });
      const error = await refusal(token);
      expect(error.details?.reason).toBe('expired');
      expect(error.hint).toMatch(/sign in again/i);
    });

    it('a token within the clock leeway past its expiry still passes (≤ 60 s)', async () => {
      const token = await provider.mint({ sub: 'alice', email: 'alice@example.com', groups: ['rewind-operators'], iat: now() - 600, exp: now() - 20 });
      expect((await api(s.url, token, 'GET', '/api/v1/whoami')).status).toBe(200);
    });

    it('a token not yet valid points at the clocks', async () => {
      const token = await provider.mint({ sub: 'alice', email: 'alice@example.com', groups: ['rewind-operators'], nbf: now() + 600 });
      const error = await refusal(token);
      expect(error.details?.reason).toBe('not_yet_valid');
      expect(error.hint).toMatch(/clock/i);
    });

    it('a token signed by another key (the same kid) fails its signature', async () => {
      const token = await provider.mint({ sub: 'bob', email: 'bob@example.com', groups: ['rewind-admins'] }, { key: await foreignKey(String(provider.signingKey.kid)) });
      const error = await refusal(token);
      expect(error.details?.reason).toBe('signature');
    });

    it('alg none and HS256 signed with the public key are refused by the allow-list, before any key is fetched', async () => {
      const jwksBefore = provider.hits('/jwks');
      const payload = { iss: provider.issuer, aud: CLIENT_ID, sub: 'bob', email: 'bob@example.com', groups: ['rewind-admins'], iat: now(), exp: now() + 600 };
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
      expect((await refusal(none)).details).toMatchObject({ reason: 'algorithm', alg: 'none' });
      // The classic confusion attack: the provider's public key (as published) used as an HMAC secret.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = provider.signingKey;
      const hs256 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
      const error = await refusal(hs256);
      expect(error.details).toMatchObject({ reason: 'algorithm', alg: 'HS256' });
      expect(error.hint).toContain('HS*');
      expect(provider.hits('/jwks')).toBe(jwksBefore);
    });

    it('a token of another issuer is refused as such, without fetching anything', async () => {
      const jwksBefore = provider.hits('/jwks');
      const token = await provider.mint({ iss: 'https://login.other.example', sub: 'bob', groups: ['rewind-admins'] });
      expect((await refusal(token)).details).toMatchObject({ reason: 'issuer', expected_issuer: provider.issuer });
      expect(provider.hits('/jwks')).toBe(jwksBefore);
    });

    it('a malformed JWT and an unknown API token both answer 401', async () => {
      expect((await refusal('eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln')).details?.reason).toBe('malformed');
      expect((await refusal('rwt_not-a-token-at-all-000000')).message).toContain('not recognised');
    });
  });

  it('the event stream takes a JWT (header or ?token=) and refuses a person without a role', async () => {
    const opened = (headers: Record<string, string>, query = '') =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream?after=0${query}`, { headers });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      });
    expect(await opened({ authorization: `Bearer ${tokens.vera}` })).toBe(101);
    expect(await opened({}, `&token=${tokens.alice}`)).toBe(101);
    expect(await opened({ authorization: `Bearer ${tokens.carol}` })).toBe(403);
  });
});

describe('sign-in: roles and keys', () => {
  let provider: TestProvider;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    provider = await startTestProvider();
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(async () => {
    await provider.close();
  });

  it('viewer=* gives any signed-in person a role; the highest matching role wins', async () => {
    const s = await startServer({ oidc: verifier(provider, 'admin=rewind-admins;operator=staff;viewer=*') });
    servers.push(s);
    const carol = (await signInAs(provider, 'carol')).bearer;
    const bob = (await signInAs(provider, 'bob')).bearer;
    expect((await api(s.url, carol, 'GET', '/api/v1/whoami')).json).toMatchObject({ name: 'carol@example.com', role: 'viewer' });
    // bob is in rewind-admins and staff (and, as everyone, *): admin.
    expect((await api(s.url, bob, 'GET', '/api/v1/whoami')).json).toMatchObject({ role: 'admin' });
  });

  it('a server without --oidc-issuer offers tokens only and takes no JWT', async () => {
    const s = await startServer();
    servers.push(s);
    expect((await api(s.url, undefined, 'GET', '/api/v1/auth')).json).toEqual({ methods: ['token'] });
    expect((await api(s.url, (await signInAs(provider, 'bob')).bearer, 'GET', '/api/v1/whoami')).status).toBe(401);
  });

  it('a key rotation (new kid) is picked up; an unknown kid refetches the keys at most once a minute', async () => {
    const s = await startServer({ oidc: verifier(provider) });
    servers.push(s);
    const before = (await signInAs(provider, 'alice')).bearer;
    expect((await api(s.url, before, 'GET', '/api/v1/whoami')).status).toBe(200);
    const fetched = provider.hits('/jwks');
    // A stranger's tokens with made-up kids, again and again: the keys are fetched once more, not once per token.
    const stranger = await foreignKey('made-up');
    for (let i = 0; i < 5; i++) {
      const token = await provider.mint({ sub: 'alice', email: 'alice@example.com', groups: ['rewind-operators'] }, { key: { ...stranger, kid: `made-up-${i}` } });
      const res = await api(s.url, token, 'GET', '/api/v1/whoami');
      expect(res.status).toBe(401);
      expect(errorOf(res.json).details?.reason).toBe('unknown_key');
    }
    expect(provider.hits('/jwks') - fetched).toBeLessThanOrEqual(1);

    // The provider rotates: new tokens carry a kid this server has not seen, during its cooldown…
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const fresh = await provider.rotateKeys({ dropOld: true });
    const after = (await signInAs(provider, 'alice')).bearer;
    const early = await api(s.url, after, 'GET', '/api/v1/whoami');
    expect(early.status).toBe(401);
    expect(errorOf(early.json)).toMatchObject({ details: { reason: 'unknown_key', kid: fresh.kid } });
    expect(errorOf(early.json).hint).toContain('60 s');
    // …and a minute later the next unknown kid refetches the keys, and the token passes.
    vi.setSystemTime(Date.now() + 61_000);
    expect((await api(s.url, after, 'GET', '/api/v1/whoami')).json).toMatchObject({ name: 'alice@example.com', role: 'operator' });
    // The old key is no longer published: a token it signed, though seen and passed before, no longer passes.
    const old = await api(s.url, before, 'GET', '/api/v1/whoami');
    expect(old.status).toBe(401);
    expect(errorOf(old.json).details?.reason).toBe('unknown_key');
  });
});

describe('sign-in: an expiring JWT on the event stream', () => {
  it('closes the stream with the token-expired code; the client refreshes and resumes after its last seq without a gap', async () => {
    const { OidcSession } = await import('../../../main/sign-in/session.js');
    const { RemoteBackend } = await import('../../../main/backends/remote/index.js');
    const { discoveryOf } = await import('../../support/oidc-sign-in.js');
    // Short-lived ID tokens, and no leeway on this server: the stream's JWT expires within seconds.
    const provider = await startTestProvider({ idTokenTtl: 3 });
    const s = await startServer({ oidc: verifier(provider, testRoles, { clockToleranceSec: 0 }) });
    const closes: number[] = [];
    const states: string[] = [];
    try {
      const wf = await s.backend.call('workflows:create', { name: uniqueName('oidc-stream'), dsl: dsls.v1 });
      const signedIn = await signInAs(provider, 'vera');
      let refreshes = 0;
      const session = new OidcSession(discoveryOf(provider), signedIn, { onTokens: () => void refreshes++ });
      const remote = new RemoteBackend({ url: s.url, token: session, backoff: { initialMs: 50, maxMs: 200 } });
      const head = (await s.backend.call('events:head', {})).seq;
      const seen: number[] = [];
      const stop = remote.subscribe({ after: head, onEvent: (e) => seen.push(e.seq), onState: (state, detail) => states.push(`${state}${detail ? `: ${detail}` : ''}`) });
      // Watch the server's side of the socket close too.
      const watch = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream?after=${head}`, { headers: { authorization: `Bearer ${signedIn.bearer}` } });
      watch.on('close', (code) => closes.push(code));
      const drafts = async (n: number) => {
        for (let i = 0; i < n; i++) await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
      };
      await drafts(3);
      await vi.waitFor(() => expect(closes).toContain(closeCodes.tokenExpired), { timeout: 15_000, interval: 50 });
      await vi.waitFor(() => expect(states.some((st) => st.startsWith('reconnecting') && st.includes('sign-in expired'))).toBe(true), { timeout: 15_000, interval: 50 });
      await drafts(3);
      const last = (await s.backend.call('events:head', {})).seq;
      await vi.waitFor(() => expect(seen.at(-1)).toBe(last), { timeout: 15_000, interval: 50 });
      // Every event once, in order, across the expiry.
      expect(seen).toEqual(Array.from({ length: last - head }, (_, i) => head + 1 + i));
      expect(refreshes).toBeGreaterThanOrEqual(1);
      expect(states.at(-1)).toBe('live');
      stop();
      await remote.close();
      session.close();
    } finally {
      await s.close();
      await provider.close();
    }
  });
});
