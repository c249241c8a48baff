import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RewindError } from '../engine/errors.js';
import { beginAuthorization, finishAuthorization, stateOf } from './authorization.js';
import { authorizationOpener, type OpenUrl } from './external-opener.js';
import type { SignInProvider } from './provider.js';
import type { SignInTokens } from './tokens.js';

/*
 * A native app's sign-in (RFC 8252): the system browser on the provider's authorization endpoint, and
 * the answer caught on a loopback redirect `http://127.0.0.1:<ephemeral port>/callback` that lives for
 * this one sign-in. The browser is the person's own, with their provider session and password manager;
 * Rewind never sees a password.
 */

export interface LoopbackOptions {
  /** Opens the system browser; only the authorization endpoint is ever passed to it. */
  open: OpenUrl;
  signal?: AbortSignal;
  /** How long to wait for the person (default 5 minutes). */
  timeoutMs?: number;
}

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><meta name="color-scheme" content="dark light"></head><body style="font:16px system-ui;margin:3rem"><h1>${title}</h1><p>${text}</p></body></html>`;

function answer(res: ServerResponse, status: number, title: string, text: string): void {
  const body = page(title, text);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function signInWithLoopback(provider: SignInProvider, options: LoopbackOptions): Promise<SignInTokens> {
  const metadata = provider.config.serverMetadata();
  if (!metadata.authorization_endpoint) throw new RewindError('SIGN_IN_FAILED', `${provider.discovery.issuer} has no authorization endpoint.`, 'Ask the server operator to check --oidc-issuer.');
  const open = authorizationOpener(options.open, metadata.authorization_endpoint);
  let finish: (result: { tokens: SignInTokens } | { error: unknown }) => void = () => undefined;
  const done = new Promise<{ tokens: SignInTokens } | { error: unknown }>((resolve) => (finish = resolve));
  let pending: Awaited<ReturnType<typeof beginAuthorization>> | null = null;
  let handled = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Another page poking at the port, or a stale tab: not this sign-in's answer, and it cannot end it.
    if (req.method !== 'GET' || url.pathname !== '/callback' || !pending || stateOf(url) !== pending.state || handled) {
      answer(res, 404, 'Not this sign-in', 'This address only takes the answer to the sign-in Rewind started.');
      return;
    }
    handled = true;
    finishAuthorization(provider, pending, url).then(
      (tokens) => {
        answer(res, 200, 'Signed in to Rewind', 'You can close this tab and go back to Rewind.');
        finish({ tokens });
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        answer(res, 400, 'The sign-in did not complete', `${escapeHtml(message)} Go back to Rewind to try again.`);
        finish({ error });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only, a port the OS picks: nothing off this machine can answer in the browser's place.
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const timer = setTimeout(() => finish({ error: new RewindError('SIGN_IN_FAILED', `No answer from the browser within ${Math.round(timeoutMs / 1000)} s.`, 'Start the sign-in again; finish it in the browser window that opens.') }), timeoutMs);
  const cancelled = () => new RewindError('SIGN_IN_FAILED', 'The sign-in was cancelled.', 'Start it again when you are ready.');
  const onAbort = () => finish({ error: cancelled() });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { port } = server.address() as AddressInfo;
    pending = await beginAuthorization(provider, `http://127.0.0.1:${port}/callback`);
    if (options.signal?.aborted) throw cancelled();
    try {
      await open(pending.url.href);
    } catch (err) {
      finish({ error: err instanceof RewindError ? err : new RewindError('SIGN_IN_FAILED', `The browser could not be opened: ${err instanceof Error ? err.message : String(err)}.`, `Open this address yourself: ${pending.url.href}`) });
    }
    const result = await done;
    if ('error' in result) throw result.error;
    return result.tokens;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
