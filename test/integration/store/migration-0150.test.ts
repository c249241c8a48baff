import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import { openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { migrate as migratePostgres, migrations as postgresMigrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { latestSchemaVersion, migrate as migrateSqlite, migrations as sqliteMigrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { openSqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import type { Store } from '../../../main/engine/store/port.js';
import type { Dsl } from '../../../preload/contract/entities.js';
import { freshDatabase } from '../../support/postgres.js';
import { tempDir } from '../server/harness.js';

/*
 * Migration 0150 on a database at the version before it, on both stores: the checkpoints written
 * then keep their full copies (format 'full', no row rewritten) and read exactly as before; runs are
 * unpruned; new runs write delta rows; the retention lease row is there. And on a fresh database.
 */

const dsl: Dsl = {
  defaults: { region: 'eu' },
  nodes: [
    { id: 'a', type: 'task', params: { duration_ms: 1, output: { rows: 3 } }, next: ['b'] },
    { id: 'b', type: 'task', params: { duration_ms: 1, output: { done: true } }, next: [] },
  ],
};
const TS = '2026-06-01T10:00:00.000Z';
const states = [
  { output: { rows: 3 }, context: { region: 'eu', rows: 3, outputs: { a: { rows: 3 } } }, error: null },
  { output: { done: true }, context: { region: 'eu', rows: 3, done: true, outputs: { a: { rows: 3 }, b: { done: true } } }, error: null },
];
/** Rows as a Rewind before 0150 wrote them: a workflow, its version, a finished run, two full checkpoints, an idempotency key. */
const OLD_ROWS: Array<[string, Array<string | number | null>]> = [
  ["INSERT INTO workflows (id, name, description, source_type, status, schedule, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', '', 'MANUAL', 'active', NULL, 1, 1, ?, ?)", [TS, TS]],
  ["INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, change_log, status, created_by, published_at, created_at) VALUES ('v1', 'w1', 1, ?, '', 'active', 'op', ?, ?)", [JSON.stringify(dsl), TS, TS]],
  ["INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, started_at, finished_at, created_by, created_at) VALUES ('r1', 'w1', 1, 'succeeded', 'start', '{}', 1, '{}', ?, ?, 'op', ?)", [TS, TS, TS]],
  ["INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES ('r1', 1, 'a', 'succeeded', ?, ?)", [JSON.stringify(states[0]), TS]],
  ["INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES ('r1', 2, 'b', 'succeeded', ?, ?)", [JSON.stringify(states[1]), TS]],
  ["INSERT INTO idempotency_keys (key, method, request_hash, response, created_at) VALUES ('k1', 'runs:start', 'h', '{}', ?)", [TS]],
];

const engines: Engine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

async function checkUpgraded(store: Store): Promise<void> {
  expect(store.schemaVersion).toBe(latestSchemaVersion);
  const engine = await Engine.open({ store });
  engines.push(engine);
  expect(await store.read.all("SELECT seq, format FROM checkpoints WHERE run_id = 'r1' ORDER BY seq")).toEqual([
    { seq: 1, format: 'full' },
    { seq: 2, format: 'full' },
  ]);
  expect((await engine.runs.checkpoints('r1')).map((c) => c.state)).toEqual(states);
  expect((await engine.runs.checkpoint('r1', 2)).state).toEqual(states[1]);
  expect(await engine.runs.get('r1')).toMatchObject({ pruned_at: null, pruned_after: null });
  expect(await store.read.get('SELECT holder, pass_before, pass_runs FROM retention_lease WHERE id = 1')).toEqual({ holder: null, pass_before: null, pass_runs: 0 });
  // New runs store deltas; an old run resumed copies its full states as its own rows.
  const run = await engine.runs.wait((await engine.runs.start({ workflow_id: 'w1', params: {}, faults: {}, wait: false }, 'op')).run_id);
  expect(await store.read.all('SELECT DISTINCT format FROM checkpoints WHERE run_id = ?', [run.run_id])).toEqual([{ format: 'delta' }]);
  expect((await engine.runs.checkpoints(run.run_id)).map((c) => c.state)).toEqual(states);
}

describe('migration 0150 (delta checkpoints, retention)', () => {
  it('on SQLite: keeps the rows written before readable as they were, and a fresh file gives space back', async () => {
    const dir = tempDir('rewind-0150-');
    const path = `${dir}/old.db`;
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrateSqlite(db, sqliteMigrations.filter((m) => m.version < 150));
    for (const [sql, params] of OLD_ROWS) db.prepare(sql).run(...params);
    db.close();
    await checkUpgraded(openSqliteStore(path));
    // A file made before keeps its vacuum mode (changing it takes a VACUUM: `rewind prune --vacuum`); a new one is incremental.
    expect((engines[0]!.store as ReturnType<typeof openSqliteStore>).db.pragma('auto_vacuum', { simple: true })).toBe(0);
    const fresh = openSqliteStore(`${dir}/fresh.db`);
    expect(fresh.db.pragma('auto_vacuum', { simple: true })).toBe(2);
    await fresh.close();
  });

  it('on PostgreSQL: the same', async () => {
    const url = await freshDatabase('migrate-0150');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await migratePostgres(client, postgresMigrations.filter((m) => m.version < 150));
      for (const [sql, params] of OLD_ROWS) {
        let i = 0;
        await client.query(sql.replace(/\?/g, () => `$${++i}`), params);
      }
    } finally {
      await client.end();
    }
    await checkUpgraded(await openPostgresStore({ url }));
  });
});
