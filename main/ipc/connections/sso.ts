import { z } from 'zod';
import { type OidcDiscovery, oidcDiscoverySchema } from '../../../preload/contract/index.js';
import { RewindError } from '../../engine/errors.js';
import { type PendingAuthorization, beginAuthorization, finishAuthorization, stateOf } from '../../sign-in/authorization.js';
import type { OpenUrl } from '../../sign-in/external-opener.js';
import { signInWithLoopback } from '../../sign-in/loopback.js';
import { type SignInProvider, openProvider } from '../../sign-in/provider.js';
import { OidcSession, type SessionHooks } from '../../sign-in/session.js';
import type { SignInTokens } from '../../sign-in/tokens.js';
import type { TokenVault } from './token-vault.js';

/*
 * The console's "Sign in with SSO". Desktop: the system browser (Electron's shell.openExternal, passed
 * in) and a loopback redirect caught in main (RFC 8252). Browser mode: the page itself goes to the
 * provider and comes back through the browser-mode server's own /callback. Either way the refresh
 * token goes to the token vault (the OS keychain on the desktop) and the JWT stays in memory.
 */

/** How this console reaches the provider's pages. */
export type SsoDriver =
  /** Desktop: main opens the system browser and waits on a loopback port. */
  | { kind: 'system-browser'; open: OpenUrl }
  /** Browser mode: the page is sent to the provider and comes back to `callbackUrl` (this console's own origin). */
  | { kind: 'redirect'; callbackUrl: () => string };

/** What the vault keeps for a signed-in connection: never the JWT, only what refreshes it. */
const keptSchema = z.object({ kind: z.literal('oidc'), discovery: oidcDiscoverySchema, refresh_token: z.string() });

export async function keepSignIn(vault: TokenVault, id: string, discovery: OidcDiscovery, refreshToken: string): Promise<void> {
  await vault.set(id, JSON.stringify({ kind: 'oidc', discovery, refresh_token: refreshToken }));
}

/** The kept sign-in of a connection, or null (none, or one the keychain can no longer open). */
export async function keptSignIn(vault: TokenVault, id: string): Promise<z.infer<typeof keptSchema> | null> {
  const raw = await vault.get(id);
  if (raw === null) return null;
  try {
    const parsed = keptSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A pending browser-mode sign-in lasts this long: the person at the provider's pages, then back. */
const PENDING_MS = 10 * 60_000;
const MAX_PENDING = 20;

interface Pending<T> {
  target: T;
  provider: SignInProvider;
  authorization: PendingAuthorization;
  expires: number;
}

/** Runs sign-ins for one console (`T`: what each is for, a new connection or an existing one); one desktop sign-in at a time (Cancel ends it). */
export class SsoSignIns<T> {
  private current: AbortController | null = null;
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly driver: SsoDriver | null) {}

  /**
   * Desktop: signs in and resolves with the tokens. Browser mode: resolves with the address the page
   * goes to; `complete` finishes it when the provider sends the browser back.
   */
  async begin(discovery: OidcDiscovery, target: T): Promise<{ tokens: SignInTokens; provider: SignInProvider } | { redirect: string }> {
    const driver = this.driver;
    if (!driver) throw new RewindError('SIGN_IN_FAILED', 'This console cannot open a browser for a sign-in.', 'Use the desktop app or browser mode (npm run web), or an API token.');
    const provider = await openProvider(discovery);
    if (driver.kind === 'redirect') {
      const authorization = await beginAuthorization(provider, driver.callbackUrl());
      this.prune();
      this.pending.set(authorization.state, { target, provider, authorization, expires: Date.now() + PENDING_MS });
      return { redirect: authorization.url.href };
    }
    this.current?.abort();
    const controller = new AbortController();
    this.current = controller;
    try {
      return { tokens: await signInWithLoopback(provider, { open: driver.open, signal: controller.signal }), provider };
    } finally {
      if (this.current === controller) this.current = null;
    }
  }

  /** Browser mode: the provider sent the browser back to /callback; the sign-in it answers, finished. */
  async complete(callback: URL): Promise<{ target: T; tokens: SignInTokens; provider: SignInProvider }> {
    this.prune();
    const state = stateOf(callback);
    const found = state === null ? undefined : this.pending.get(state);
    if (!found) {
      throw new RewindError('SIGN_IN_FAILED', 'This sign-in answer belongs to no sign-in this console started (or it took longer than 10 minutes).', 'Start the sign-in again from the console.');
    }
    this.pending.delete(state!);
    try {
      return { target: found.target, tokens: await finishAuthorization(found.provider, found.authorization, callback), provider: found.provider };
    } catch (err) {
      // It answered a sign-in this console started: the page may offer the way back to the console.
      if (err instanceof RewindError) throw new RewindError(err.code, err.message, err.hint, { ...err.details, started_here: true });
      throw err;
    }
  }

  /** Cancels the desktop sign-in under way; whether there was one. */
  cancel(): boolean {
    if (!this.current) return false;
    this.current.abort();
    return true;
  }

  private prune(): void {
    const now = Date.now();
    for (const [state, p] of this.pending) if (p.expires < now) this.pending.delete(state);
    // A page that keeps starting sign-ins never grows the map without bound.
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}

/** A connection's sign-in as its backend's credentials: refreshed before expiry, rotated refresh tokens kept in the vault. */
export function connectionSession(
  vault: TokenVault,
  id: string,
  discovery: OidcDiscovery,
  start: { tokens: SignInTokens; provider: SignInProvider } | { refreshToken: string },
  onEnded: SessionHooks['onEnded'],
): OidcSession {
  const hooks: SessionHooks = {
    onTokens: async (tokens) => {
      if (tokens.refreshToken !== null) await keepSignIn(vault, id, discovery, tokens.refreshToken);
    },
    ...(onEnded ? { onEnded } : {}),
  };
  return 'tokens' in start
    ? new OidcSession(discovery, start.tokens, hooks, { proactive: true, provider: start.provider })
    : OidcSession.restore(discovery, start.refreshToken, hooks, { proactive: true });
}
