import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate as migratePostgres, migrations as postgresMigrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { latestSchemaVersion, migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { freshDatabase } from '../../support/postgres.js';
import { onCleanup, tempDbPath } from '../../unit/engine/fixtures.js';

/*
 * Migration 0210 on both stores, on a fresh database and on one at the version before it holding a
 * workflow: review requests can be stored for it, with a known action and status only, and never for
 * a workflow that does not exist.
 */

const TS = '2026-12-07T10:00:00.000Z';
const LATER = '2026-12-07T10:30:00.000Z';
const BEFORE = 180;
const INSERT = `INSERT INTO review_requests (review_id, action, workflow_id, version, from_version, canary_percent, input, revision, requested_by, requested_at, expires_at, status)
  VALUES (?, ?, ?, 2, 1, NULL, '{}', 3, 'alice', ?, ?, ?)`;
let n = 0;
const PG_INSERT = INSERT.replace(/\?/g, () => `$${++n}`);

function sqliteAt(version: number): Database.Database {
  const db = new Database(tempDbPath());
  onCleanup(() => void (db.open && db.close()));
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= version));
  return db;
}

function seedSqlite(db: Database.Database): void {
  db.prepare("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', 1, 3, ?, ?)").run(TS, TS);
}

function expectReviews(db: Database.Database): void {
  db.prepare(INSERT).run('r1', 'publish', 'w1', TS, LATER, 'pending');
  db.prepare("UPDATE review_requests SET status = 'approved', answered_by = 'bob', answered_at = ?, result_seq = 9 WHERE review_id = 'r1'").run(LATER);
  expect(db.prepare("SELECT status, answered_by, result_seq FROM review_requests WHERE review_id = 'r1'").get()).toEqual({ status: 'approved', answered_by: 'bob', result_seq: 9 });
  expect(() => db.prepare(INSERT).run('r2', 'archive', 'w1', TS, LATER, 'pending')).toThrow(/CHECK constraint/);
  expect(() => db.prepare(INSERT).run('r3', 'rollback', 'w1', TS, LATER, 'forgotten')).toThrow(/CHECK constraint/);
  expect(() => db.prepare(INSERT).run('r4', 'rollback', 'nope', TS, LATER, 'pending')).toThrow(/FOREIGN KEY/);
  expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
}

describe('migration 0210 on SQLite', () => {
  it('a fresh database', () => {
    const db = sqliteAt(latestSchemaVersion);
    seedSqlite(db);
    expectReviews(db);
  });

  it('a database at the version before: its workflows kept', () => {
    const db = sqliteAt(BEFORE);
    seedSqlite(db);
    const workflows = db.prepare('SELECT * FROM workflows').all();
    expect(migrate(db)).toEqual({ from: BEFORE, to: latestSchemaVersion });
    expect(db.prepare('SELECT * FROM workflows').all()).toEqual(workflows);
    expectReviews(db);
  });
});

describe('migration 0210 on PostgreSQL', () => {
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
  const insert = (c: pg.Client, id: string, action: string, workflow: string, status: string) =>
    c.query(PG_INSERT, [id, action, workflow, TS, LATER, status]);
  async function expectPg(c: pg.Client): Promise<void> {
    await c.query("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', 1, 3, $1, $1)", [TS]);
    await insert(c, 'r1', 'publish', 'w1', 'pending');
    await c.query("UPDATE review_requests SET status = 'expired' WHERE review_id = 'r1'");
    expect((await c.query('SELECT status, canary_percent FROM review_requests')).rows).toEqual([{ status: 'expired', canary_percent: null }]);
    await expect(insert(c, 'r2', 'archive', 'w1', 'pending')).rejects.toMatchObject({ code: '23514' });
    await expect(insert(c, 'r3', 'rollback', 'nope', 'pending')).rejects.toMatchObject({ code: '23503' });
  }

  it('a fresh database', async () => {
    await expectPg(await clientAt('m0210_fresh', Number.POSITIVE_INFINITY));
  });

  it('a database at the version before', async () => {
    const c = await clientAt('m0210_before', BEFORE);
    expect(await migratePostgres(c)).toMatchObject({ from: BEFORE });
    await expectPg(c);
  });
});
