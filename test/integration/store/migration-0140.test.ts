import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../../main/engine/event-log.js';
import { migrate as migratePostgres, migrations as postgresMigrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { numberTypes } from '../../../main/engine/store/postgres/types.js';
import { latestSchemaVersion, migrate as migrateSqlite, migrations as sqliteMigrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { freshDatabase } from '../../support/postgres.js';
import { tempDbPath } from '../../unit/engine/fixtures.js';

/*
 * Migration 0140 on both stores: from a database at the version before it (with runs of every kind
 * and status, verdicts and durations), the counters are filled from the runs already there; from
 * then on the triggers keep them as runs are inserted and end; the verified head starts at genesis
 * (the first start verifies the whole chain once); the new indexes exist.
 */

type Sql = (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>;

interface Db {
  sql: Sql;
  close(): Promise<void>;
  /** Applies the migrations up to `version` (all of them when absent). */
  migrate(version?: number): Promise<{ from: number; to: number }>;
  indexes(): Promise<string[]>;
}

async function sqliteDb(): Promise<Db> {
  const db = new Database(tempDbPath('m0140.db'));
  db.pragma('foreign_keys = ON');
  return {
    sql: async (sql, params = []) => {
      const stmt = db.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as Array<Record<string, unknown>>;
      stmt.run(...params);
      return [];
    },
    close: async () => void db.close(),
    migrate: async (version) => migrateSqlite(db, version === undefined ? sqliteMigrations : sqliteMigrations.filter((m) => m.version <= version)),
    indexes: async () => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((r) => r.name),
  };
}

async function postgresDb(): Promise<Db> {
  const client = new pg.Client({ connectionString: await freshDatabase('m0140'), types: numberTypes });
  await client.connect();
  const numbered = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${(i += 1)}`);
  };
  return {
    sql: async (sql, params = []) => (await client.query<Record<string, unknown>>(numbered(sql), params)).rows,
    close: () => client.end(),
    migrate: (version) => migratePostgres(client, version === undefined ? postgresMigrations : postgresMigrations.filter((m) => m.version <= version)),
    indexes: async () => (await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).rows.map((r) => r.indexname),
  };
}

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** Mirrors the migration's bucket: exact below 100 ms, then 1 % wide. */
const bucketOf = (d: number) => (d < 100 ? d : 100 + Math.floor(Math.log(d / 100) / Math.log(1.01)));

interface RunSpec {
  id: string;
  wf: string;
  version: number;
  status: string;
  kind: string;
  durationMs: number | null;
  verdicts: Record<string, string> | null;
  /** For a resume: the run it resumes. */
  parent?: string;
}

/** Judged runs' figures as health counts them: ended (not cancelled), not replays. */
function expected(runs: RunSpec[]) {
  const judged = runs.filter((r) => ['succeeded', 'failed', 'interrupted'].includes(r.status) && r.kind !== 'replay');
  const stats = new Map<string, { runs: number; succeeded: number; failed: number }>();
  const durations = new Map<string, { runs: number; max_ms: number }>();
  const verdicts = new Map<string, number>();
  for (const r of judged) {
    const s = stats.get(`${r.wf}/${r.version}`) ?? { runs: 0, succeeded: 0, failed: 0 };
    s.runs += 1;
    if (r.status === 'succeeded') s.succeeded += 1;
    else s.failed += 1;
    stats.set(`${r.wf}/${r.version}`, s);
    if (r.durationMs !== null) {
      const key = `${r.wf}/${r.version}/${bucketOf(r.durationMs)}`;
      const d = durations.get(key) ?? { runs: 0, max_ms: 0 };
      d.runs += 1;
      d.max_ms = Math.max(d.max_ms, r.durationMs);
      durations.set(key, d);
    }
    for (const [k, v] of Object.entries(r.verdicts ?? {})) verdicts.set(`${r.wf}/${r.version}/${k}/${v}`, (verdicts.get(`${r.wf}/${r.version}/${k}/${v}`) ?? 0) + 1);
  }
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(`${r.wf}/${r.status}`, (counts.get(`${r.wf}/${r.status}`) ?? 0) + 1);
  const resumed = new Set(runs.filter((r) => r.kind === 'resume' && r.parent).map((r) => r.parent));
  return {
    open: runs.filter((r) => ['failed', 'interrupted'].includes(r.status) && r.kind !== 'replay' && !resumed.has(r.id)).map((r) => r.id).sort(),
    counts: [...counts].map(([k, n]) => `${k}=${n}`).sort(),
    stats: [...stats].map(([k, s]) => `${k}=${s.runs}/${s.succeeded}/${s.failed}`).sort(),
    durations: [...durations].map(([k, d]) => `${k}=${d.runs}/${d.max_ms}`).sort(),
    verdicts: [...verdicts].map(([k, n]) => `${k}=${n}`).sort(),
  };
}

async function actual(sql: Sql) {
  const rows = async (q: string, f: (r: Record<string, unknown>) => string) => (await sql(q)).map(f).sort();
  return {
    open: await rows('SELECT run_id FROM open_failures', (r) => String(r.run_id)),
    counts: await rows('SELECT * FROM run_counts WHERE n > 0', (r) => `${String(r.workflow_id)}/${String(r.status)}=${Number(r.n)}`),
    stats: await rows('SELECT * FROM run_version_stats', (r) => `${String(r.workflow_id)}/${Number(r.version)}=${Number(r.runs)}/${Number(r.succeeded)}/${Number(r.failed)}`),
    durations: await rows('SELECT * FROM run_durations', (r) => `${String(r.workflow_id)}/${Number(r.version)}/${Number(r.bucket)}=${Number(r.runs)}/${Number(r.max_ms)}`),
    verdicts: await rows('SELECT * FROM run_verdicts', (r) => `${String(r.workflow_id)}/${Number(r.version)}/${String(r.key)}/${String(r.value)}=${Number(r.runs)}`),
  };
}

const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'failed', 'interrupted', 'cancelled', 'running', 'waiting', 'queued'];
const KINDS = ['start', 'start', 'resume', 'replay'];
const DURATIONS = [0, 7, 99, 100, 101, 1234, 1240, 5000, 61_000, 3_600_000, null];

function runSpecs(n: number, offset = 0): RunSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + offset;
    const status = STATUSES[k % STATUSES.length]!;
    const ended = !['running', 'waiting', 'queued'].includes(status);
    const kind = KINDS[k % KINDS.length]!;
    return {
      id: `r${k}`,
      wf: k % 3 === 0 ? 'w2' : 'w1',
      version: 1 + (k % 2),
      status,
      kind,
      durationMs: ended ? DURATIONS[k % DURATIONS.length]! : null,
      verdicts: k % 4 === 0 ? { verdict: k % 8 === 0 ? 'warning' : 'pass', count_check: 'ok' } : null,
      // Every resume follows an earlier run (the ones before it: failed ones among them close as resumed).
      ...(kind === 'resume' && k >= 5 ? { parent: `r${k - 5}` } : {}),
    };
  });
}

async function insertRun(sql: Sql, r: RunSpec, at: number): Promise<void> {
  const finished = r.durationMs === null ? null : iso(at + r.durationMs);
  await sql(
    `INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, started_at, finished_at, created_by, created_at, verdicts, trigger)
     VALUES (?, ?, ?, ?, ?, '{}', 1, '{}', ?, ?, ?, 'ana', ?, ?, 'manual')`,
    [r.id, r.wf, r.version, r.status, r.kind, r.parent ?? null, iso(at), finished, iso(at), r.verdicts === null ? null : JSON.stringify(r.verdicts)],
  );
}

async function seedWorkflows(sql: Sql): Promise<void> {
  for (const wf of ['w1', 'w2']) {
    await sql("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES (?, ?, 'MANUAL', 'active', 1, 1, ?, ?)", [wf, wf, iso(0), iso(0)]);
    for (const v of [1, 2]) {
      await sql("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES (?, ?, ?, '{}', 'draft', 'ana', ?)", [`${wf}v${v}`, wf, v, iso(0)]);
    }
  }
}

describe.each([
  { kind: 'sqlite', open: sqliteDb },
  { kind: 'postgres', open: postgresDb },
])('migration 0140 on $kind', ({ open }) => {
  it('fills the counters from the runs already there, keeps them with triggers, starts the verified head at genesis, adds the indexes', async () => {
    const db = await open();
    try {
      await db.migrate(110);
      await seedWorkflows(db.sql);
      const before = runSpecs(60);
      for (const [i, r] of before.entries()) await insertRun(db.sql, r, i * 1000);
      expect(await db.migrate()).toMatchObject({ from: 110, to: latestSchemaVersion });

      expect(await actual(db.sql)).toEqual(expected(before));
      expect(await db.sql('SELECT seq, hash, broken_seq FROM chain_verified')).toEqual([{ seq: 0, hash: GENESIS_HASH, broken_seq: null }]);
      expect(await db.indexes()).toEqual(
        expect.arrayContaining(['runs_by_time', 'runs_by_workflow', 'runs_by_status', 'runs_by_workflow_status', 'runs_by_parent', 'runs_by_version', 'events_by_run', 'events_by_type_ts', 'events_by_workflow']),
      );

      // After: new runs inserted (some already ended, as a snapshot writes them), unfinished ones ending, one deleted.
      const after = runSpecs(40, 60);
      for (const [i, r] of after.entries()) await insertRun(db.sql, r, 100_000 + i * 1000);
      const all = [...before, ...after];
      for (const r of all.filter((x) => ['running', 'waiting', 'queued'].includes(x.status)).slice(0, 9)) {
        const status = Number(r.id.slice(1)) % 2 === 0 ? 'succeeded' : 'failed';
        await db.sql('UPDATE runs SET status = ?, finished_at = ?, verdicts = ? WHERE run_id = ?', [status, iso(Number(r.id.slice(1)) * 1000 + 2500), JSON.stringify({ verdict: 'pass' }), r.id]);
        r.status = status;
        r.durationMs = 2500;
        r.verdicts = { verdict: 'pass' };
      }
      // An ended run whose row is written again (a retention pass clearing outputs) is not counted twice.
      await db.sql("UPDATE runs SET verdicts = NULL, status = status WHERE run_id = 'r0'");
      // A run deleted (no product path does; a hand-edited database might) leaves the counts and the open failures.
      await db.sql("DELETE FROM runs WHERE run_id = 'r12'");
      const kept = all.filter((r) => r.id !== 'r12');
      expect(await actual(db.sql)).toEqual({ ...expected(kept), stats: expected(all).stats, durations: expected(all).durations, verdicts: expected(all).verdicts });
      expect((await actual(db.sql)).open.length).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });

  it('creates the same on a fresh database', async () => {
    const db = await open();
    try {
      expect(await db.migrate()).toMatchObject({ from: 0, to: latestSchemaVersion });
      expect(await db.sql('SELECT seq, hash FROM chain_verified')).toEqual([{ seq: 0, hash: GENESIS_HASH }]);
      expect(await db.sql('SELECT * FROM run_counts')).toEqual([]);
      await seedWorkflows(db.sql);
      await insertRun(db.sql, { id: 'x', wf: 'w1', version: 1, status: 'running', kind: 'start', durationMs: null, verdicts: null }, 0);
      await db.sql("UPDATE runs SET status = 'succeeded', finished_at = ? WHERE run_id = 'x'", [iso(40)]);
      expect(await actual(db.sql)).toEqual({ open: [], counts: ['w1/succeeded=1'], stats: ['w1/1=1/1/0'], durations: ['w1/1/40=1/40'], verdicts: [] });
    } finally {
      await db.close();
    }
  });
});
