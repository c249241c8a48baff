import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { RewindError } from '../../engine/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { withFileLock } from './file-lock.js';
import { readJsonFile } from './read-json.js';

export const CONNECTIONS_FILE = 'connections.json';

/** A remote server as the connections file keeps it. Its token lives in the token vault, never here. */
export const remoteConnectionSchema = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  url: z.url({ protocol: /^https?$/ }),
  environment: z.enum(['staging', 'production']),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  /** How it signs in: absent (files from before sign-in) is an API token; `oidc` keeps a refresh token in the vault instead. */
  sign_in: z.enum(['token', 'oidc']).optional(),
});
export type RemoteConnection = z.infer<typeof remoteConnectionSchema>;

/** A sandbox file opened beside the local sandbox (a rehearsal copy, a snapshot): remembered by its path. */
export const sandboxConnectionSchema = z.object({
  kind: z.literal('sandbox'),
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  path: z.string().min(1).max(4096),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
});
export type SandboxConnection = z.infer<typeof sandboxConnectionSchema>;

export type SavedConnection = RemoteConnection | SandboxConnection;

export const isSandboxConnection = (c: SavedConnection): c is SandboxConnection => 'kind' in c;

// Remote entries carry no `kind`, as files written before sandbox entries existed.
const connectionsFileSchema = z.object({
  version: z.literal(1),
  connections: z.array(z.union([sandboxConnectionSchema, remoteConnectionSchema])),
});

export async function loadConnections(dir: string): Promise<SavedConnection[]> {
  const file = join(dir, CONNECTIONS_FILE);
  const read = await readJsonFile(file);
  if (read.missing) return [];
  const parsed = connectionsFileSchema.safeParse(read.value);
  if (!parsed.success) {
    throw new RewindError(
      'VALIDATION_FAILED',
      `${file} is not a valid connections file: ${parsed.error.issues[0]?.message ?? 'not JSON'}.`,
      'Fix the file by hand, or move it aside and add the remote servers again.',
    );
  }
  return parsed.data.connections;
}

export function saveConnections(dir: string, connections: readonly SavedConnection[]): Promise<void> {
  return writeFileAtomic(join(dir, CONNECTIONS_FILE), `${JSON.stringify({ version: 1, connections }, null, 2)}\n`);
}

/**
 * Changes the connections file as it is now on disk, under a lock shared by every console: another
 * console's entries, added since this one read the file, are kept (merge on write, never last writer wins).
 */
export function updateConnections(dir: string, change: (current: SavedConnection[]) => SavedConnection[]): Promise<SavedConnection[]> {
  return withFileLock(join(dir, CONNECTIONS_FILE), async () => {
    const next = change(await loadConnections(dir));
    await saveConnections(dir, next);
    return next;
  });
}

/** A random id: not derived from the name or URL, so editing either never orphans the token. */
export function newConnectionId(kind: 'remote' | 'sandbox' = 'remote'): string {
  return `${kind}-${randomBytes(6).toString('hex')}`;
}
