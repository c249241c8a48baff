import * as client from 'openid-client';
import type { OidcDiscovery } from '../../preload/contract/index.js';
import type { BearerSource } from '../backends/remote/credentials.js';
import { RewindError } from '../engine/errors.js';
import { type SignInProvider, openProvider, providerError } from './provider.js';
import { type SignInTokens, tokensFrom } from './tokens.js';

/*
 * A person's sign-in as a remote backend's credentials: the JWT in memory, refreshed with the refresh
 * token before it expires (and at once when the server says it has), the refresh token handed to the
 * caller to keep (the OS keychain, the CLI's cache file) whenever the provider rotates it.
 *
 *   signed in ──(refresh due / server says expired)──→ refreshing ──→ signed in
 *                                                          ├─(provider away)──→ signed in (retried)
 *                                                          └─(refused: revoked, expired)──→ ended
 */

export interface SessionHooks {
  /** New tokens (a refresh): keep the refresh token where it lives. */
  onTokens?: (tokens: SignInTokens) => Promise<void> | void;
  /** The sign-in ended for good (the refresh token was refused): the person must sign in again. */
  onEnded?: (error: RewindError) => void;
}

export interface SessionOptions {
  /** Refresh on a timer before the JWT expires (the console), not only when a bearer is asked for (the CLI). */
  proactive?: boolean;
  /** The provider, when it is already open (a sign-in just happened). */
  provider?: SignInProvider;
}

/** Refresh when this much of the JWT's life is left: a third of it, at most two minutes. */
function refreshDue(tokens: SignInTokens): number {
  const lifetime = Math.max(0, tokens.expiresAt - tokens.receivedAt);
  return tokens.expiresAt - Math.min(120_000, lifetime / 3);
}

/** A provider that was away is tried again after this long (never past the JWT's expiry). */
const RETRY_MS = 10_000;

export class OidcSession implements BearerSource {
  private current: SignInTokens;
  private provider: Promise<SignInProvider> | null;
  private refreshing: Promise<SignInTokens> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ended: RewindError | null = null;

  constructor(
    readonly discovery: OidcDiscovery,
    tokens: SignInTokens,
    private readonly hooks: SessionHooks = {},
    private readonly options: SessionOptions = {},
  ) {
    this.current = tokens;
    this.provider = options.provider ? Promise.resolve(options.provider) : null;
    this.schedule(refreshDue(tokens));
  }

  /** A session from a kept refresh token (a console or CLI start): its first bearer comes from a refresh. */
  static restore(discovery: OidcDiscovery, refreshToken: string, hooks: SessionHooks = {}, options: SessionOptions = {}): OidcSession {
    return new OidcSession(discovery, { bearer: '', expiresAt: 0, receivedAt: 0, refreshToken }, hooks, options);
  }

  get tokens(): SignInTokens {
    return this.current;
  }

  /** Why the sign-in ended, or null while it lasts. */
  get endedBecause(): RewindError | null {
    return this.ended;
  }

  async bearer(refresh = false): Promise<string> {
    if (this.ended) throw this.ended;
    if (!refresh && this.current.bearer !== '' && Date.now() < refreshDue(this.current)) return this.current.bearer;
    try {
      return (await this.refresh()).bearer;
    } catch (err) {
      // The provider away, but the JWT not yet expired: keep using it (the server decides).
      if (!refresh && this.current.bearer !== '' && Date.now() < this.current.expiresAt && !(err instanceof RewindError && err.details?.terminal === true)) return this.current.bearer;
      throw err;
    }
  }

  /** One refresh at a time, whoever asks (the timer, a request, the stream). */
  refresh(): Promise<SignInTokens> {
    if (this.ended) return Promise.reject(this.ended);
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /**
   * Forgets the sign-in: stops refreshing and, where the provider has a revocation endpoint, revokes
   * the refresh token there (best effort: the caller forgets it anyway). Whether it was revoked.
   */
  async signOut(): Promise<boolean> {
    this.end(new RewindError('UNAUTHORIZED', 'Signed out.', 'Sign in again to use this server.', { reason: 'signed_out' }), false);
    const refreshToken = this.current.refreshToken;
    if (refreshToken === null) return false;
    try {
      const provider = await this.openedProvider();
      if (!provider.config.serverMetadata().revocation_endpoint) return false;
      await client.tokenRevocation(provider.config, refreshToken, { token_type_hint: 'refresh_token' });
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the refresh timer (the connection or the CLI is done with it). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private openedProvider(): Promise<SignInProvider> {
    if (!this.provider) {
      const opening = openProvider(this.discovery);
      this.provider = opening;
      // A provider that could not be read is read again next time.
      opening.catch(() => {
        if (this.provider === opening) this.provider = null;
      });
    }
    return this.provider;
  }

  private async doRefresh(): Promise<SignInTokens> {
    const refreshToken = this.current.refreshToken;
    if (refreshToken === null) {
      throw this.end(new RewindError('UNAUTHORIZED', `Your sign-in to ${this.discovery.issuer} expired, and the provider gave no refresh token.`, 'Sign in again.', { reason: 'expired', terminal: true }));
    }
    let tokens: SignInTokens;
    try {
      const provider = await this.openedProvider();
      const response = await client.refreshTokenGrant(provider.config, refreshToken);
      tokens = tokensFrom(response, this.discovery, refreshToken);
    } catch (err) {
      const error = providerError(err, 'Refreshing your sign-in', this.discovery.issuer);
      if (error.details?.terminal === true || error.code === 'SIGN_IN_FAILED') {
        throw this.end(new RewindError('UNAUTHORIZED', `${error.message}`, 'Your sign-in ended (it expired or was revoked at the provider): sign in again.', { reason: 'refresh_failed', terminal: true }));
      }
      this.schedule(Math.min(Date.now() + RETRY_MS, Math.max(Date.now(), this.current.expiresAt)));
      throw error;
    }
    this.current = tokens;
    this.schedule(refreshDue(tokens));
    await this.hooks.onTokens?.(tokens);
    return tokens;
  }

  private schedule(at: number): void {
    if (!this.options.proactive || this.ended) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.refresh().catch(() => undefined);
    }, Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    this.timer.unref();
  }

  private end(error: RewindError, notify = true): RewindError {
    if (!this.ended) {
      this.ended = error;
      this.close();
      if (notify) this.hooks.onEnded?.(error);
    }
    return this.ended;
  }
}
