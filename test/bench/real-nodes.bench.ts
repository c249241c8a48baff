import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSandbox } from '../../main/backends/engine-backend.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';
import { measureMasking } from './masking.js';

/*
 * What a real node costs over the bare operation it performs: an http node (templating, the
 * Idempotency-Key, the size-capped read, secret masking, then its durable checkpoint) against a bare fetch
 * of the same local service; a command node against a bare spawn of the same program. Both nodes run
 * inside real runs of a live sandbox engine; per-node time is a run's time over its node count.
 */

const NODES = 20;
const RUNS = 15;

async function bareFetch(url: string, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = nowMs();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"batch":1}' });
    JSON.parse(await res.text());
    samples.push(nowMs() - t);
  }
  return samples;
}

/** A fetch followed by a raw durable insert of a checkpoint-sized row (WAL, synchronous=FULL): the node's work, done bare. */
async function bareFetchAndCommit(url: string, path: string, n: number): Promise<number[]> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE checkpoints (run_id TEXT, seq INTEGER, node_id TEXT, status TEXT, state TEXT, created_at TEXT, PRIMARY KEY (run_id, seq))');
  const insert = db.prepare('INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)');
  const samples: number[] = [];
  try {
    for (let i = 0; i < n; i += 1) {
      const t = nowMs();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"batch":1}' });
      const answer = JSON.parse(await res.text()) as unknown;
      insert.run('run', i, `n${i % NODES}`, 'succeeded', JSON.stringify({ output: answer, context: { batch: 1, response: answer } }), new Date().toISOString());
      samples.push(nowMs() - t);
    }
  } finally {
    db.close();
  }
  return samples;
}

async function bareSpawn(n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = nowMs();
    await new Promise<void>((resolve) => spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'] }).once('close', () => resolve()));
    samples.push(nowMs() - t);
  }
  return samples;
}

export const realNodesSuite: BenchSuite = {
  name: 'real-nodes',
  async run(): Promise<BenchResult[]> {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"defect_rate":0.02,"rows":1000}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inspect`;
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-real-'));
    const sandbox = await openSandbox({ path: join(dir, 'bench.db'), actor: 'bench', liveExecution: true });
    try {
      const chain = (make: (i: number) => Record<string, unknown>) => ({
        nodes: Array.from({ length: NODES }, (_, i) => ({ id: `n${i}`, ...make(i), next: i + 1 < NODES ? [`n${i + 1}`] : [] })),
      });
      const perNode = async (dsl: unknown): Promise<number[]> => {
        const wf = await sandbox.call('workflows:create', { name: `bench-${Math.random()}`, dsl: dsl as never });
        const samples: number[] = [];
        for (let r = 0; r < RUNS; r += 1) {
          const t = nowMs();
          const run = await sandbox.call('runs:start', { workflow_id: wf.id, wait: true });
          if (run.status !== 'succeeded') throw new Error(`bench run ${run.status}: ${run.error}`);
          samples.push((nowMs() - t) / NODES);
        }
        return samples;
      };
      await bareFetch(url, 20);
      const fetchP50 = percentile(await bareFetch(url, NODES * RUNS), 50);
      const httpDsl = { defaults: { batch: 1 }, ...chain(() => ({ type: 'http', params: { method: 'POST', url, body: { batch: '{{ctx.batch}}' } } })) };
      const httpP50 = percentile(await perNode(httpDsl), 50);
      const floorP50 = percentile(await bareFetchAndCommit(url, join(dir, 'raw.db'), NODES * RUNS), 50);
      // What a node costs the engine with no work at all: its durable checkpoint and the step around it.
      const stepP50 = percentile(await perNode(chain(() => ({ type: 'task', params: { duration_ms: 0 } }))), 50);
      const spawnP50 = percentile(await bareSpawn(60), 50);
      const commandP50 = percentile(await perNode(chain(() => ({ type: 'command', params: { argv: ['true'] } }))), 50);
      const masking = measureMasking();
      return [
        result('http node, p50 per node incl. checkpoint, vs a bare fetch', httpP50, 'ms', fetchP50, { text: 'ratio ≤ 1.5', met: (x) => x <= 1.5 }),
        // The checkpoint's fsync dwarfs a loopback fetch; against the same fetch plus a raw durable insert, the rest is the node's own overhead.
        result('http node, p50 per node incl. checkpoint, vs a bare fetch + a raw durable insert', httpP50, 'ms', floorP50, { text: 'ratio ≤ 1.5', met: (x) => x <= 1.5 }),
        result('command node, p50 per node incl. checkpoint, vs a bare spawn', commandP50, 'ms', spawnP50),
        result('a 0 ms task node (checkpoint alone), p50 per node, vs a bare fetch', stepP50, 'ms', fetchP50),
        // Every form of every secret, prefixes and suffixes included, against the verbatim-only redactor it replaced.
        result(`masking a ${Math.round(masking.bytes / 1024)} KB checkpoint (2 secrets, every form), p50, vs the verbatim-only redactor before`, masking.masker, 'ms', masking.previous, {
          text: 'ratio ≤ 2',
          met: (x) => x <= 2,
        }),
      ];
    } finally {
      await sandbox.close();
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
