import type Database from 'better-sqlite3';
import { RewindError } from '../../../errors.js';
import type { SqliteMigration } from './sqlite-migration.js';

const STATUSES_BEFORE = "CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted'))";
const STATUSES_AFTER = "CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted', 'denied'))";

/**
 * Widens the runs' status CHECK by SQLite's own procedure for loosening a constraint (sqlite.org
 * "ALTER TABLE", section 7: edit the table's text in the schema, bump schema_version). A rebuild
 * as in 0050 would copy every run and checkpoint — minutes and twice the disk at a million runs —
 * and drop whatever other migrations added to those tables; this edit touches no row, and every
 * existing row already satisfies the wider check. Defensive mode forbids the edit, so it is lifted
 * for these few statements only. A schema whose check reads otherwise is refused, untouched.
 */
function widenRunStatuses(db: Database.Database): void {
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").pluck().get() as string | undefined;
  if (!sql?.includes(STATUSES_BEFORE)) {
    throw new RewindError('INTERNAL', 'The runs table does not have the status check this migration widens.', 'The file was changed outside Rewind; open a backup of it, or a fresh sandbox.');
  }
  const schemaVersion = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'runs'").run(sql.replace(STATUSES_BEFORE, STATUSES_AFTER));
    // Every connection (this one included) reads the schema again before its next statement.
    db.pragma(`schema_version = ${schemaVersion + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
}

/**
 * A denied approval ends its run `denied` (an outcome, not a failure); each database has a stable
 * server id (`server_identity`, one row), so every replica of a server and every console name it alike — a
 * snapshot or a fresh sandbox gets its own; and a rehearsal records its pace (`paced`: each step
 * waited for the operator; `automatic`: steps ran by themselves, as in CI). Null pace on older rows.
 */
export const migration0180: SqliteMigration = {
  version: 180,
  name: 'denied-runs-server-id-pace',
  up(db) {
    widenRunStatuses(db);
    db.exec(`
      -- One row: the id a server (all its replicas) or a sandbox is known by.
      CREATE TABLE server_identity (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
      INSERT INTO server_identity (id, created_at) VALUES (lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
      ALTER TABLE rehearsals ADD COLUMN pace TEXT CHECK (pace IS NULL OR pace IN ('paced', 'automatic'));
    `);
  },
};
