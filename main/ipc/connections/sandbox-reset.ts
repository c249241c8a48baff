import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxBackend } from '../../backends/sandbox.js';

/** What resetting the sandbox throws away: the counts the confirmation shows, and where a copy is kept. */
export interface SandboxContents {
  path: string;
  workflows: number;
  versions: number;
  runs: number;
  events: number;
  runbooks: number;
  rehearsals: number;
  /** The file the current sandbox is copied to before the reset (one, replaced by the next reset). */
  kept_as: string;
}

type Table = 'workflows' | 'workflow_versions' | 'runs' | 'events' | 'runbooks' | 'rehearsals';

export function sandboxContents(backend: SandboxBackend, path: string): SandboxContents {
  const count = (table: Table) => (backend.engine.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return {
    path,
    workflows: count('workflows'),
    versions: count('workflow_versions'),
    runs: count('runs'),
    events: count('events'),
    runbooks: count('runbooks'),
    rehearsals: count('rehearsals'),
    kept_as: `${path}.before-reset`,
  };
}

/**
 * A consistent copy of an open sandbox (SQLite's online backup: safe while WAL writers are at work),
 * so the copy can be changed freely; `dispose` closes and deletes it.
 */
export async function scratchCopy(source: SandboxBackend, open: (path: string) => SandboxBackend): Promise<{ backend: SandboxBackend; path: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-rehearsal-'));
  const path = join(dir, 'scratch.db');
  try {
    await source.engine.db.backup(path);
    const backend = open(path);
    return {
      backend,
      path,
      async dispose() {
        await backend.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Removes a closed sandbox file and its WAL, so the next open starts a fresh one. */
export async function removeSandboxFiles(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(`${path}${suffix}`, { force: true });
}
