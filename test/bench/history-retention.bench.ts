import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { EngineBackend } from '../../main/backends/engine-backend.js';
import { Engine } from '../../main/engine/engine.js';
import type { CheckpointFormat } from '../../main/engine/checkpoint-state.js';
import type { RetentionPolicy } from '../../main/engine/retention.js';
import { openPostgresStore } from '../../main/engine/store/postgres/index.js';
import type { Store } from '../../main/engine/store/port.js';
import { SqliteStore, openSqliteStore } from '../../main/engine/store/sqlite/sqlite-store.js';
import { createServer } from '../../main/server/server.js';
import { TokenStore } from '../../main/server/tokens.js';
import { historyPostgres } from './history/cache.js';
import { type HistoryManifest, buildHistory } from './history/generate.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * A year of a team's server, three ways (issue 19, items 5 and 6): the history generator's workload
 * over 365 simulated days, built as today (every checkpoint a full copy, nothing pruned), with the
 * new checkpoint format and nothing pruned, and with the new format and `--retain-runs 90d` — a
 * retention pass at every simulated midnight, as the server's background pass would run (PostgreSQL:
 * a plain VACUUM after each, as autovacuum would over a real day). Goal: the year with retention ends
 * at ≤ 30 % of the database of the year as today. Also: the checkpoint bytes of a run and of a
 * checkpoint, the new format against full copies, and the longest pruning transaction against a
 * one-row durable commit.
 *
 * Then the first pass on a server that kept a whole year (new format, nothing pruned yet: the largest
 * pass there is — the generator's year ends its runs about 90 days before ENDS_AT, so this pass
 * prunes every run of the year), through a real HTTP server while two clients keep calling it — one reading (`GET
 * /health`, the runs list), one starting runs — against the same clients for as long before the pass:
 * their p99 and the event loop's delay (monitorEventLoopDelay) during the pass against without it, and
 * the database's size after the pass and its reclaimSpace (PostgreSQL: a VACUUM) against before.
 *
 * The rate is lowered from the workload's 200 runs an hour (REWIND_BENCH_YEAR_RPH, default 6) so a
 * year builds in minutes; the ratios do not depend on the rate (every day holds the same mix). Stores:
 * REWIND_BENCH_YEAR_STORES (default sqlite,postgres).
 */

const DAY = 86_400_000;
const RUNS_PER_HOUR = Number(process.env.REWIND_BENCH_YEAR_RPH ?? 6);
const STORES = (process.env.REWIND_BENCH_YEAR_STORES ?? 'sqlite,postgres').split(',');
const ENDS_AT = new Date('2026-12-01T00:00:00.000Z');
const NINETY_DAYS: RetentionPolicy = { retainMs: 90 * DAY, label: '90 days', keepFailedCheckpoints: false };
const atMost30 = { text: 'retention ≤ 0.30× today', met: (r: number) => r <= 0.3 };

interface Year {
  bytes: number;
  checkpointBytes: number;
  checkpointRows: number;
  manifest: HistoryManifest;
  /** Each pass's longest transaction. */
  passLongestMs: number[];
}

interface Target {
  store: () => Promise<Store>;
  /** Database size once written out: the SQLite file (WAL checkpointed), or pg_database_size. */
  size: () => Promise<number>;
  /** What a day of autovacuum would do after a pass (PostgreSQL); nothing on SQLite (the pass vacuums incrementally). */
  afterPass: () => Promise<void>;
  /** Around a pass: the build writes without waiting for the disk (it is set-up), a pass as a server does (durable commits). */
  durable: (engine: Engine, on: boolean) => void;
  dispose: () => Promise<void>;
}

async function simulateYear(target: Target, format: CheckpointFormat, retention: boolean, log: (line: string) => void): Promise<Year> {
  const passLongestMs: number[] = [];
  const onDay = async (at: Date, engine: Engine) => {
    target.durable(engine, true);
    const report = await engine.atTime(at, () => engine.prune(NINETY_DAYS, at));
    target.durable(engine, false);
    if (!report) throw new Error('the retention lease was held by someone else');
    passLongestMs.push(report.longest_transaction_ms);
    await target.afterPass();
  };
  const started = nowMs();
  const building = await target.store();
  // Building a year is set-up: no fsync per bulk transaction (a pass turns it back on, see `durable`).
  if (building instanceof SqliteStore) building.db.pragma('synchronous = OFF');
  const manifest = await buildHistory(building, {
    events: Math.round(2 * RUNS_PER_HOUR * 24 * 365),
    endsAt: ENDS_AT,
    workload: { runsPerHour: RUNS_PER_HOUR },
    checkpoints: format,
    ...(retention ? { onDay } : {}),
  });
  const store = await target.store();
  let sums: { bytes: number | null; n: number };
  try {
    sums = (await store.read.get<{ bytes: number | null; n: number }>('SELECT SUM(LENGTH(state)) AS bytes, COUNT(*) AS n FROM checkpoints'))!;
  } finally {
    await store.close();
  }
  const bytes = await target.size();
  log(`  ${format}${retention ? ' + retention' : ''}: ${manifest.runs} runs, ${manifest.events} events, ${(bytes / 1024 / 1024).toFixed(1)} MB (${((nowMs() - started) / 1000).toFixed(0)} s)`);
  return { bytes, checkpointBytes: Number(sums.bytes ?? 0), checkpointRows: Number(sums.n), manifest, passLongestMs };
}

