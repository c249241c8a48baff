import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNode } from '../../scripts/build-node.mjs';
import { LocalPostgres, freePort } from '../../scripts/local-postgres.js';
import { type ReplicaProcess, allEvents } from '../integration/replicas/processes.js';
import { audit, killLoop, replicaProcesses, settle } from '../integration/replicas/kill-loop.js';
import { api, uniqueName } from '../integration/server/harness.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * Replicas on PostgreSQL as real processes (the compiled `rewind-server`) on a local PostgreSQL that
 * this suite starts:
 * - takeover time: kill -9 of the replica executing a run → `run_taken_over` seen on another replica,
 *   against the lease (`--lease-ms`) it must wait out (the floor: the lease plus detection);
 * - write throughput (drafts/s from 16 concurrent clients) with three replicas against one;
 * - the kill loop of the replica crash test, with more kills (REWIND_BENCH_KILLS, default 170: with
 *   the test's 30, issue 9's 200): its lost writes, gaps and forks.
 */

const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;
const LEASE_MS = 2000;
const TAKEOVER_ROUNDS = 5;
const CLIENTS = 16;
const WRITE_SECONDS = 5;
const KILLS = Number(process.env.REWIND_BENCH_KILLS ?? 170);

/** Nodes of 1 s: a run is still on its first nodes when its replica is killed. */
const slowDsl = {
  defaults: {},
  nodes: Array.from({ length: 20 }, (_, i) => ({ id: `s${i}`, type: 'task' as const, params: { duration_ms: 1000 }, next: i < 19 ? [`s${i + 1}`] : [] })),
};

async function startAll(replicas: ReplicaProcess[]): Promise<void> {
  await replicas[0]!.start();
  await Promise.all(replicas.slice(1).map((r) => r.start()));
}

async function takeoverTimes(url: string): Promise<number[]> {
  const replicas = replicaProcesses(url, ADMIN, LEASE_MS, 'bench-tk');
  await startAll(replicas);
  const times: number[] = [];
  try {
    const wf = await api(replicas[0]!.url, ADMIN, 'POST', '/api/v1/workflows', { name: uniqueName('bench-takeover'), dsl: slowDsl });
    const workflowId = (wf.json as { id: string }).id;
    for (let round = 0; round < TAKEOVER_ROUNDS; round++) {
      const victim = replicas[round % replicas.length]!;
      const run = await api(victim.url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/runs`, {});
      const runId = (run.json as { run_id: string }).run_id;
      // Killed at a varying moment within the lease's renewal period.
      await new Promise((r) => setTimeout(r, 1200 + round * 150));
      const watcher = replicas.find((r) => r !== victim)!;
      const head = (await allEvents(watcher.url, ADMIN)).length;
      await victim.kill();
      const killedAt = nowMs();
      for (;;) {
        const res = await api(watcher.url, ADMIN, 'GET', `/api/v1/events?after=${head}&limit=1000`);
        const events = (res.json as { events: Array<{ type: string; run_id: string | null }> }).events;
        if (events.some((e) => e.type === 'run_taken_over' && e.run_id === runId)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      times.push(nowMs() - killedAt);
      await api(watcher.url, ADMIN, 'POST', `/api/v1/runs/${runId}/cancel`);
      await victim.start();
    }
  } finally {
    await Promise.all(replicas.map((r) => r.kill()));
  }
  return times;
}

async function writesPerSecond(targets: string[], workflowId: string): Promise<number> {
  let writes = 0;
  const until = nowMs() + WRITE_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; nowMs() < until; i++) {
        const res = await api(targets[(c + i) % targets.length]!, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/versions`, { change_log: `client ${c} write ${i}` });
        if (res.status === 200) writes += 1;
      }
    }),
  );
  return writes / WRITE_SECONDS;
}

async function throughput(url: string): Promise<{ one: number; three: number }> {
  const replicas = replicaProcesses(url, ADMIN, 15_000, 'bench-tp');
  await startAll(replicas);
  try {
    const wf = await api(replicas[0]!.url, ADMIN, 'POST', '/api/v1/workflows', { name: uniqueName('bench-throughput'), dsl: slowDsl });
    const workflowId = (wf.json as { id: string }).id;
    // Warm-up on every replica (connections, JIT), then one replica, then all three, same clients.
    await writesPerSecond(replicas.map((r) => r.url), workflowId);
    const one = await writesPerSecond([replicas[0]!.url], workflowId);
    const three = await writesPerSecond(replicas.map((r) => r.url), workflowId);
    return { one, three };
  } finally {
    await Promise.all(replicas.map((r) => r.kill()));
  }
}

async function killBench(url: string): Promise<BenchResult[]> {
  const replicas = replicaProcesses(url, ADMIN, 1000, 'bench-kl');
  await startAll(replicas);
  try {
    const loop = await killLoop(replicas, ADMIN, KILLS, 17);
    await settle(replicas[0]!.url, ADMIN, 300_000);
    const found = await audit(replicas, ADMIN, loop);
    const acked = loop.acks.length;
    const zero = { text: 'none', met: (r: number) => r === 0 };
    return [
      result(`kill loop (${loop.kills} kills, ${found.takeovers} takeovers): lost acknowledged writes`, found.lost.length, 'writes', acked, zero),
      result(`kill loop: gaps and forks in ${found.events.length} events`, found.gaps.length + found.forks.length, 'links', found.events.length, zero),
      result('kill loop: runs with a node checkpointed twice or missing', found.doubled.length + found.incomplete.length, 'runs', loop.acks.filter((a) => a.kind === 'run').length, zero),
    ];
  } finally {
    await Promise.all(replicas.map((r) => r.kill()));
  }
}

export const replicasSuite: BenchSuite = {
  name: 'replicas',
  async run() {
    await buildNode();
    const root = mkdtempSync(join(tmpdir(), 'rewind-bench-pg-'));
    // PostgreSQL runs as the `postgres` user when we are root: it must create its folder here.
    chmodSync(root, 0o777);
    const pg = new LocalPostgres({ dataDir: join(root, 'data'), port: await freePort(), password: randomBytes(12).toString('hex'), flags: ['-c', 'max_connections=300'] });
    await pg.initialise();
    await pg.start();
    try {
      for (const db of ['bench_takeover', 'bench_throughput', 'bench_kills']) await pg.ensureDatabase(db);
      const times = await takeoverTimes(pg.url('bench_takeover'));
      const { one, three } = await throughput(pg.url('bench_throughput'));
      const results = [
        result(`takeover after kill -9, p50 of ${times.length} (kill → run_taken_over seen), vs the lease`, percentile(times, 50), 'ms', LEASE_MS, { text: 'ratio ≤ 1.5', met: (r) => r <= 1.5 }),
        result('takeover after kill -9, worst, vs the lease', Math.max(...times), 'ms', LEASE_MS, { text: 'ratio ≤ 1.5', met: (r) => r <= 1.5 }),
        result(`writes/s, ${CLIENTS} clients: 3 replicas vs 1`, three, 'writes/s', one),
      ];
      if (KILLS > 0) results.push(...(await killBench(pg.url('bench_kills'))));
      return results;
    } finally {
      await pg.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
};
