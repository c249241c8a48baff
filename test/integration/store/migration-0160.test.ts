import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate as migratePostgres, migrations as postgresMigrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { migrate as migrateSqlite, migrations as sqliteMigrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { onCleanup, tempDbPath } from '../../unit/engine/fixtures.js';
import { freshDatabase } from '../../support/postgres.js';

/*
 * Migration 0160 (the audit log's filter indexes) on a database at the version before it, holding
 * events already: the indexes are built over them, and the events are untouched.
 */

const AUDIT_INDEXES = ['events_audit_by_actor', 'events_audit_by_ts', 'events_audit_by_type'];
const INSERT = 'INSERT INTO events (seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash) VALUES ';
const rows = [
  [1, '2026-11-01T00:00:00.000Z', 'workflow_created', 'w1', null, 'ana', '{}', 'p0', 'h1'],
  [2, '2026-11-01T00:01:00.000Z', 'workflow_rollback', 'w1', null, 'ben', '{}', 'h1', 'h2'],
] as const;

describe('migration 0160 (audit filters)', () => {
  it('on SQLite: indexes the events of a database at the previous version', () => {
    const db = new Database(tempDbPath());
    onCleanup(() => void (db.open && db.close()));
    const previous = sqliteMigrations.filter((m) => m.version < 160);
    const from = migrateSqlite(db, previous).to;
    const insert = db.prepare(`${INSERT}(?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const r of rows) insert.run(...r);
    expect(migrateSqlite(db, sqliteMigrations.filter((m) => m.version <= 160))).toEqual({ from, to: 160 });
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all() as Array<{ name: string }>).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(AUDIT_INDEXES));
    expect(db.prepare("SELECT seq FROM events INDEXED BY events_audit_by_actor WHERE actor = 'ben'").all()).toEqual([{ seq: 2 }]);
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 2 });
  });

  describe('on PostgreSQL', () => {
    const clients: pg.Client[] = [];
    afterAll(async () => {
      for (const c of clients) await c.end();
    });

    it('indexes the events of a database at the previous version', async () => {
      const client = new pg.Client({ connectionString: await freshDatabase('migration-0160') });
      await client.connect();
      clients.push(client);
      const from = (await migratePostgres(client, postgresMigrations.filter((m) => m.version < 160))).to;
      await client.query(`${INSERT}($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)`, rows.flat());
      expect(await migratePostgres(client, postgresMigrations.filter((m) => m.version <= 160))).toEqual({ from, to: 160 });
      const names = (await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")).rows.map((r) => r.indexname);
      expect(names).toEqual(expect.arrayContaining(AUDIT_INDEXES));
      expect((await client.query('SELECT count(*)::int AS n FROM events')).rows).toEqual([{ n: 2 }]);
    });
  });
});