function sqliteTarget(dir: string, name: string): Target {
  const path = join(dir, `${name}.db`);
  return {
    store: async () => openSqliteStore(path),
    size: async () => {
      const store = openSqliteStore(path);
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      await store.close();
      return statSync(path).size;
    },
    afterPass: async () => undefined,
    durable: (engine, on) => {
      if (engine.store instanceof SqliteStore) engine.store.db.pragma(`synchronous = ${on ? 'FULL' : 'OFF'}`);
    },
    dispose: async () => undefined,
  };
}

async function postgresTargets(): Promise<{ target: (name: string) => Promise<Target>; stop: () => Promise<void> }> {
  const server = await historyPostgres();
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> => {
    const c = new pg.Client({ connectionString: server.url(database) });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    target: async (name) => {
      const database = `year_${name}_${process.pid}`;
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${database}`);
        await c.query(`CREATE DATABASE ${database}`);
      });
      const url = server.url(database);
      return {
        store: () => openPostgresStore({ url }),
        size: async () => {
          await admin((c) => c.query('VACUUM'), database);
          return admin(async (c) => Number((await c.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n), database);
        },
        afterPass: () => admin(async (c) => void (await c.query('VACUUM checkpoints, runs')), database),
        // Every commit durable: PostgreSQL's build and passes both wait for the disk.
        durable: () => undefined,
        dispose: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))),
      };
    },
    stop: () => server.stop(),
  };
}

/** One-row durable commits on the same store, as many as the passes: the floor pruning batches are compared with (the disk's stalls hit both). */
async function oneRowCommitsMs(open: () => Promise<Store>, n: number): Promise<number[]> {
  const store = await open();
  try {
    const samples: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const t = nowMs();
      await store.transaction((tx) => tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', ['bench_commit', String(i)]));
      samples.push(nowMs() - t);
    }
    return samples;
  } finally {
    await store.close();
  }
}

const LOAD_BASELINE_MS = 5_000;

interface Load {
  readMs: number[];
  writeMs: number[];
  loopP99Ms: number;
  loopMaxMs: number;
}

/** Two clients calling the server until `until` settles: one reads, one starts runs. */
async function underLoad(url: string, token: string, workflowId: string, until: Promise<unknown>): Promise<Load> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let done = false;
  const finished = until.finally(() => (done = true));
  const readMs: number[] = [];
  const writeMs: number[] = [];
  const client = async (samples: number[], call: (i: number) => Promise<Response>) => {
    for (let i = 0; !done; i += 1) {
      const t = nowMs();
      const res = await call(i);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status} under load`);
      samples.push(nowMs() - t);
    }
  };
  await Promise.all([
    finished,
    client(readMs, (i) => fetch(i % 2 === 0 ? `${url}/health` : `${url}/api/v1/runs?limit=50`, { headers })),
    client(writeMs, () => fetch(`${url}/api/v1/workflows/${workflowId}/runs`, { method: 'POST', headers, body: JSON.stringify({ params: {} }) })),
  ]);
  loop.disable();
  return { readMs, writeMs, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 };
}

