import { decodeJwt } from 'jose';
import type { OidcDiscovery } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';

/** What a sign-in holds: the JWT sent as bearer (in memory only) and the refresh token (kept by the caller). */
export interface SignInTokens {
  bearer: string;
  /** The bearer's exp, ms since the epoch. */
  expiresAt: number;
  /** When this side received it, ms since the epoch: with expiresAt, the lifetime a refresh is timed against. */
  receivedAt: number;
  refreshToken: string | null;
}

interface TokenResponse {
  id_token?: string;
  access_token: string;
  refresh_token?: string;
}

/**
 * The token the server accepts: the one whose `aud` holds the server's audience — the ID token by
 * default (its audience is the client id), else a JWT access token minted for that audience (an Okta
 * authorization server, a Keycloak audience mapper). Read without verifying: the server verifies.
 */
export function tokensFrom(response: TokenResponse, discovery: OidcDiscovery, previousRefresh: string | null = null, now = Date.now()): SignInTokens {
  for (const token of [response.id_token, response.access_token]) {
    if (token === undefined) continue;
    let claims;
    try {
      claims = decodeJwt(token);
    } catch {
      continue;
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (audiences.includes(discovery.audience) && typeof claims.exp === 'number') {
      return { bearer: token, expiresAt: claims.exp * 1000, receivedAt: now, refreshToken: response.refresh_token ?? previousRefresh };
    }
  }
  throw new RewindError(
    'SIGN_IN_FAILED',
    `${discovery.issuer} answered with no token for the audience "${discovery.audience}".`,
    'The provider must issue an ID token to the client (OpenID Connect), or a JWT access token for that audience. Ask the server operator to check --oidc-audience and the client at the provider.',
    { audience: discovery.audience },
  );
}
