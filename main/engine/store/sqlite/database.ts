import Database from 'better-sqlite3';
import { latestSchemaVersion, migrate, refuseFutureSchema } from './migrations/index.js';

/**
 * Opens a Rewind SQLite file: WAL so readers never block the writer, foreign keys on, and
 * `synchronous = FULL` because an acknowledged write (a rollback, a checkpoint) must survive
 * not only `kill -9` but a power cut on an operator's laptop; WAL + FULL costs one fsync a commit.
 */
export function openDatabase(path: string): { db: Database.Database; schema: { from: number; to: number } } {
  const db = new Database(path);
  try {
    // Before any pragma that writes (WAL changes the header): a file from a newer Rewind stays untouched.
    refuseFutureSchema(db.pragma('user_version', { simple: true }) as number, latestSchemaVersion);
    // A new file gives back the pages retention frees (`PRAGMA incremental_vacuum`, see SqliteStore.reclaimSpace).
    // Only possible before its first table: an older file stays as it was until `rewind prune --vacuum` rebuilds it.
    if (isEmpty(db)) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Another process holding the write lock (the CLI beside the console) waits up to 5 s before BUSY.
    db.pragma('busy_timeout = 5000');
    const schema = migrate(db);
    return { db, schema };
  } catch (err) {
    db.close();
    throw err;
  }
}

function isEmpty(db: Database.Database): boolean {
  return (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
}
