import { type JWTPayload, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { OidcDiscovery, Role } from '../../../preload/contract/index.js';
import { RewindError } from '../../engine/errors.js';
import { type RoleMapping, describeMapping, groupsGiving, roleFor } from './role-mapping.js';

/*
 * People, through OpenID Connect: a bearer JWT is checked against the issuer's published keys (its
 * discovery document's jwks_uri, fetched with jose's remote key set: cached, refetched on an unknown
 * `kid` at most once per cooldown), for issuer, audience, expiry and not-before with a bounded leeway,
 * and only with the asymmetric algorithms of the allow-list — never `none`, never HS* (a public key is
 * not a shared secret). The person's groups give the role.
 */

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** The `aud` accepted; by default the client id (the ID tokens of the console and the CLI). */
  audience: string;
  /** The claim holding the person's groups; a dotted path reaches into an object (`realm_access.roles`). */
  groupsClaim: string;
  roles: RoleMapping;
  /** What clients ask the provider for; null: openid, profile, email, and offline_access and the groups scope when the provider lists them. */
  scopes: string[] | null;
}

export interface OidcVerifierOptions {
  /** The least time between two fetches of the keys for an unknown `kid`. */
  jwksCooldownMs?: number;
  /** Leeway on exp, nbf and iat, for clocks that disagree a little (≤ 60 s). */
  clockToleranceSec?: number;
  /** Per request to the provider. */
  timeoutMs?: number;
  /** After a failed discovery, how long requests are answered from the failure before it is tried again. */
  retryAfterMs?: number;
}

/** A signed-in person, as a request's identity. */
export interface OidcPerson {
  /** Stable per person (the provider's `sub`): rate limits and idempotency keys are scoped to it. */
  id: string;
  /** The audit log's actor: the email, else preferred_username, else sub. */
  name: string;
  role: Role;
  groups: string[];
  /** When the token stops being accepted (its exp plus the leeway), ms since the epoch. */
  acceptedUntil: number;
  /** The token's own exp, ms since the epoch (what whoami shows). */
  expiresAt: number;
}

export const ALLOWED_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
const MAX_TOLERANCE_SEC = 60;
/**
 * A token verified once is taken at its word for this long (never past its expiry): a signature check
 * costs the thread pool a round trip per request otherwise. The price: a key the provider stops
 * publishing stops passing the tokens already seen within this time, not at once.
 */
const VERIFIED_FOR_MS = 30_000;
const MAX_VERIFIED = 1000;

/** A JWT's shape (three base64url parts, a JSON header): told apart from an API token without any crypto. */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

const metadataSchema = z.object({
  issuer: z.string(),
  jwks_uri: z.url(),
  authorization_endpoint: z.string().optional(),
  scopes_supported: z.array(z.string()).optional(),
});
type ProviderMetadata = z.infer<typeof metadataSchema>;

type Reason = 'expired' | 'not_yet_valid' | 'audience' | 'issuer' | 'signature' | 'unknown_key' | 'algorithm' | 'malformed' | 'claims';

function refused(reason: Reason, message: string, hint: string, details: Record<string, unknown> = {}): RewindError {
  return new RewindError('UNAUTHORIZED', message, hint, { reason, ...details });
}

const iso = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : String(seconds));
const SIGN_IN_AGAIN = 'Sign in again (`rewind login --server URL`, or Sign in with SSO in the console).';

/** The value at a dotted path of the claims (`groups`, `realm_access.roles`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The person's groups: an array of strings, or one string (some providers send a single group so). */
export function groupsOf(payload: JWTPayload, claim: string): string[] {
  const value = claimAt(payload, claim);
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string') : [];
}

/**
 * Who the token names: the email — unless the provider says it is unverified, as a name anyone could
 * type must not become an audit line's actor — else preferred_username, else sub.
 */
export function personOf(payload: JWTPayload): string {
  const email = payload.email;
  if (typeof email === 'string' && email !== '' && payload.email_verified !== false) return email;
  const username = payload.preferred_username;
  if (typeof username === 'string' && username !== '') return username;
  return String(payload.sub);
}

export class OidcVerifier {
  private metadata: Promise<ProviderMetadata> | null = null;
  private jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  private readonly toleranceSec: number;
  private readonly timeoutMs: number;
  /** Tokens that passed, by their whole text (signature included): an exact repeat only. */
  private readonly verified = new Map<string, { person: OidcPerson; until: number }>();

