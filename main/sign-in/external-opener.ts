import { RewindError } from '../engine/errors.js';
import { isLoopbackHttp } from './provider.js';

/** Opens a URL in the system browser (Electron's shell.openExternal, passed in by main/index.ts). */
export type OpenUrl = (url: string) => Promise<void>;

/**
 * The opener a sign-in may use: only the provider's authorization endpoint — its origin, https (or
 * http on this machine) — ever reaches the system browser, whatever a server's /auth answer says.
 */
export function authorizationOpener(open: OpenUrl, authorizationEndpoint: string): OpenUrl {
  const allowed = new URL(authorizationEndpoint);
  return async (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refused(raw);
    }
    const secure = url.protocol === 'https:' || isLoopbackHttp(url);
    if (!secure || url.origin !== allowed.origin || url.pathname !== allowed.pathname) throw refused(raw);
    await open(url.href);
  };
}

function refused(url: string): RewindError {
  return new RewindError('SIGN_IN_FAILED', `Refused to open ${url.slice(0, 200)}: it is not the identity provider's authorization endpoint.`, 'Only the provider the server names is opened in the browser. Check the server’s --oidc-issuer.');
}
