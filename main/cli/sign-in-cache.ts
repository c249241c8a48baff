import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { oidcDiscoverySchema } from '../../preload/contract/index.js';
import { RewindError } from '../engine/errors.js';
import { writeFileAtomic } from '../ipc/connections/atomic-write.js';
import { withFileLock } from '../ipc/connections/file-lock.js';
import { readJsonFile } from '../ipc/connections/read-json.js';
import { defaultUserDataDir } from '../ipc/user-data.js';
import type { SignInTokens } from '../sign-in/tokens.js';

/*
 * The CLI's sign-ins, per server: `cli-sign-in.json` in the user's config folder (~/.config/Rewind),
 * readable by its owner only (0600, rewritten whole under a lock), holding each server's provider
 * answer, the current JWT and the refresh token — what `rewind login` wrote and every later command
 * refreshes. `REWIND_TOKEN`, when set, wins over it.
 */

export const SIGN_IN_CACHE_FILE = 'cli-sign-in.json';

const entrySchema = z.object({
  discovery: oidcDiscoverySchema,
  bearer: z.string(),
  expires_at: z.number(),
  received_at: z.number(),
  refresh_token: z.string().nullable(),
  signed_in_at: z.string(),
});
export type CachedSignIn = z.infer<typeof entrySchema>;

const fileSchema = z.object({ version: z.literal(1), servers: z.record(z.string(), entrySchema) });

export function signInCachePath(env: Record<string, string | undefined>): string {
  return join(defaultUserDataDir(process.platform, env), SIGN_IN_CACHE_FILE);
}

/** A server's key in the cache: its origin and path, as the remote backend addresses it. */
export function serverKey(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

export function cachedTokens(entry: CachedSignIn): SignInTokens {
  return { bearer: entry.bearer, expiresAt: entry.expires_at, receivedAt: entry.received_at, refreshToken: entry.refresh_token };
}

export function cacheEntry(discovery: CachedSignIn['discovery'], tokens: SignInTokens, signedInAt = new Date().toISOString()): CachedSignIn {
  return { discovery, bearer: tokens.bearer, expires_at: tokens.expiresAt, received_at: tokens.receivedAt, refresh_token: tokens.refreshToken, signed_in_at: signedInAt };
}

async function load(file: string): Promise<Record<string, CachedSignIn>> {
  const read = await readJsonFile(file);
  if (read.missing) return {};
  // Someone widened it: tokens are the owner's alone, so it is narrowed again before anything is read.
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
  const parsed = fileSchema.safeParse(read.value);
  if (!parsed.success) throw new RewindError('VALIDATION_FAILED', `${file} is not a Rewind sign-in cache.`, `Remove it and sign in again (\`rewind login --server URL\`).`, { path: file });
  return parsed.data.servers;
}

async function change(env: Record<string, string | undefined>, fn: (servers: Record<string, CachedSignIn>) => void): Promise<void> {
  const file = signInCachePath(env);
  await withFileLock(file, async () => {
    const servers = await load(file);
    fn(servers);
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, servers }, null, 2)}\n`);
  });
}

export async function readSignIn(env: Record<string, string | undefined>, server: string): Promise<CachedSignIn | null> {
  return (await load(signInCachePath(env)))[serverKey(server)] ?? null;
}

export function saveSignIn(env: Record<string, string | undefined>, server: string, entry: CachedSignIn): Promise<void> {
  return change(env, (servers) => {
    servers[serverKey(server)] = entry;
  });
}

export function forgetSignIn(env: Record<string, string | undefined>, server: string): Promise<void> {
  return change(env, (servers) => {
    delete servers[serverKey(server)];
  });
}
