import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../main/engine/store/sqlite/database.js';
import { Engine } from '../../../main/engine/engine.js';
import { type Migration, latestSchemaVersion, migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { expectRefusal, onCleanup, openTempEngine, sqliteDb, tempDbPath } from './fixtures.js';

function userVersion(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

function schemaOf(db: Database.Database): Array<{ type: string; name: string; sql: string | null }> {
  return db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{ type: string; name: string; sql: string | null }>;
}

/** A database written by a future Rewind: schema version 999, a table this code has never heard of. */
function futureDatabase(path: string, journalMode: 'WAL' | 'DELETE'): Buffer {
  const db = new Database(path);
  db.pragma(`journal_mode = ${journalMode}`);
  db.exec("CREATE TABLE hologram_rollbacks (id TEXT PRIMARY KEY, note TEXT); INSERT INTO hologram_rollbacks VALUES ('h1', 'from the future');");
  db.pragma('user_version = 999');
  db.close();
  return readFileSync(path);
}

describe('migrations', () => {
  it('numbers the registry in increasing order and ends at the latest schema version', async () => {
    const numbers = migrations.map((m) => m.version);
    expect(numbers.length).toBeGreaterThanOrEqual(1);
    expect(numbers[0]).toBe(10);
    for (let i = 1; i < numbers.length; i += 1) expect(numbers[i]!).toBeGreaterThan(numbers[i - 1]!);
    expect(latestSchemaVersion).toBe(numbers[numbers.length - 1]);
  });

  it('brings a fresh file to the latest PRAGMA user_version, in WAL mode with foreign keys on', async () => {
    const path = tempDbPath();
    const engine = await Engine.open({ path });
    expect(engine.schemaVersion).toBe(latestSchemaVersion);
    expect(sqliteDb(engine).pragma('user_version', { simple: true })).toBe(latestSchemaVersion);
    expect(sqliteDb(engine).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqliteDb(engine).pragma('foreign_keys', { simple: true })).toBe(1);
    await engine.close();
    expect(userVersion(path)).toBe(latestSchemaVersion);
  });

  it('creates every table of the data model (and the bookkeeping tables)', async () => {
    const engine = await openTempEngine();
    const tables = (sqliteDb(engine).prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    for (const table of ['workflows', 'workflow_versions', 'runs', 'checkpoints', 'events', 'idempotency_keys', 'meta', 'tokens']) {
      expect(tables, `table ${table}`).toContain(table);
    }
    const triggers = (sqliteDb(engine).prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").all() as Array<{ name: string }>).map((t) => t.name);
    expect(triggers.sort()).toEqual(['events_append_only_delete', 'events_append_only_update']);
  });

  it('gives each table the columns DESIGN.md names', async () => {
    const engine = await openTempEngine();
    const columns = (table: string) => (sqliteDb(engine).prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns('workflows')).toEqual(
      expect.arrayContaining(['id', 'name', 'description', 'source_type', 'status', 'schedule', 'active_version', 'revision', 'created_at', 'updated_at']),
    );
    expect(columns('workflow_versions')).toEqual(
      expect.arrayContaining(['version_id', 'workflow_id', 'version', 'dsl_definition', 'change_log', 'status', 'created_by', 'published_at', 'created_at']),
    );
    expect(columns('runs')).toEqual(
      expect.arrayContaining(['run_id', 'workflow_id', 'version', 'status', 'params', 'parent_run_id', 'started_at', 'finished_at', 'error']),
    );
    expect(columns('checkpoints')).toEqual(expect.arrayContaining(['run_id', 'seq', 'node_id', 'status', 'state', 'created_at']));
    expect(columns('events')).toEqual(expect.arrayContaining(['seq', 'ts', 'type', 'workflow_id', 'run_id', 'actor', 'payload', 'prev_hash', 'hash']));
  });

  it('reopening an up-to-date file is a no-op: same version, same schema, nothing applied', async () => {
    const path = tempDbPath();
    const first = await Engine.open({ path });
    const schemaBefore = schemaOf(sqliteDb(first));
    await first.close();

    const { db, schema } = openDatabase(path);
    onCleanup(() => void (db.open && db.close()));
    expect(schema).toEqual({ from: latestSchemaVersion, to: latestSchemaVersion });
    expect(schemaOf(db)).toEqual(schemaBefore);
    expect(migrate(db)).toEqual({ from: latestSchemaVersion, to: latestSchemaVersion });
    expect(db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion);
  });

  it('applies only the pending migrations of a registry, in one step', async () => {
    const path = tempDbPath();
    const db = new Database(path);
    onCleanup(() => void (db.open && db.close()));
    const base = migrations[0]!;
    expect(migrate(db, [base])).toEqual({ from: 0, to: base.version });
    const next: Migration = { version: base.version + 1000, name: 'extra', up: 'CREATE TABLE extra_table (x INTEGER);' };
    expect(migrate(db, [base, next])).toEqual({ from: base.version, to: next.version });
    expect(db.pragma('user_version', { simple: true })).toBe(next.version);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra_table'").get()).toEqual({ n: 1 });
  });

  it('applies migrations inside one transaction: a failing one leaves the file as it was', async () => {
    const path = tempDbPath();
    const db = new Database(path);
    onCleanup(() => void (db.open && db.close()));
    const broken: Migration = { version: 99_999, name: 'broken', up: 'CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL;' };
    expect(() => migrate(db, [...migrations, broken])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(schemaOf(db)).toEqual([]);
  });

  it('refuses a WAL database from a newer Rewind with SCHEMA_TOO_NEW and leaves its bytes unchanged', async () => {
    const path = tempDbPath('future.db');
    const before = futureDatabase(path, 'WAL');
    const err = await expectRefusal(() => Engine.open({ path }), 'SCHEMA_TOO_NEW', 'The file was not changed');
    expect(err.hint).toContain('newer Rewind');
    expect(err.message).toContain('999');
    expect(err.message).toContain(String(latestSchemaVersion));
    expect(err.details).toEqual({ schema_version: 999, supported: latestSchemaVersion });
    expect(readFileSync(path).equals(before)).toBe(true);
    // No WAL or shared-memory file left behind either.
    expect(readdirSync(dirname(path)).filter((f) => f !== 'future.db')).toEqual([]);
    expect(userVersion(path)).toBe(999);
  });

  it('refuses a rollback-journal database from a newer Rewind and leaves its bytes unchanged (no switch to WAL)', async () => {
    const path = tempDbPath('future-delete.db');
    const before = futureDatabase(path, 'DELETE');
    await expectRefusal(() => Engine.open({ path }), 'SCHEMA_TOO_NEW', 'The file was not changed');
    const after = readFileSync(path);
    // Bytes 18–19 of the header are the file format versions: 1 = rollback journal, 2 = WAL.
    expect([after[18], after[19]]).toEqual([before[18], before[19]]);
    expect(after.equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});
