import * as client from 'openid-client';
import type { OidcDiscovery } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';

/*
 * The identity provider a workflow server names in `GET /api/v1/auth`, as openid-client sees it: its
 * discovery document and Rewind's public client (no secret, PKCE). Shared by the console and the CLI.
 */

export interface SignInProvider {
  config: client.Configuration;
  discovery: OidcDiscovery;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Plain HTTP only to this machine's own provider (tests, a local Keycloak); anything else must be https. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
}

export async function openProvider(discovery: OidcDiscovery, options: { timeoutSec?: number } = {}): Promise<SignInProvider> {
  let issuer: URL;
  try {
    issuer = new URL(discovery.issuer);
  } catch {
    throw new RewindError('SIGN_IN_FAILED', `The server names an issuer that is not a URL: ${JSON.stringify(discovery.issuer)}.`, 'Ask its operator to fix --oidc-issuer.');
  }
  if (issuer.protocol !== 'https:' && !isLoopbackHttp(issuer)) {
    throw new RewindError('SIGN_IN_FAILED', `The server's identity provider ${discovery.issuer} is not https.`, 'A sign-in travels only over https (plain http to 127.0.0.1 only). Ask the server operator to fix --oidc-issuer.');
  }
  try {
    const config = await client.discovery(issuer, discovery.client_id, undefined, client.None(), {
      execute: isLoopbackHttp(issuer) ? [client.allowInsecureRequests] : [],
      timeout: options.timeoutSec ?? 10,
    });
    return { config, discovery };
  } catch (err) {
    throw new RewindError(
      'OIDC_UNAVAILABLE',
      `Cannot read the identity provider ${discovery.issuer}: ${err instanceof Error ? err.message : String(err)}.`,
      'Check that this machine reaches the provider (VPN, proxy, DNS). API tokens still work meanwhile.',
      { issuer: discovery.issuer, retry_after_s: 5 },
    );
  }
}

/** Whether the provider publishes the device grant (RFC 8628): the CLI then needs no browser on this machine. */
export function offersDeviceFlow(provider: SignInProvider): boolean {
  return typeof provider.config.serverMetadata().device_authorization_endpoint === 'string';
}

/** The provider's answer to a failed request, as a typed error; `terminal` when only a new sign-in can help. */
export function providerError(err: unknown, what: string, issuer: string): RewindError {
  if (err instanceof RewindError) return err;
  const passing = new Set(['server_error', 'temporarily_unavailable']);
  if ((err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError) && !passing.has(err.error)) {
    const description = err.error_description ? `: ${err.error_description}` : '';
    return new RewindError('SIGN_IN_FAILED', `${what} was refused by ${issuer} (${err.error}${description}).`, 'Sign in again; if it is refused again, ask the provider’s admin whether your account may use Rewind.', {
      error: err.error,
      terminal: true,
    });
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new RewindError('SIGN_IN_FAILED', `${what} was cancelled or timed out.`, 'Start the sign-in again when you are ready.', { terminal: true });
  }
  // A network failure: the provider may be back in a moment.
  return new RewindError('OIDC_UNAVAILABLE', `${what} could not reach ${issuer}: ${err instanceof Error ? err.message : String(err)}.`, 'Check that this machine reaches the identity provider; Rewind tries again by itself.', {
    retry_after_s: 5,
  });
}
