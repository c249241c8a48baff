import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineBackend } from '../../backends/engine-backend.js';
import { RewindError } from '../../engine/errors.js';
import { SqliteStore } from '../../engine/store/sqlite/sqlite-store.js';

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

export async function sandboxContents(backend: EngineBackend, path: string): Promise<SandboxContents> {
  const count = async (table: Table) => (await backend.engine.store.read.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n ?? 0;
  return {
    path,
    workflows: await count('workflows'),
    versions: await count('workflow_versions'),
    runs: await count('runs'),
    events: await count('events'),
    runbooks: await count('runbooks'),
    rehearsals: await count('rehearsals'),
    kept_as: `${path}.before-reset`,
  };
}

/** A consistent copy of a sandbox's SQLite file at `path` (a sandbox is always a SQLite file). */
export async function backupSandbox(backend: EngineBackend, path: string): Promise<void> {
  const store = backend.engine.store;
  if (!(store instanceof SqliteStore)) {
    throw new RewindError('INTERNAL', `This sandbox is a ${store.kind} store, not a SQLite file.`, 'Only a sandbox file can be copied; rehearse against a server without a scratch copy.');
  }
  await store.backup(path);
}

/**
 * A consistent copy of an open sandbox (SQLite's online backup: safe while WAL writers are at work),
 * so the copy can be changed freely; `dispose` closes and deletes it.
 */
export function scratchCopy(source: EngineBackend, open: (path: string) => Promise<EngineBackend>): Promise<Scratch> {
  return scratch('scratch.db', async (path) => {
    await backupSandbox(source, path);
    return open(path);
  });
}

/** A new sandbox in a temporary folder, opened by `open` (which seeds it with the demo); `dispose` closes and deletes it. */
export function scratchSandbox(open: (path: string) => Promise<EngineBackend>): Promise<Scratch> {
  return scratch('demo.db', open);
}

interface Scratch {
  backend: EngineBackend;
  path: string;
  dispose(): Promise<void>;
}

/** A sandbox file `name` in a folder of its own, made and opened by `make`; the folder goes with it (also when `make` fails). */
async function scratch(name: string, make: (path: string) => Promise<EngineBackend>): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-rehearsal-'));
  const path = join(dir, name);
  try {
    const backend = await make(path);
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
