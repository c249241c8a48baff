import * as client from 'openid-client';
import { type SignInProvider, providerError } from './provider.js';
import { type SignInTokens, tokensFrom } from './tokens.js';

/*
 * The device authorization grant (RFC 8628), for a terminal: the person opens the provider's page on
 * any device, checks the code shown here, signs in; this side polls the token endpoint meanwhile.
 */

export interface DevicePrompt {
  verificationUri: string;
  /** The same page with the code filled in, when the provider offers one. */
  verificationUriComplete: string | null;
  userCode: string;
  expiresInSec: number;
}

export async function signInWithDevice(provider: SignInProvider, options: { onPrompt: (prompt: DevicePrompt) => void; signal?: AbortSignal }): Promise<SignInTokens> {
  const { issuer, scopes } = provider.discovery;
  let started;
  try {
    started = await client.initiateDeviceAuthorization(provider.config, { scope: scopes.join(' ') });
  } catch (err) {
    throw providerError(err, 'The device sign-in', issuer);
  }
  options.onPrompt({
    verificationUri: started.verification_uri,
    verificationUriComplete: started.verification_uri_complete ?? null,
    userCode: started.user_code,
    expiresInSec: started.expires_in,
  });
  try {
    const response = await client.pollDeviceAuthorizationGrant(provider.config, started, undefined, options.signal ? { signal: options.signal } : {});
    return tokensFrom(response, provider.discovery);
  } catch (err) {
    throw providerError(err, 'The device sign-in', issuer);
  }
}
