/*
 * What a remote backend sends as its bearer: a fixed API token, or a source of short-lived JWTs that
 * refreshes itself (a person's OpenID Connect sign-in; see main/sign-in/session.ts).
 */

export interface BearerSource {
  /**
   * A bearer that is valid now. `refresh`: the server refused the last one as expired (or closed a
   * stream for it), so get a new one even if this side's clock thinks the old one still good.
   * Throws a RewindError: UNAUTHORIZED when the person must sign in again, OIDC_UNAVAILABLE when the
   * provider cannot be reached (worth retrying).
   */
  bearer(refresh?: boolean): Promise<string>;
}

export type Credentials = string | BearerSource;

export function bearerOf(credentials: Credentials, refresh = false): Promise<string> {
  return typeof credentials === 'string' ? Promise.resolve(credentials) : credentials.bearer(refresh);
}

/** Only a refreshable source can do anything about an expired JWT; a fixed token stays what it is. */
export function canRefresh(credentials: Credentials): boolean {
  return typeof credentials !== 'string';
}