  constructor(
    readonly settings: OidcSettings,
    private readonly options: OidcVerifierOptions = {},
  ) {
    this.toleranceSec = Math.min(options.clockToleranceSec ?? MAX_TOLERANCE_SEC, MAX_TOLERANCE_SEC);
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** The provider's discovery document, fetched once (again after a failure, once `retryAfterMs` passed). */
  discover(): Promise<ProviderMetadata> {
    if (!this.metadata) {
      const loading = this.fetchMetadata();
      this.metadata = loading;
      loading.catch(() => {
        const timer = setTimeout(() => {
          if (this.metadata === loading) this.metadata = null;
        }, this.options.retryAfterMs ?? 5000);
        timer.unref();
      });
    }
    return this.metadata;
  }

  /** What `GET /api/v1/auth` says of OpenID Connect. */
  async describe(): Promise<OidcDiscovery> {
    const { scopes_supported } = await this.discover();
    const supported = (scope: string) => scopes_supported === undefined || scopes_supported.includes(scope);
    const groupsScope = this.settings.groupsClaim.split('.')[0]!;
    const scopes = this.settings.scopes ?? [
      'openid',
      'profile',
      'email',
      ...(supported('offline_access') ? ['offline_access'] : []),
      // Only when listed: Dex and Okta refuse a scope they do not know.
      ...(scopes_supported?.includes(groupsScope) ? [groupsScope] : []),
    ];
    return { issuer: this.settings.issuer, client_id: this.settings.clientId, scopes, audience: this.settings.audience };
  }

  /** The groups that would give `role` or more: what a refusal's hint tells a person to ask for. */
  groupsGiving(role: Role): string[] {
    return groupsGiving(role, this.settings.roles);
  }

  /** Checks a bearer JWT; the person it names with their role, or a typed refusal whose hint says what to do. */
  async verify(token: string): Promise<OidcPerson> {
    const seen = this.verified.get(token);
    if (seen && Date.now() < seen.until) return seen.person;
    if (seen) this.verified.delete(token);
    const person = await this.check(token);
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { person, until: Math.min(person.acceptedUntil, Date.now() + VERIFIED_FOR_MS) });
    return person;
  }

