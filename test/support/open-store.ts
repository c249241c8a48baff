import { isPostgresUrl, openPostgresStore } from '../../main/engine/store/postgres/index.js';
import type { Store } from '../../main/engine/store/port.js';
import { openSqliteStore } from '../../main/engine/store/sqlite/sqlite-store.js';

/**
 * Opens an existing store again from a store factory's `location`: a PostgreSQL URL or a SQLite
 * file. Kept apart from stores.ts so a child process (no vitest in it) can import it.
 */
export async function openStoreAt(location: string, replicaId?: string): Promise<Store> {
  return isPostgresUrl(location) ? openPostgresStore({ url: location, ...(replicaId ? { replicaId } : {}) }) : openSqliteStore(location);
}
