import type { Whoami } from '../protocol/wire.js';
import type { OidcDiscovery } from '../../preload/contract/index.js';
import { RemoteBackend } from '../backends/remote/index.js';
import { RewindError } from '../engine/errors.js';
import { signInWithDevice } from '../sign-in/device.js';
import { signInWithLoopback } from '../sign-in/loopback.js';
import { type SignInProvider, offersDeviceFlow, openProvider } from '../sign-in/provider.js';
import { OidcSession } from '../sign-in/session.js';
import type { SignInTokens } from '../sign-in/tokens.js';
import type { CliIo } from './preflight.js';
import { cacheEntry, cachedTokens, forgetSignIn, readSignIn, saveSignIn, serverKey, signInCachePath } from './sign-in-cache.js';

/*
 * `rewind login`, `rewind logout` and the signed-in session other verbs use: the device grant where the
 * provider offers it (a terminal needs no browser on this machine: the URL and code are printed), else
 * the loopback flow in the system browser; the result cached for this user only (sign-in-cache.ts).
 */

export interface SignInOptions {
  server: string;
  /** Take the browser flow even where the device grant exists. */
  loopback: boolean;
  json: boolean;
  timeoutMs?: number;
}

/** Errors of the device grant's start that mean "this client may not use it here": the browser flow is tried instead. */
const deviceRefusals = new Set(['unauthorized_client', 'invalid_client', 'unsupported_grant_type', 'invalid_request', 'invalid_scope']);

async function signInFlow(provider: SignInProvider, options: SignInOptions, io: CliIo): Promise<SignInTokens> {
  const signal = io.signal;
  if (!options.loopback && offersDeviceFlow(provider)) {
    let prompted = false;
    try {
      return await signInWithDevice(provider, {
        ...(signal ? { signal } : {}),
        onPrompt: (prompt) => {
          prompted = true;
          io.stderr(`To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}`);
          if (prompt.verificationUriComplete) io.stderr(`  (or open ${prompt.verificationUriComplete})`);
          io.stderr(`Waiting for you to finish in the browser (the code expires in ${Math.round(prompt.expiresInSec / 60)} min)…`);
        },
      });
    } catch (err) {
      const refusedHere = !prompted && err instanceof RewindError && deviceRefusals.has(String(err.details?.error));
      if (!refusedHere) throw err;
      io.stderr(`${provider.discovery.issuer} does not let this client use the device grant (${String(err.details?.error)}); signing in through the browser instead.`);
    }
  }
  return signInWithLoopback(provider, {
    ...(signal ? { signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    open: async (url) => {
      io.stderr(`Open this address in your browser to sign in:\n  ${url}`);
      await io.openUrl?.(url).catch(() => io.stderr('(The browser could not be opened from here: open the address above yourself.)'));
      io.stderr('Waiting for the browser to come back…');
    },
  });
}

/** `rewind login --server URL`: signs in, caches the result, says who the server now takes you for. */
export async function loginVerb(options: SignInOptions, io: CliIo): Promise<number> {
  const probe = new RemoteBackend({ url: options.server, token: '' });
  let discovery: OidcDiscovery;
  try {
    const auth = await probe.authMethods();
    if (!auth.methods.includes('oidc') || !auth.oidc) {
      throw new RewindError('SIGN_IN_FAILED', `${probe.baseUrl} offers API tokens only: it has no sign-in.`, 'export REWIND_TOKEN=<token> (an admin issues one with `rewind tokens create`), or ask the operator to start the server with --oidc-issuer.');
    }
    discovery = auth.oidc;
  } finally {
    await probe.close();
  }
  const provider = await openProvider(discovery);
  const tokens = await signInFlow(provider, options, io);
  await saveSignIn(io.env, options.server, cacheEntry(discovery, tokens));
  const session = new OidcSession(discovery, tokens, {}, { provider });
  const remote = new RemoteBackend({ url: options.server, token: session });
  try {
    const who = await remote.whoami();
    if (options.json) io.stdout(JSON.stringify({ server: probe.baseUrl, ...who }, null, 2));
    else io.stdout(`Signed in to ${probe.baseUrl} as ${who.name} · ${who.role}. (Kept in ${signInCachePath(io.env)}, for you only.)`);
    return 0;
  } finally {
    session.close();
    await remote.close();
  }
}

/** `rewind logout [--server URL]`: forgets the cached sign-in and revokes its refresh token where the provider can. */
export async function logoutVerb(options: Pick<SignInOptions, 'server' | 'json'>, io: CliIo): Promise<number> {
  const entry = await readSignIn(io.env, options.server);
  const server = serverKey(options.server);
  if (!entry) {
    io.stdout(options.json ? JSON.stringify({ server, signed_out: false }) : `Not signed in to ${server}.`);
    return 0;
  }
  const revoked = await new OidcSession(entry.discovery, cachedTokens(entry), {}).signOut();
  await forgetSignIn(io.env, options.server);
  if (options.json) io.stdout(JSON.stringify({ server, signed_out: true, revoked }));
  else io.stdout(`Signed out of ${server}${revoked ? ` (the refresh token was revoked at ${entry.discovery.issuer})` : ''}.`);
  return 0;
}

/** The cached sign-in of `server` as a remote backend's credentials, refreshed and re-cached as needed; null when there is none. */
export async function cachedSession(server: string, io: CliIo): Promise<OidcSession | null> {
  const entry = await readSignIn(io.env, server);
  if (!entry) return null;
  return new OidcSession(entry.discovery, cachedTokens(entry), {
    onTokens: (tokens) => saveSignIn(io.env, server, cacheEntry(entry.discovery, tokens, entry.signed_in_at)),
  });
}

/** `rewind whoami`: who the server takes you for (your sign-in or REWIND_TOKEN), your role, and how you came in. */
export function whoamiLine(who: Whoami): string {
  const expires = who.expires_at ? `, until ${who.expires_at} (refreshed by itself)` : '';
  return `${who.name} · ${who.role} (${who.via === 'oidc' ? 'signed in' : 'API token'}${expires})${who.environment ? ` on ${who.environment}` : ''}`;
}