  private async check(token: string): Promise<OidcPerson> {
    const { issuer, audience } = this.settings;
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claimed: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claimed = decodeJwt(token);
    } catch {
      throw refused('malformed', 'The bearer token is shaped like a JWT but cannot be read as one.', `Send the token the identity provider issued, whole. ${SIGN_IN_AGAIN}`);
    }
    // Before any key is looked up: no fetch for a token that could never pass.
    if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(String(header.alg))) {
      throw refused(
        'algorithm',
        `The token is signed with ${JSON.stringify(header.alg ?? null)}; this server accepts ${ALLOWED_ALGORITHMS.join(', ')} only.`,
        `Unsigned (none) and shared-secret (HS*) tokens are never accepted. ${SIGN_IN_AGAIN}`,
        { alg: header.alg ?? null, allowed: [...ALLOWED_ALGORITHMS] },
      );
    }
    if (claimed.iss !== issuer) {
      throw refused(
        'issuer',
        `The token was issued by ${JSON.stringify(claimed.iss ?? null)}; this server trusts ${issuer} only.`,
        `Sign in through this server's identity provider (GET /api/v1/auth names it). ${SIGN_IN_AGAIN}`,
        { issuer: claimed.iss ?? null, expected_issuer: issuer },
      );
    }
    const keys = await this.keys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms: [...ALLOWED_ALGORITHMS],
        clockTolerance: this.toleranceSec,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw this.explain(err, header, claimed);
    }
    const name = personOf(payload);
    const groups = groupsOf(payload, this.settings.groupsClaim);
    const role = roleFor(groups, this.settings.roles);
    if (role === null) {
      const giving = this.groupsGiving('viewer');
      throw new RewindError(
        'NO_ROLE',
        `${name} is signed in, but their groups (${groups.length > 0 ? groups.join(', ') : `none in the "${this.settings.groupsClaim}" claim`}) give no role on this server (${describeMapping(this.settings.roles)}).`,
        `Ask your identity provider's admin to add ${name} to one of: ${giving.join(', ')}. Automation can use an API token instead.`,
        { person: name, groups, groups_claim: this.settings.groupsClaim, role_groups: { ...this.settings.roles } },
      );
    }
    const exp = (payload.exp as number) * 1000;
    return { id: `oidc:${String(payload.sub)}`, name, role, groups, expiresAt: exp, acceptedUntil: exp + this.toleranceSec * 1000 };
  }

  private async keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    const { jwks_uri } = await this.discover();
    this.jwks ??= createRemoteJWKSet(new URL(jwks_uri), {
      cooldownDuration: this.options.jwksCooldownMs ?? 60_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: this.timeoutMs,
    });
    return this.jwks;
  }

  private async fetchMetadata(): Promise<ProviderMetadata> {
    const { issuer } = this.settings;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let body: unknown;
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (err) {
      throw unavailable(`Cannot read ${url}: ${err instanceof Error ? err.message : String(err)}.`);
    }
    const parsed = metadataSchema.safeParse(body);
    if (!parsed.success) throw unavailable(`${url} is not an OpenID Connect discovery document (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}).`);
    if (parsed.data.issuer !== issuer) {
      throw unavailable(`${url} names the issuer ${parsed.data.issuer}, not ${issuer}.`, `Set --oidc-issuer to exactly ${parsed.data.issuer} (trailing slash included or not, as the provider writes it).`);
    }
    return parsed.data;
  }

  /** jose's refusals as the person reads them: what is wrong with the token and what to do. */
  private explain(err: unknown, header: ReturnType<typeof decodeProtectedHeader>, claimed: JWTPayload): RewindError {
    const { issuer, audience } = this.settings;
    if (err instanceof RewindError) return err;
    if (err instanceof errors.JWTExpired) {
      return refused('expired', `The sign-in expired at ${iso(claimed.exp)}.`, `${SIGN_IN_AGAIN} The console and the CLI refresh it by themselves while their refresh token lasts.`, { expired_at: iso(claimed.exp) });
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      switch (err.claim) {
        case 'aud':
          return refused(
            'audience',
            `The token is for ${JSON.stringify(claimed.aud ?? null)}; this server accepts the audience "${audience}".`,
            `A token of another application is refused. Sign in through this server (it asks the provider for a token for "${audience}"), or, if the server is meant to accept it, start it with --oidc-audience.`,
            { audience: claimed.aud ?? null, expected_audience: audience },
          );
        case 'nbf':
        case 'iat':
          return refused(
            'not_yet_valid',
            `The token is not valid yet (${err.claim} ${iso(claimed[err.claim])}; this server's clock says ${new Date().toISOString()}).`,
            `Check the clocks of this server and of the identity provider (NTP): they may differ by ${this.toleranceSec} s at most.`,
            { [err.claim]: iso(claimed[err.claim]) },
          );
        case 'iss':
          return refused('issuer', `The token was issued by ${JSON.stringify(claimed.iss ?? null)}; this server trusts ${issuer} only.`, SIGN_IN_AGAIN, { expected_issuer: issuer });
        default:
          return refused('claims', `The token's ${err.claim} claim does not pass: ${err.message}.`, SIGN_IN_AGAIN, { claim: err.claim });
      }
    }
    if (err instanceof errors.JOSEAlgNotAllowed) {
      return refused('algorithm', `The token's algorithm ${JSON.stringify(header.alg ?? null)} is not accepted.`, `Only ${ALLOWED_ALGORITHMS.join(', ')} are. ${SIGN_IN_AGAIN}`);
    }
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      return refused('signature', `The token's signature does not verify with the keys ${issuer} publishes.`, `It was not signed by the identity provider, or it was altered. ${SIGN_IN_AGAIN}`, { kid: header.kid ?? null });
    }
    if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
      const cooldown = Math.round((this.options.jwksCooldownMs ?? 60_000) / 1000);
      return refused(
        'unknown_key',
        `The token is signed with key ${JSON.stringify(header.kid ?? null)}, which ${issuer} does not publish (as of this server's last look).`,
        `If the provider just rotated its keys, this server looks again at most every ${cooldown} s: retry then. Otherwise the token was not signed by the provider: ${SIGN_IN_AGAIN}`,
        { kid: header.kid ?? null },
      );
    }
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
      // The keys could not be read (the provider away): not the person's fault, and nothing to refuse them for.
      return unavailable(`Cannot read the keys of ${issuer}: ${err instanceof Error ? err.message : String(err)}.`);
    }
    return refused('malformed', `The token cannot be verified: ${err.message}.`, SIGN_IN_AGAIN);
  }
}

function unavailable(message: string, hint = 'The identity provider cannot be reached from this server: check its address, DNS and firewall. People cannot be checked meanwhile; API tokens still work.'): RewindError {
  return new RewindError('OIDC_UNAVAILABLE', message, hint, { retry_after_s: 5 });
}
