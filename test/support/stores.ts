import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, StoreKind } from '../../main/engine/store/port.js';
import { openSqliteStore } from '../../main/engine/store/sqlite/sqlite-store.js';

/**
 * The stores the store-level suites (backend contract, model-based property, crash) run against:
 * `describe.each(stores)`. A new adapter joins every one of them by adding one entry here.
 */
export interface StoreFactory {
  readonly kind: StoreKind;
  /** A fresh, empty, migrated store; `name` tells it apart from the others of one test run. */
  open(name: string): Promise<Store>;
  /**
   * Where a child process (the crash tests' writer) opens the same store again: for SQLite the
   * file's path. Call it with the name given to `open`.
   */
  location(name: string): string;
  /** Removes what the factory made (files, databases); after every store is closed. */
  dispose(): Promise<void>;
}

function sqliteFactory(): StoreFactory {
  let dir: string | null = null;
  const folder = () => (dir ??= mkdtempSync(join(tmpdir(), 'rewind-store-')));
  return {
    kind: 'sqlite',
    location: (name) => join(folder(), `${name}.db`),
    open: async (name) => openSqliteStore(join(folder(), `${name}.db`)),
    dispose: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}

export const stores: readonly StoreFactory[] = [sqliteFactory()];
