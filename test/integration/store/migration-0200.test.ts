import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate as migratePostgres, migrations as postgresMigrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { latestSchemaVersion, migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { freshDatabase } from '../../support/postgres.js';
import { onCleanup, tempDbPath } from '../../unit/engine/fixtures.js';

/*
 * Migration 0200 on both stores, fresh and from the version before it: the incidents table, where a
 * workflow has at most one open incident (a second is refused by the schema) and any number resolved.
 */

const TS = '2026-12-01T10:00:00.000Z';
const BEFORE = 180;
const INSERT = "INSERT INTO incidents (incident_id, workflow_id, version, opened_seq, opened_at, first_failure_at, resolved_at) VALUES (?, 'w1', 2, ?, ?, ?, ?)";

function sqliteAt(version: number): Database.Database {
  const db = new Database(tempDbPath());
  onCleanup(() => void (db.open && db.close()));
  migrate(db, migrations.filter((m) => m.version <= version));
  return db;
}

function expectOneOpen(db: Database.Database): void {
  const insert = db.prepare(INSERT);
  insert.run('a', 1, TS, TS, TS);
  insert.run('b', 2, TS, TS, TS);
  insert.run('c', 3, TS, TS, null);
  expect(() => insert.run('d', 4, TS, TS, null)).toThrow(/UNIQUE constraint/);
  expect(db.prepare('SELECT incident_id, report_revision, rehearsal FROM incidents ORDER BY incident_id').all()).toEqual([
    { incident_id: 'a', report_revision: 0, rehearsal: 0 },
    { incident_id: 'b', report_revision: 0, rehearsal: 0 },
    { incident_id: 'c', report_revision: 0, rehearsal: 0 },
  ]);
}

describe('migration 0200 on SQLite', () => {
  it('a fresh database: one open incident per workflow, any number resolved', () => {
    expectOneOpen(sqliteAt(latestSchemaVersion));
  });

  it('a database at the version before keeps its events and gains the table', () => {
    const db = sqliteAt(BEFORE);
    db.prepare("INSERT INTO events (seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash) VALUES (1, ?, 'run_failed', 'w1', 'r1', 'ana', '{}', 'p', 'h')").run(TS);
    expect(migrate(db)).toEqual({ from: BEFORE, to: latestSchemaVersion });
    expect(db.prepare('SELECT seq, type FROM events').all()).toEqual([{ seq: 1, type: 'run_failed' }]);
    expectOneOpen(db);
  });
});

describe('migration 0200 on PostgreSQL', () => {
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
  const numbered = INSERT.replace(/\?/g, (() => {
    let i = 0;
    return () => `$${(i += 1)}`;
  })());
  async function expectOneOpenPg(c: pg.Client): Promise<void> {
    await c.query(numbered, ['a', 1, TS, TS, TS]);
    await c.query(numbered, ['b', 2, TS, TS, TS]);
    await c.query(numbered, ['c', 3, TS, TS, null]);
    await expect(c.query(numbered, ['d', 4, TS, TS, null])).rejects.toMatchObject({ code: '23505' });
  }

  it('a fresh database', async () => {
    await expectOneOpenPg(await clientAt('m0200_fresh', Number.POSITIVE_INFINITY));
  });

  it('a database at the version before', async () => {
    const c = await clientAt('m0200_before', BEFORE);
    expect(await migratePostgres(c)).toMatchObject({ from: BEFORE });
    await expectOneOpenPg(c);
  });
});
