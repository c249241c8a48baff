import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Engine } from '../../main/engine/engine.js';
import { SqliteStore } from '../../main/engine/store/sqlite/sqlite-store.js';
import type { Dsl } from '../../preload/contract/entities.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';
import { rawRollbackCommit } from './raw-rollback.js';

/*
 * The engine's write and read paths against raw better-sqlite3 doing the same statements with the
 * same pragmas (WAL, synchronous=FULL): what the engine's rules, executor and event log cost.
 */

const atLeastHalf = { text: 'engine ≥ 0.5× raw', met: (r: number) => r >= 0.5 };
const atMostTwice = { text: 'engine p99 ≤ 2× raw p99', met: (r: number) => r <= 2 };

function rawDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE checkpoints (run_id TEXT NOT NULL, seq INTEGER NOT NULL, node_id TEXT NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
`);
  return db;
}

const chain = (nodes: number, stateBytes: number): Dsl => ({
  defaults: {},
  nodes: Array.from({ length: nodes }, (_, i) => ({
    id: `n${i}`,
    type: 'task' as const,
    params: { duration_ms: 0, output: { blob: `${i}`.padEnd(stateBytes, 'x') } },
    next: i + 1 < nodes ? [`n${i + 1}`] : [],
  })),
});

/** The connection under the engine, for set-up the engine has no API for (a bulk load). */
function sqliteDb(engine: Engine): Database.Database {
  if (!(engine.store instanceof SqliteStore)) throw new Error('The lookup bench loads a SQLite file.');
  return engine.store.db;
}

async function checkpointThroughput(dir: string, stateBytes: number): Promise<BenchResult> {
  // Checkpoint i of a run holds the outputs of nodes 0..i (the run context), so across 20 nodes the
  // state averages about 12.5 blobs: a blob of stateBytes / 12.5 gives states of about stateBytes.
  const runs = 16;
  const nodes = 20;
  const engine = await Engine.open({ path: join(dir, `cp-${stateBytes}.db`), timeScale: 0 });
  const wf = await engine.workflows.create({ name: `bench-${stateBytes}`, description: '', dsl: chain(nodes, Math.floor(stateBytes / 12.5)), source_type: 'MANUAL' }, 'bench');
  const t0 = nowMs();
  const started = await Promise.all(Array.from({ length: runs }, () => engine.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'bench')));
  await Promise.all(started.map((r) => engine.runs.wait(r.run_id)));
  const engineRate = (runs * nodes) / ((nowMs() - t0) / 1000);
  const states = (await Promise.all(started.map((r) => engine.runs.checkpoints(r.run_id)))).flat().map((c) => JSON.stringify(c.state));
  await engine.close();

  const raw = rawDb(join(dir, `raw-${stateBytes}.db`));
  const insert = raw.prepare('INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)');
  const t1 = nowMs();
  states.forEach((state, i) => insert.run(`run-${Math.floor(i / nodes)}`, (i % nodes) + 1, `n${i % nodes}`, 'succeeded', state, new Date().toISOString()));
  const rawRate = states.length / ((nowMs() - t1) / 1000);
  raw.close();
  const kb = (states.reduce((n, s) => n + s.length, 0) / states.length / 1024).toFixed(1);
  return result(`checkpoint writes/s (~${kb} KB state)`, engineRate, 'writes/s', rawRate, atLeastHalf);
}

async function rollbackLatency(dir: string): Promise<BenchResult[]> {
  const rounds = 300;
  const engine = await Engine.open({ path: join(dir, 'rollback.db') });
  const wf = await engine.workflows.create({ name: 'bench-rollback', description: '', dsl: chain(3, 64), source_type: 'MANUAL' }, 'bench');
  await engine.versions.createDraft({ workflow_id: wf.id, change_log: 'v2' }, 'bench');
  await engine.versions.publish({ workflow_id: wf.id, version: 2 }, 'bench');
  const engineSamples: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const target = i % 2 === 0 ? 1 : 2;
    const t = nowMs();
    await engine.versions.rollback({ workflow_id: wf.id, version: target }, 'bench');
    engineSamples.push(nowMs() - t);
  }
  await engine.close();

  // The same statements a rollback commits, as one raw durable transaction.
  const raw = rawRollbackCommit(join(dir, 'rollback-raw.db'));
  const rawSamples: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const t = nowMs();
    raw.commit(i);
    rawSamples.push(nowMs() - t);
  }
  raw.close();
  return [
    result('rollback latency p50', percentile(engineSamples, 50), 'ms', percentile(rawSamples, 50)),
    result('rollback latency p99', percentile(engineSamples, 99), 'ms', percentile(rawSamples, 99), atMostTwice),
  ];
}

async function latestCheckpointLookup(dir: string): Promise<BenchResult[]> {
  const total = 1_000_000;
  const perRun = 20;
  const runs = total / perRun;
  const engine = await Engine.open({ path: join(dir, 'lookup.db') });
  const db = sqliteDb(engine);
  const wf = await engine.workflows.create({ name: 'bench-lookup', description: '', dsl: chain(perRun, 16), source_type: 'MANUAL' }, 'bench');
  // Bulk load: one transaction, no fsync per row (this is set-up, not what is measured).
  db.pragma('synchronous = OFF');
  const insertRun = db.prepare(
    "INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, created_by, created_at) VALUES (?, ?, 1, 'succeeded', 'start', '{}', 1, '{}', 'bench', ?)",
  );
  const insertCp = db.prepare("INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES (?, ?, ?, 'succeeded', ?, ?)");
  db.transaction(() => {
    const ts = new Date().toISOString();
    const state = JSON.stringify({ output: { ok: true }, context: { n: 1 } });
    for (let r = 0; r < runs; r += 1) {
      const id = `run-${r}`;
      insertRun.run(id, wf.id, ts);
      for (let s = 1; s <= perRun; s += 1) insertCp.run(id, s, `n${s - 1}`, state, ts);
    }
  })();
  db.pragma('synchronous = FULL');
  const raw = db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1');
  const lookups = 20_000;
  const engineSamples: number[] = [];
  const rawSamples: number[] = [];
  for (let i = 0; i < lookups; i += 1) {
    const id = `run-${(i * 7919) % runs}`;
    let t = nowMs();
    await engine.runs.latestCheckpoint(id);
    engineSamples.push(nowMs() - t);
    t = nowMs();
    raw.get(id);
    rawSamples.push(nowMs() - t);
  }
  await engine.close();
  return [
    result('latest checkpoint of 1M, p50', percentile(engineSamples, 50) * 1000, 'µs', percentile(rawSamples, 50) * 1000),
    result('latest checkpoint of 1M, p99', percentile(engineSamples, 99) * 1000, 'µs', percentile(rawSamples, 99) * 1000),
  ];
}

export const engineSuite: BenchSuite = {
  name: 'engine',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-'));
    try {
      return [
        await checkpointThroughput(dir, 1024),
        await checkpointThroughput(dir, 16 * 1024),
        ...(await rollbackLatency(dir)),
        ...(await latestCheckpointLookup(dir)),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
