import * as client from 'openid-client';
import { RewindError } from '../engine/errors.js';
import { type SignInProvider, providerError } from './provider.js';
import { type SignInTokens, tokensFrom } from './tokens.js';

/*
 * The authorization code flow with PKCE (S256), `state` and `nonce`: begin builds the provider's URL
 * for a redirect back to `redirectUri`; finish checks the callback (state, the issuer's `iss`, the
 * code verifier, the ID token's nonce — openid-client does every check) and exchanges the code.
 */

export interface PendingAuthorization {
  url: URL;
  redirectUri: string;
  state: string;
  nonce: string;
  verifier: string;
}

export async function beginAuthorization(provider: SignInProvider, redirectUri: string): Promise<PendingAuthorization> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(provider.config, {
    redirect_uri: redirectUri,
    scope: provider.discovery.scopes.join(' '),
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, redirectUri, state, nonce, verifier };
}

/** The `state` a callback URL carries (which pending sign-in it answers), or null. */
export function stateOf(callback: URL): string | null {
  return callback.searchParams.get('state');
}

export async function finishAuthorization(provider: SignInProvider, pending: PendingAuthorization, received: URL): Promise<SignInTokens> {
  if (stateOf(received) !== pending.state) {
    throw new RewindError('SIGN_IN_FAILED', 'The sign-in answer does not belong to this sign-in (its state differs).', 'Start the sign-in again from Rewind; do not reuse an old browser tab.');
  }
  // The redirect URI exactly as sent (the token request repeats it), whatever Host the browser came back with.
  const callback = new URL(pending.redirectUri);
  callback.search = received.search;
  try {
    const response = await client.authorizationCodeGrant(provider.config, callback, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    return tokensFrom(response, provider.discovery);
  } catch (err) {
    throw providerError(err, 'The sign-in', provider.discovery.issuer);
  }
}
