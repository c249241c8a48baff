import { RewindError } from '../../engine/errors.js';
import type { OidcSettings } from './oidc-verifier.js';
import { parseRoleMapping } from './role-mapping.js';

/** The server's sign-in flags, each with its environment variable (a flag wins). */
export const oidcFlags = {
  'oidc-issuer': 'REWIND_OIDC_ISSUER',
  'oidc-client-id': 'REWIND_OIDC_CLIENT_ID',
  'oidc-audience': 'REWIND_OIDC_AUDIENCE',
  'oidc-groups-claim': 'REWIND_OIDC_GROUPS_CLAIM',
  'oidc-roles': 'REWIND_OIDC_ROLES',
  'oidc-scopes': 'REWIND_OIDC_SCOPES',
} as const;
export type OidcFlag = keyof typeof oidcFlags;

export const oidcUsage = `  --oidc-issuer URL   people sign in through this OpenID Connect provider (beside API tokens)  REWIND_OIDC_ISSUER
  --oidc-client-id ID the provider's public client the console and the CLI use (PKCE)      REWIND_OIDC_CLIENT_ID
  --oidc-audience AUD the JWT audience accepted                       [the client id]   REWIND_OIDC_AUDIENCE
  --oidc-groups-claim NAME  the claim holding the person's groups (a.b for nested) [groups]  REWIND_OIDC_GROUPS_CLAIM
  --oidc-roles MAP    "admin=G1,G2;operator=G3;viewer=*": groups to roles (* = anyone signed in;
                      the highest matching role wins)                                     REWIND_OIDC_ROLES
  --oidc-scopes LIST  what clients ask for [openid profile email, and offline_access and the
                      groups scope when the provider lists them]                         REWIND_OIDC_SCOPES`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function invalid(message: string, hint: string): RewindError {
  return new RewindError('VALIDATION_FAILED', message, hint);
}

/**
 * The sign-in settings from flags and environment, or null without an issuer. Every mistake is refused
 * before the server starts, naming the flag: a server that cannot check people must not pretend to.
 */
export function oidcSettingsFrom(flags: Partial<Record<OidcFlag, string | boolean | undefined>>, env: NodeJS.ProcessEnv): OidcSettings | null {
  const value = (name: OidcFlag): string | undefined => {
    const flag = flags[name];
    if (typeof flag === 'string') return flag.trim() === '' ? undefined : flag.trim();
    const fromEnv = env[oidcFlags[name]];
    return fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv.trim();
  };
  const issuer = value('oidc-issuer');
  if (issuer === undefined) {
    const stray = (Object.keys(oidcFlags) as OidcFlag[]).find((f) => f !== 'oidc-issuer' && value(f) !== undefined);
    if (stray) throw invalid(`--${stray} is set, but --oidc-issuer is not.`, 'Pass --oidc-issuer URL (REWIND_OIDC_ISSUER) to turn sign-in on, or drop the other --oidc-* settings.');
    return null;
  }
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw invalid(`--oidc-issuer "${issuer}" is not a URL.`, 'Pass the issuer exactly as the provider names it, e.g. https://keycloak.example/realms/ops.');
  }
  // The keys that decide who may act arrive from here: never over plain HTTP, except on this machine (a test or a local provider).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw invalid(`--oidc-issuer ${issuer} is not https.`, 'The provider signs who may act here: reach it over https (plain http is accepted for 127.0.0.1 and localhost only).');
  }
  const clientId = value('oidc-client-id');
  if (clientId === undefined) {
    throw invalid('--oidc-issuer needs --oidc-client-id.', "Register a public client for Rewind at the provider (PKCE, redirect http://127.0.0.1/callback on any port, the device grant if it has one) and pass its id.");
  }
  const rolesText = value('oidc-roles');
  if (rolesText === undefined) {
    throw invalid('--oidc-issuer needs --oidc-roles.', 'Say which groups give which role, e.g. --oidc-roles "admin=platform-admins;operator=oncall;viewer=*".');
  }
  const scopes = value('oidc-scopes')
    ?.split(/[\s,]+/)
    .filter((s) => s !== '');
  if (scopes !== undefined && !scopes.includes('openid')) throw invalid('--oidc-scopes must include openid.', 'e.g. --oidc-scopes "openid profile email offline_access groups".');
  return {
    issuer,
    clientId,
    audience: value('oidc-audience') ?? clientId,
    groupsClaim: value('oidc-groups-claim') ?? 'groups',
    roles: parseRoleMapping(rolesText),
    scopes: scopes ?? null,
  };
}