/** The first pass on a year kept whole, under load, against the same load without it; and the size it gives back. */
async function firstPass(kind: string, target: Target, manifest: HistoryManifest, log: (line: string) => void): Promise<BenchResult[]> {
  const sizeBefore = await target.size();
  const engine = await Engine.open({ store: await target.store(), timeScale: 0 });
  let report: Awaited<ReturnType<Engine['prune']>> = null;
  let passMs = 0;
  let quiet: Load;
  let during: Load;
  try {
    const backend = new EngineBackend(engine, 'bench');
    const tokens = new TokenStore(engine);
    const { token } = await tokens.issue({ name: 'bench', role: 'admin', createdBy: 'bench' });
    const server = await createServer({ backend, tokens, latestSeq: () => engine.latestSeq(), schemaVersion: engine.schemaVersion, port: 0, log: () => undefined });
    try {
      quiet = await underLoad(server.url, token, manifest.busy_workflow_id, new Promise((r) => setTimeout(r, LOAD_BASELINE_MS)));
      const pass = (async () => {
        const t = nowMs();
        report = await engine.prune(NINETY_DAYS, ENDS_AT);
        passMs = nowMs() - t;
      })();
      during = await underLoad(server.url, token, manifest.busy_workflow_id, pass);
    } finally {
      await server.close();
    }
  } finally {
    await engine.close();
  }
  if (!report) throw new Error('the retention lease was held by someone else');
  const r: NonNullable<Awaited<ReturnType<Engine['prune']>>> = report;
  const sizeAfter = await target.size();
  const mb = (n: number) => n / 1024 / 1024;
  log(
    `  first pass (${kind}): ${r.runs} runs, ${r.checkpoints} checkpoints in ${r.batches} batches, ${(passMs / 1000).toFixed(1)} s; reclaimed ${r.reclaimed.mode} ${r.reclaimed.pages} pages; ` +
      `requests during it ${during.readMs.length} reads, ${during.writeMs.length} starts; event loop p99 ${during.loopP99Ms.toFixed(1)} ms (max ${during.loopMaxMs.toFixed(1)}) vs ${quiet.loopP99Ms.toFixed(1)} (max ${quiet.loopMaxMs.toFixed(1)})`,
  );
  return [
    result(`${kind}: first pass on a kept year (${r.runs} runs): database size after the pass and reclaimSpace vs before`, mb(sizeAfter), 'MB', mb(sizeBefore)),
    result(`${kind}: first pass: time per pruned run vs a one-row request's p50 without the pass`, passMs / Math.max(1, r.runs), 'ms', percentile(quiet.readMs, 50)),
    result(`${kind}: first pass: longest batch transaction vs a start-run request's p50 without the pass`, r.longest_transaction_ms, 'ms', percentile(quiet.writeMs, 50)),
    result(`${kind}: reads (GET /health, runs list) p99 during the pass vs without`, percentile(during.readMs, 99), 'ms', percentile(quiet.readMs, 99)),
    result(`${kind}: run starts (POST …/runs) p99 during the pass vs without`, percentile(during.writeMs, 99), 'ms', percentile(quiet.writeMs, 99)),
    result(`${kind}: event-loop delay p99 during the pass vs without`, during.loopP99Ms, 'ms', quiet.loopP99Ms, { text: 'p99 ≤ 50 ms', met: () => during.loopP99Ms <= 50 }),
  ];
}

async function yearOn(kind: string, targets: (name: string) => Promise<Target>, log: (line: string) => void): Promise<BenchResult[]> {
  log(`history-retention (${kind}): a year at ${RUNS_PER_HOUR} runs/hour…`);
  const made: Target[] = [];
  const target = async (name: string) => {
    const t = await targets(name);
    made.push(t);
    return t;
  };
  try {
    const today = await simulateYear(await target('today'), 'full', false, log);
    const deltaTarget = await target('delta');
    const delta = await simulateYear(deltaTarget, 'delta', false, log);
    const retainedTarget = await target('retained');
    const retained = await simulateYear(retainedTarget, 'delta', true, log);
    const commitsMs = await oneRowCommitsMs(retainedTarget.store, retained.passLongestMs.length);
    const perRun = (y: Year) => y.checkpointBytes / y.manifest.runs;
    const perCheckpoint = (y: Year) => y.checkpointBytes / y.checkpointRows;
    const mb = (y: Year) => y.bytes / 1024 / 1024;
    return [
      result(`${kind}: a year, --retain-runs 90d + delta checkpoints vs today (full copies, keep all): database size`, mb(retained), 'MB', mb(today), atMost30),
      result(`${kind}: a year, --retain-runs 90d vs delta checkpoints keep all: database size`, mb(retained), 'MB', mb(delta)),
      result(`${kind}: a year, delta checkpoints keep all vs today: database size`, mb(delta), 'MB', mb(today)),
      result(`${kind}: checkpoint bytes per run, delta vs full copies`, perRun(delta), 'B', perRun(today)),
      result(`${kind}: bytes per checkpoint row, delta vs full copies`, perCheckpoint(delta), 'B', perCheckpoint(today)),
      result(`${kind}: longest pruning transaction of ${retained.passLongestMs.length} daily passes vs the longest of as many one-row commits`, Math.max(...retained.passLongestMs), 'ms', Math.max(...commitsMs)),
      result(`${kind}: a daily pass's longest transaction, p50 vs a one-row commit p50`, percentile(retained.passLongestMs, 50), 'ms', percentile(commitsMs, 50)),
      // Last: it prunes the kept year in place.
      ...(await firstPass(kind, deltaTarget, delta.manifest, log)),
    ];
  } finally {
    for (const t of made) await t.dispose();
  }
}

export const historyRetentionSuite: BenchSuite = {
  name: 'history-retention',
  async run() {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const results: BenchResult[] = [];
    if (STORES.includes('sqlite')) {
      const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-year-'));
      try {
        results.push(...(await yearOn('sqlite', async (name) => sqliteTarget(dir, name), log)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (STORES.includes('postgres')) {
      const pgTargets = await postgresTargets();
      try {
        results.push(...(await yearOn('postgres', pgTargets.target, log)));
      } finally {
        await pgTargets.stop();
      }
    }
    return results;
  },
};
