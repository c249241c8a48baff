import type { OidcDiscovery } from '../../preload/contract/index.js';
import { signInWithLoopback } from '../../main/sign-in/loopback.js';
import { openProvider } from '../../main/sign-in/provider.js';
import type { SignInTokens } from '../../main/sign-in/tokens.js';
import { CLIENT_ID, type TestProvider } from './oidc-provider.js';
import { visitAsPerson } from './oidc-user.js';

/** What a server started with the test provider would announce (`GET /api/v1/auth`'s oidc part). */
export function discoveryOf(provider: TestProvider, clientId = CLIENT_ID): OidcDiscovery {
  return { issuer: provider.issuer, client_id: clientId, scopes: ['openid', 'profile', 'email', 'offline_access', 'groups'], audience: clientId };
}

/**
 * A real sign-in of `login` at the provider: Rewind's loopback flow, with the person at the provider's
 * pages played over HTTP instead of a system browser.
 */
export async function signInAs(provider: TestProvider, login: string, clientId = CLIENT_ID): Promise<SignInTokens> {
  const opened = await openProvider(discoveryOf(provider, clientId));
  return signInWithLoopback(opened, {
    open: async (url) => {
      await visitAsPerson(url, login, { issuer: provider.issuer });
    },
  });
}
