import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { RewindError } from '../../engine/errors.js';
import { writeFileAtomic } from './atomic-write.js';

export const CONNECTIONS_FILE = 'connections.json';

/** A remote server as the connections file keeps it. Its token lives in the token vault, never here. */
export const remoteConnectionSchema = z.object({
  id: z.string().min(1).max(100),
  name: z.string().min(1).max(100),
  url: z.url({ protocol: /^https?$/ }),
  environment: z.enum(['staging', 'production']),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
});
export type RemoteConnection = z.infer<typeof remoteConnectionSchema>;

const connectionsFileSchema = z.object({
  version: z.literal(1),
  connections: z.array(remoteConnectionSchema),
});

export async function loadConnections(dir: string): Promise<RemoteConnection[]> {
  const file = join(dir, CONNECTIONS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = connectionsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RewindError(
      'VALIDATION_FAILED',
      `${file} is not a valid connections file: ${parsed.error.issues[0]?.message ?? 'not JSON'}.`,
      'Fix the file by hand, or move it aside and add the remote servers again.',
    );
  }
  return parsed.data.connections;
}

export function saveConnections(dir: string, connections: readonly RemoteConnection[]): Promise<void> {
  return writeFileAtomic(join(dir, CONNECTIONS_FILE), `${JSON.stringify({ version: 1, connections }, null, 2)}\n`);
}

/** A random id: not derived from the name or URL, so editing either never orphans the token. */
export function newConnectionId(): string {
  return `remote-${randomBytes(6).toString('hex')}`;
}
