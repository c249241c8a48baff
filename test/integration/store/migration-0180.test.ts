import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate as migratePostgres, migrations as postgresMigrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { latestSchemaVersion, migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { freshDatabase } from '../../support/postgres.js';
import { onCleanup, tempDbPath } from '../../unit/engine/fixtures.js';

/*
 * Migration 0180 on both stores, on a fresh database and on one at the version before it holding
 * runs, checkpoints and rehearsals: runs may end `denied` (an unknown status is still refused), the
 * database gets one stable server id, and a rehearsal keeps its pace (null on older rows).
 */

const TS = '2026-12-01T10:00:00.000Z';
// The registered migration just before 0180 (same number on both stores).
const BEFORE = migrations[migrations.findIndex((m) => m.version === 180) - 1]!.version;

function sqliteAt(version: number): Database.Database {
  const db = new Database(tempDbPath());
  onCleanup(() => void (db.open && db.close()));
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= version));
  return db;
}

function seedSqlite(db: Database.Database): void {
  db.prepare("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', 1, 1, ?, ?)").run(TS, TS);
  db.prepare("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v1', 'w1', 1, '{}', 'active', 'ana', ?)").run(TS);
  const run = db.prepare("INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, created_by, created_at) VALUES (?, 'w1', 1, ?, ?, '{}', 7, '{}', ?, 'ana', ?)");
  run.run('r1', 'failed', 'start', null, TS);
  run.run('r2', 'succeeded', 'resume', 'r1', TS);
  db.prepare("INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES ('r1', 1, 'ingest', 'succeeded', '{}', ?)").run(TS);
  db.prepare("INSERT INTO runbooks (id, name, level, definition, created_by, created_at, updated_at) VALUES ('rb', 'Level 1', NULL, '{}', 'ana', ?, ?)").run(TS, TS);
  db.prepare(
    "INSERT INTO rehearsals (id, runbook_id, runbook_definition, scenario, started_at, finished_at, total_ms, passed, steps, rollbacks, created_by) VALUES ('old', 'rb', '{}', NULL, ?, ?, 10, 1, '[]', '[]', 'ana')",
  ).run(TS, TS);
}

function expectDeniedAccepted(db: Database.Database): void {
  db.prepare("UPDATE runs SET status = 'denied' WHERE run_id = 'r1'").run();
  expect(() => db.prepare("UPDATE runs SET status = 'sleeping' WHERE run_id = 'r1'").run()).toThrow(/CHECK constraint/);
  expect(db.prepare('SELECT id FROM server_identity').pluck().all()).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
  expect(() => db.prepare("UPDATE rehearsals SET pace = 'brisk'").run()).toThrow(/CHECK constraint/);
  expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  expect(db.pragma('foreign_key_check')).toEqual([]);
}

describe('migration 0180 on SQLite', () => {
  it('a fresh database: denied runs, a server id, the pace of rehearsals', () => {
    const db = sqliteAt(latestSchemaVersion);
    seedSqlite(db);
    expectDeniedAccepted(db);
  });

  it('a database at the version before: every run, checkpoint, index and reference kept; older rehearsals have no pace', () => {
    const db = sqliteAt(BEFORE);
    seedSqlite(db);
    const runs = db.prepare('SELECT rowid, * FROM runs ORDER BY rowid').all();
    const checkpoints = db.prepare('SELECT * FROM checkpoints').all();
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('runs', 'checkpoints') ORDER BY name").all();
    expect(migrate(db)).toEqual({ from: BEFORE, to: latestSchemaVersion });
    expect(db.prepare('SELECT rowid, * FROM runs ORDER BY rowid').all()).toEqual(runs);
    expect(db.prepare('SELECT * FROM checkpoints').all()).toEqual(checkpoints);
    expect(db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('runs', 'checkpoints') ORDER BY name").all()).toEqual(indexes);
    expect(db.prepare("SELECT pace FROM rehearsals WHERE id = 'old'").pluck().get()).toBeNull();
    expectDeniedAccepted(db);
    // The references still bite after the edit.
    expect(() => db.prepare("INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES ('nope', 1, 'x', 'succeeded', '{}', 'now')").run()).toThrow(/FOREIGN KEY/);
    // Another connection to the file reads the new schema too.
    const other = new Database(db.name);
    onCleanup(() => void (other.open && other.close()));
    other.prepare("UPDATE runs SET status = 'denied' WHERE run_id = 'r2'").run();
  });

  it('refuses, untouched, a runs table whose status check is not the one it widens', () => {
    const db = sqliteAt(BEFORE);
    db.exec('DROP TABLE checkpoints; DROP TABLE schedule_ticks; DROP TABLE runs; CREATE TABLE runs (run_id TEXT PRIMARY KEY, status TEXT)');
    expect(() => migrate(db)).toThrow(/does not have the status check/);
    expect(db.pragma('user_version', { simple: true })).toBe(BEFORE);
  });
});

describe('migration 0180 on PostgreSQL', () => {
  const clients: pg.Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end();
  });
  async function clientAt(label: string, version: number): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: await freshDatabase(label) });
    await client.connect();
    clients.push(client);
    await migratePostgres(client, postgresMigrations.filter((m) => m.version <= version));
    return client;
  }
  async function seed(c: pg.Client): Promise<void> {
    await c.query("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', 1, 1, $1, $1)", [TS]);
    await c.query("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v1', 'w1', 1, '{}', 'active', 'ana', $1)", [TS]);
    await c.query("INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, created_by, created_at) VALUES ('r1', 'w1', 1, 'failed', 'start', '{}', 7, '{}', 'ana', $1)", [TS]);
    await c.query("INSERT INTO runbooks (id, name, level, definition, created_by, created_at, updated_at) VALUES ('rb', 'Level 1', NULL, '{}', 'ana', $1, $1)", [TS]);
    await c.query(
      "INSERT INTO rehearsals (id, runbook_id, runbook_definition, scenario, started_at, finished_at, total_ms, passed, steps, rollbacks, created_by) VALUES ('old', 'rb', '{}', NULL, $1, $1, 10, 1, '[]', '[]', 'ana')",
      [TS],
    );
  }
  async function expectDenied(c: pg.Client): Promise<void> {
    await c.query("UPDATE runs SET status = 'denied' WHERE run_id = 'r1'");
    await expect(c.query("UPDATE runs SET status = 'sleeping' WHERE run_id = 'r1'")).rejects.toMatchObject({ code: '23514' });
    const id = await c.query<{ id: string }>('SELECT id FROM server_identity');
    expect(id.rows).toEqual([{ id: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
    await expect(c.query("UPDATE rehearsals SET pace = 'brisk'")).rejects.toMatchObject({ code: '23514' });
  }

  it('a fresh database', async () => {
    const c = await clientAt('m0180_fresh', Number.POSITIVE_INFINITY);
    await seed(c);
    await expectDenied(c);
  });

  it('a database at the version before: its runs kept, older rehearsals without a pace', async () => {
    const c = await clientAt('m0180_before', BEFORE);
    await seed(c);
    expect(await migratePostgres(c)).toMatchObject({ from: BEFORE });
    expect((await c.query('SELECT run_id, status FROM runs')).rows).toEqual([{ run_id: 'r1', status: 'failed' }]);
    expect((await c.query("SELECT pace FROM rehearsals WHERE id = 'old'")).rows).toEqual([{ pace: null }]);
    await expectDenied(c);
  });
});
