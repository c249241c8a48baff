import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '../../main/engine/store/postgres/index.js';
import type { Store, StoreKind } from '../../main/engine/store/port.js';
import { openSqliteStore } from '../../main/engine/store/sqlite/sqlite-store.js';
import { freshDatabase } from './postgres.js';

/**
 * The stores the store-level suites (backend contract, model-based property, crash) run against:
 * `describe.each(stores)`. A new adapter joins every one of them by adding one entry here.
 */
export interface StoreFactory {
  readonly kind: StoreKind;
  /** A fresh, empty, migrated store; `name` tells it apart from the others of one test run. */
  open(name: string): Promise<Store>;
  /**
   * Where a child process (the crash tests' writer) opens the same store again (open-store.ts): for
   * SQLite the file's path, for PostgreSQL the database's URL. Call it after `open(name)`.
   */
  location(name: string): string;
  /** Removes what the factory made (files, databases); after every store is closed. */
  dispose(): Promise<void>;
  /**
   * Why two instances in this one process cannot hold interleaved units of work, if they cannot: a
   * case racing two engines in one process is then skipped on this store, with this reason printed.
   */
  readonly noConcurrentInstances?: string;
}

// better-sqlite3 waits for the other connection's write lock synchronously (busy_timeout), which
// blocks the very event loop the holder needs to commit: the wait can only end in BUSY.
export const SQLITE_NO_CONCURRENT_INSTANCES =
  'two SQLite connections in one process cannot interleave units of work (busy_timeout blocks the event loop the lock holder needs); one process has one SqliteStore per file, whose FIFO orders its units of work';

/** Skips a case on a store that cannot run two engines in one process, saying why (replicas race on PostgreSQL). */
export function skipWithoutConcurrentInstances(factory: StoreFactory, title: string): boolean {
  if (factory.noConcurrentInstances === undefined) return false;
  console.log(`${factory.kind}: skipping "${title}": ${factory.noConcurrentInstances}`);
  return true;
}

function sqliteFactory(): StoreFactory {
  let dir: string | null = null;
  const folder = () => (dir ??= mkdtempSync(join(tmpdir(), 'rewind-store-')));
  return {
    kind: 'sqlite',
    noConcurrentInstances: SQLITE_NO_CONCURRENT_INSTANCES,
    location: (name) => join(folder(), `${name}.db`),
    open: async (name) => openSqliteStore(join(folder(), `${name}.db`)),
    dispose: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}

/**
 * A database per `open` on the test run's shared PostgreSQL server. `dispose` drops nothing: the
 * databases go with the server when the run ends (see postgres-global-setup.ts).
 */
function postgresFactory(): StoreFactory {
  const urls = new Map<string, string>();
  return {
    kind: 'postgres',
    location: (name) => {
      const url = urls.get(name);
      if (!url) throw new Error(`No PostgreSQL store "${name}" was opened by this factory: call open("${name}") first.`);
      return url;
    },
    open: async (name) => {
      const url = await freshDatabase(name);
      urls.set(name, url);
      return openPostgresStore({ url, replicaId: `test-${name}` });
    },
    dispose: async () => urls.clear(),
  };
}

export const stores: readonly StoreFactory[] = [sqliteFactory(), postgresFactory()];
