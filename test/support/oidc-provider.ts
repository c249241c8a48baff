import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
// The library's own memory adapter, one per provider life (its default storage is shared by every instance in the process).
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

/*
 * A real OpenID provider for tests: panva's certified `oidc-provider`, on 127.0.0.1, with its own
 * development login and consent pages (any password), people in groups, the device grant and token
 * revocation. The tests drive it as a person would (see oidc-user.ts) and hold its signing key, so they
 * can also mint tokens it never would (expired, not yet valid) with the very key it publishes.
 */

export interface TestPerson {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
  groups: string[];
}

/** Who can sign in (the login page's "login" field is the account id). */
export const people: Record<string, TestPerson> = {
  alice: { email: 'alice@example.com', email_verified: true, preferred_username: 'alice', name: 'Alice Ops', groups: ['rewind-operators'] },
  bob: { email: 'bob@example.com', email_verified: true, preferred_username: 'bob', name: 'Bob Admin', groups: ['rewind-admins', 'staff'] },
  vera: { email: 'vera@example.com', email_verified: true, preferred_username: 'vera', groups: ['rewind-viewers'] },
  /** In groups that give no role on a server mapping only the rewind-* groups. */
  carol: { email: 'carol@example.com', email_verified: true, preferred_username: 'carol', groups: ['marketing'] },
  /** No email: the person is the preferred_username. */
  dan: { preferred_username: 'dan.ops', groups: ['rewind-operators'] },
  /** An email the provider has not verified: the person is the preferred_username, not a name anyone could type. */
  eve: { email: 'ceo@example.com', email_verified: false, preferred_username: 'eve', groups: ['rewind-operators'] },
};

/** The roles the tests give: `--oidc-roles` as an operator would write it. */
export const testRoles = 'admin=rewind-admins;operator=rewind-operators,oncall;viewer=rewind-viewers';

/** The public client Rewind's console and CLI use (PKCE, no secret), and another application of the same provider. */
export const CLIENT_ID = 'rewind';
export const OTHER_CLIENT_ID = 'grafana';

export interface TestProvider {
  issuer: string;
  /** The private key the provider signs with now (its `kid` is in the JWKS). */
  signingKey: JWK;
  /** Requests the provider has answered on each path (the tests count JWKS and token fetches). */
  hits(path: string): number;
  /** A token as the provider would sign it, with the claims given (iss, aud, iat, exp defaulted). */
  mint(claims: Record<string, unknown>, options?: { key?: JWK; header?: Record<string, unknown> }): Promise<string>;
  /** Publishes a new signing key (new `kid`) and signs with it from now on; the old one stays published for a while, as real providers do… unless `dropOld`. */
  rotateKeys(options?: { dropOld?: boolean }): Promise<JWK>;
  /** Refresh tokens and grants are forgotten: every refresh fails (a person disabled at the provider). */
  revokeEverything(): void;
  close(): Promise<void>;
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' };
}

/** A provider configuration of the real library: only what a team's IdP would configure for Rewind. */
function configuration(keys: JWK[], adapter: unknown, options: { idTokenTtl: number; deviceFlow: boolean }) {
  const loopback = ['http://127.0.0.1/callback'];
  return {
    clients: [
      {
        client_id: CLIENT_ID,
        client_name: 'Rewind',
        // A native client: any loopback port is its redirect (RFC 8252 §7.3), the desktop app's and browser mode's.
        application_type: 'native' as const,
        token_endpoint_auth_method: 'none' as const,
        redirect_uris: loopback,
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', ...(options.deviceFlow ? ['urn:ietf:params:oauth:grant-type:device_code'] : [])],
      },
      {
        client_id: OTHER_CLIENT_ID,
        client_name: 'Grafana',
        application_type: 'native' as const,
        token_endpoint_auth_method: 'none' as const,
        redirect_uris: loopback,
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      },
    ],
    jwks: { keys },
    adapter,
    async findAccount(_ctx: unknown, sub: string) {
      const person = people[sub];
      if (!person) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...person }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'name'], groups: ['groups'] },
    // The ID token carries the scopes' claims (as Keycloak, Dex and Okta do for groups), not only userinfo.
    conformIdTokenClaims: false,
    // As Keycloak: a refresh token for every client allowed the grant (no `prompt=consent` dance for offline_access).
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: () => true },
    ttl: { IdToken: options.idTokenTtl, AccessToken: options.idTokenTtl, RefreshToken: 24 * 3600, DeviceCode: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    cookies: { keys: ['rewind-test-cookie-key'] },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: options.deviceFlow },
      revocation: { enabled: true },
    },
    // The tests' clocks are the machine's: no skew to forgive here.
    clockTolerance: 0,
  };
}

/**
 * Starts the provider on a free loopback port. `idTokenTtl` (seconds) lets a test see tokens expire;
 * `deviceFlow: false` is a provider without RFC 8628 (the CLI then takes the loopback flow).
 */
export async function startTestProvider(options: { idTokenTtl?: number; deviceFlow?: boolean } = {}): Promise<TestProvider> {
  const counts = new Map<string, number>();
  let keys = [await newSigningKey()];
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (!handler) {
      res.writeHead(503).end();
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let adapter: unknown = createMemoryAdapter();
  const build = () => {
    const provider = new Provider(issuer, configuration(keys, adapter, { idTokenTtl: options.idTokenTtl ?? 3600, deviceFlow: options.deviceFlow ?? true }) as never);
    // Its own notices (devInteractions, dev keys) are for people trying it out, not test output.
    provider.on('server_error', (_ctx: unknown, err: Error) => process.stderr.write(`oidc-provider: ${err.message}\n`));
    handler = provider.callback();
  };
  build();
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return {
    issuer,
    get signingKey() {
      return keys[0]!;
    },
    hits: (path) => counts.get(path) ?? 0,
    async mint(claims, mintOptions = {}) {
      const key = mintOptions.key ?? keys[0]!;
      const now = Math.floor(Date.now() / 1000);
      const { importJWK } = await import('jose');
      const header = { alg: 'RS256', kid: key.kid, typ: 'JWT', ...mintOptions.header };
      return new SignJWT({ iss: issuer, aud: CLIENT_ID, iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader(header as { alg: string })
        .sign(await importJWK(key, String(header.alg)));
    },
    async rotateKeys(rotateOptions = {}) {
      const fresh = await newSigningKey();
      // The first key of the JWKS is the one oidc-provider signs with.
      keys = rotateOptions.dropOld ? [fresh] : [fresh, ...keys];
      // The same storage: sessions, grants and refresh tokens outlive the rotation, as in a real provider's database.
      build();
      return fresh;
    },
    revokeEverything() {
      adapter = createMemoryAdapter();
      build();
    },
    async close() {
      handler = null;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
