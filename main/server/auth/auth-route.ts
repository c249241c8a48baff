import type { AuthDiscovery } from '../../../preload/contract/index.js';
import type { OidcVerifier } from './oidc-verifier.js';

/** `GET /api/v1/auth`: API tokens always; OpenID Connect when the server was started with --oidc-issuer. */
export async function authAnswer(oidc: OidcVerifier | undefined): Promise<AuthDiscovery> {
  if (!oidc) return { methods: ['token'] };
  return { methods: ['token', 'oidc'], oidc: await oidc.describe() };
}
