import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { buildNode } from '../../scripts/build-node.mjs';
import type { LocalPostgres } from '../../scripts/local-postgres.js';
import { api, repoRoot } from '../integration/server/harness.js';
import {
  type CachedSqliteHistory,
  checkoutPostgres,
  checkoutSqlite,
  historyPostgres,
  postgresHistory,
  postgresVersionRuns,
  sqliteHistory,
  sqliteVersionRuns,
} from './history/cache.js';
import type { HistoryManifest } from './history/generate.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * History at scale (issue 19): the same server — the compiled `rewind-server`, a real process — on a
 * log of 10k events (the baseline) and of 1M (the measure), each built by the history generator and
 * cached (test/bench/history/). Ratios measured in one run, both stores:
 * - start: process spawned → `/health` 200, after a first start stored the verified head (≤ 1.3×);
 * - the p95 of every route a console calls when it opens a connection, a workflow, a run, the
 *   rollback dialog and the audit log (≤ 2×); requests alternate between the two servers, so the
 *   machine's load falls on both alike;
 * - "a workflow opens": the busy workflow's open requests at once, as the console sends them (≤ 100 ms);
 * - catch-up after a reconnect: a stream resumed 1,000 events back, until the last arrives (≤ 2×);
 * - event-loop delay (perf_hooks, in the server process) while one client hammers the heavy routes
 *   and another times `/health` (p99 ≤ 50 ms);
 * - runs started per second through the API by 8 clients, on one version with 100k runs against one
 *   with 1k, all of the last day (≥ 0.8×).
 * REWIND_BENCH_HISTORY=BASE,SIZE (events; default 10000,1000000), REWIND_BENCH_HISTORY_STORES
 * (default sqlite,postgres), REWIND_BENCH_VERSION_RUNS=BASE,SIZE (default 1000,100000); where the
 * histories are kept: REWIND_BENCH_CACHE.
 */

const ADMIN = `rwt_bench-history-${randomBytes(8).toString('hex')}`;
const [BASE_EVENTS, EVENTS] = (process.env.REWIND_BENCH_HISTORY ?? '10000,1000000').split(',').map(Number) as [number, number];
const [BASE_RUNS, RUNS] = (process.env.REWIND_BENCH_VERSION_RUNS ?? '1000,100000').split(',').map(Number) as [number, number];
const STORES = (process.env.REWIND_BENCH_HISTORY_STORES ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>;
const STARTS = 3;
const ROUTE_SAMPLES = 25;
const OPEN_SAMPLES = 15;
const CATCHUP_BEHIND = 1000;
const CATCHUP_SAMPLES = 8;
const HAMMER_MS = 15_000;
const HEALTH_EVERY_MS = 25;
const START_CLIENTS = 8;
const START_ROUND_MS = 5000;
const START_ROUNDS = 2;

const log = (line: string) => process.stderr.write(`  history: ${line}\n`);
const kilo = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** A server process: the compiled entry with the event-loop monitor preloaded. */
class ServerProcess {
  url = '';
  startMs = 0;
  private out = '';
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: string,
    private readonly extra: string[] = [],
  ) {}

  /** Spawns it and resolves once `/health` answers 200: `startMs` is that wait, from the spawn. */
  async start(): Promise<this> {
    const monitor = pathToFileURL(join(repoRoot, 'test/bench/history/loop-monitor.mjs')).href;
    const t0 = nowMs();
    const proc = spawn(process.execPath, ['--import', monitor, 'bin/rewind-server.mjs', '--db', this.db, '--port', '0', '--time-scale', '0', '--log-level', 'warn', ...this.extra], {
      cwd: repoRoot,
      env: { ...process.env, REWIND_ADMIN_TOKEN: ADMIN, REWIND_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.out = '';
    proc.stdout!.on('data', (c: Buffer) => (this.out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (this.out += c.toString()));
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    this.url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /listening on (\S+)/.exec(this.out);
        if (m) resolve(m[1]!);
      };
      proc.stdout!.on('data', check);
      void this.exited.then(() => reject(new Error(`the server exited before listening:\n${this.out}`)));
    });
    for (;;) {
      const health = await fetch(`${this.url}/health`).catch(() => null);
      if (health?.status === 200) break;
      if (health && health.status !== 503) throw new Error(`/health answered ${health.status}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    this.startMs = nowMs() - t0;
    return this;
  }

  /** The server's own event-loop delay since the last call (SIGUSR2 → one line on stderr). */
  async loopDelay(): Promise<LoopDelay> {
    const before = this.out.length;
    this.proc!.kill('SIGUSR2');
    for (let i = 0; i < 400; i++) {
      const m = /LOOP_DELAY (\{.*\})/.exec(this.out.slice(before));
      if (m) return JSON.parse(m[1]!) as LoopDelay;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('the server did not report its event-loop delay');
  }

  /** SIGTERM: it drains, hands its runs over and stores its verified head. */
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }
}

const get = async (url: string, path: string): Promise<void> => {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
};

/** Milliseconds a request takes, the answer read whole. */
async function timed(url: string, path: string): Promise<number> {
  const t = nowMs();
  await get(url, path);
  return nowMs() - t;
}

const json = async <T>(url: string, path: string): Promise<T> => (await api(url, ADMIN, 'GET', path)).json as T;

/** What a route needs from the log it is asked of. */
interface LogFacts {
  head: number;
  workflow: string;
  run: string;
  runWorkflow: string;
  runVersion: number;
}

async function facts(url: string, manifest: HistoryManifest): Promise<LogFacts> {
  const head = (await json<{ seq: number }>(url, '/api/v1/events/head')).seq;
  const run = manifest.sample_failed_run_id ?? manifest.sample_run_id;
  const r = await json<{ workflow_id: string; version: number }>(url, `/api/v1/runs/${run}`);
  return { head, workflow: manifest.busy_workflow_id, run, runWorkflow: r.workflow_id, runVersion: r.version };
}

/** Every route a console calls when it opens a connection, a workflow, a run, the rollback dialog and the audit log. */
function consoleRoutes(f: LogFacts): Array<[string, string]> {
  const w = f.workflow;
  return [
    ['connection: events/head', '/api/v1/events/head'],
    ['connection: remembered link', `/api/v1/events?after=${f.head - 1}&limit=1`],
    ['connection: whoami', '/api/v1/whoami'],
    ['connection: incidents', '/api/v1/incidents'],
    ['connection: workflows', '/api/v1/workflows'],
    ['connection: runs waiting', '/api/v1/runs?status=waiting&limit=500'],
    ['connection: runs (2000)', '/api/v1/runs?limit=2000'],
    ['connection: runbooks', '/api/v1/runbooks'],
    ['audit log: newest page', `/api/v1/events?after=${Math.max(0, f.head - 1000)}&limit=1000`],
    ['workflow: get', `/api/v1/workflows/${w}`],
    ['workflow: versions', `/api/v1/workflows/${w}/versions?limit=500&include_dsl=false`],
    ['workflow: events page', `/api/v1/events?workflow_id=${w}&after=0&limit=2000`],
    ['workflow: health', `/api/v1/workflows/${w}/health`],
    ['workflow: schedule', `/api/v1/workflows/${w}/schedule`],
    ['workflow: runs (2000)', `/api/v1/runs?workflow_id=${w}&limit=2000`],
    ['run: get', `/api/v1/runs/${f.run}`],
    ['run: checkpoints', `/api/v1/runs/${f.run}/checkpoints`],
    ['run: version', `/api/v1/workflows/${f.runWorkflow}/versions/${f.runVersion}`],
    ['run: workflow runs (500)', `/api/v1/runs?workflow_id=${f.runWorkflow}&limit=500`],
    ['run: its events', `/api/v1/events?workflow_id=${f.runWorkflow}&run_id=${f.run}&after=0&limit=1000`],
    ['run: compatibility', `/api/v1/runs/${f.run}/compatibility/${f.runVersion}`],
    ['rollback: preview', `/api/v1/workflows/${w}/versions/1/rollback-preview`],
  ];
}

/** The busy workflow's open, as the console sends it: its versions, its timeline's first page of events, its health and schedule, at once. */
const workflowOpen = (f: LogFacts) => [
  `/api/v1/workflows/${f.workflow}/versions?limit=500&include_dsl=false`,
  `/api/v1/events?workflow_id=${f.workflow}&after=0&limit=2000`,
  `/api/v1/workflows/${f.workflow}/health`,
  `/api/v1/workflows/${f.workflow}/schedule`,
];

/** The heavy routes the hammer cycles through (verify walks the whole chain). */
const heavyRoutes = (f: LogFacts) => [
  '/api/v1/incidents',
  '/api/v1/workflows',
  `/api/v1/workflows/${f.workflow}/health`,
  '/api/v1/runs?limit=2000',
  `/api/v1/runs?workflow_id=${f.workflow}&limit=2000`,
  `/api/v1/events?after=${Math.max(0, f.head - 1000)}&limit=1000`,
  `/api/v1/events?workflow_id=${f.workflow}&after=0&limit=2000`,
  `/api/v1/workflows/${f.workflow}/versions/1/rollback-preview`,
  '/api/v1/events/verify',
];

/** Waits for the server's background walk of the whole chain to reach the head; how long it took. */
async function walked(url: string, head: number): Promise<number> {
  const t = nowMs();
  for (;;) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const m = /rewind_chain_verified_seq\{[^}]*\} (\d+)/.exec(text);
    if (m && Number(m[1]) >= head) return nowMs() - t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Resumes the stream CATCHUP_BEHIND events back; ms until the head's event arrives. */
async function catchUp(url: string, head: number): Promise<number> {
  const after = head - CATCHUP_BEHIND;
  const t = nowMs();
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/events/stream?after=${after}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { seq: number }).seq >= head) resolve();
    });
    ws.on('error', reject);
  });
  const ms = nowMs() - t;
  ws.close();
  return ms;
}

/** One client cycles through the heavy routes while another times /health; the server's loop delay over that span. */
async function hammer(server: ServerProcess, f: LogFacts): Promise<{ loop: LoopDelay; health: number[]; requests: number }> {
  await server.loopDelay();
  const until = nowMs() + HAMMER_MS;
  let requests = 0;
  const heavy = (async () => {
    const routes = heavyRoutes(f);
    for (let i = 0; nowMs() < until; i++) {
      await get(server.url, routes[i % routes.length]!);
      requests += 1;
    }
  })();
  const health: number[] = [];
  while (nowMs() < until) {
    const t = nowMs();
    await get(server.url, '/health');
    health.push(nowMs() - t);
    await new Promise((r) => setTimeout(r, HEALTH_EVERY_MS));
  }
  await heavy;
  return { loop: await server.loopDelay(), health, requests };
}

/** Runs started through the API by START_CLIENTS clients for `ms`; per second. */
async function startRate(url: string, workflowId: string, ms: number): Promise<number> {
  const until = nowMs() + ms;
  const t = nowMs();
  let started = 0;
  await Promise.all(
    Array.from({ length: START_CLIENTS }, async () => {
      while (nowMs() < until) {
        const res = await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/runs`, {});
        if (res.status !== 201 && res.status !== 200) throw new Error(`start: ${res.status} ${JSON.stringify(res.json)}`);
        started += 1;
      }
    }),
  );
  return started / ((nowMs() - t) / 1000);
}

interface Prepared {
  base: { db: string; manifest: HistoryManifest };
  big: { db: string; manifest: HistoryManifest };
  versionRuns: { base: { db: string; workflow: string }; big: { db: string; workflow: string } };
  dispose: () => Promise<void>;
}

async function prepareSqlite(): Promise<Prepared> {
  const checkout = (h: CachedSqliteHistory) => {
    const c = checkoutSqlite(h);
    return { db: c.path, manifest: h.manifest, dispose: c.dispose };
  };
  const base = checkout(await sqliteHistory(BASE_EVENTS, log));
  const big = checkout(await sqliteHistory(EVENTS, log));
  const vBase = await sqliteVersionRuns(BASE_RUNS, log);
  const vBig = await sqliteVersionRuns(RUNS, log);
  const cBase = checkoutSqlite(vBase);
  const cBig = checkoutSqlite(vBig);
  return {
    base,
    big,
    versionRuns: { base: { db: cBase.path, workflow: vBase.manifest.workflow_id }, big: { db: cBig.path, workflow: vBig.manifest.workflow_id } },
    dispose: async () => {
      for (const d of [base.dispose, big.dispose, cBase.dispose, cBig.dispose]) d();
    },
  };
}

async function preparePostgres(pg: LocalPostgres): Promise<Prepared> {
  const hBase = await postgresHistory(pg, BASE_EVENTS, log);
  const hBig = await postgresHistory(pg, EVENTS, log);
  const vBase = await postgresVersionRuns(pg, BASE_RUNS, log);
  const vBig = await postgresVersionRuns(pg, RUNS, log);
  log('copying the cached databases…');
  const copies = [await checkoutPostgres(pg, hBase), await checkoutPostgres(pg, hBig), await checkoutPostgres(pg, vBase), await checkoutPostgres(pg, vBig)];
  return {
    base: { db: copies[0]!.url, manifest: hBase.manifest },
    big: { db: copies[1]!.url, manifest: hBig.manifest },
    versionRuns: { base: { db: copies[2]!.url, workflow: vBase.manifest.workflow_id }, big: { db: copies[3]!.url, workflow: vBig.manifest.workflow_id } },
    dispose: async () => {
      for (const c of copies) await c.dispose();
    },
  };
}

const median = (xs: number[]) => percentile(xs, 50);
const within = (limit: number) => ({ text: `ratio ≤ ${limit}`, met: (r: number) => r <= limit });
const atLeast = (limit: number) => ({ text: `ratio ≥ ${limit}`, met: (r: number) => r >= limit });
/** An absolute goal shown beside the ratio: `met` reads the measured value, not the ratio. */
function absolute(r: BenchResult, text: string, ok: boolean): BenchResult {
  return { ...r, goal: text, met: ok };
}

async function measureStore(kind: 'sqlite' | 'postgres', prepared: Prepared): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const tag = `${kind} ${kilo(EVENTS)} vs ${kilo(BASE_EVENTS)}`;
  const base = new ServerProcess(prepared.base.db);
  const big = new ServerProcess(prepared.big.db);

  // Start: a first start walks the whole chain once (the migration left no verified head) and stores the head.
  for (const s of [base, big]) {
    await s.start();
    log(`${kind}: first start ${s === big ? kilo(EVENTS) : kilo(BASE_EVENTS)} ${(s.startMs / 1000).toFixed(1)} s (verifies the chain whole once, then stores its head)`);
    await s.stop();
  }
  const starts = { base: [] as number[], big: [] as number[] };
  for (let i = 0; i < STARTS; i++) {
    for (const [s, list] of i % 2 === 0 ? ([[base, starts.base], [big, starts.big]] as const) : ([[big, starts.big], [base, starts.base]] as const)) {
      await s.start();
      list.push(s.startMs);
      await s.stop();
    }
  }
  out.push(result(`start to /health 200 (${tag})`, median(starts.big), 'ms', median(starts.base), within(1.3)));

  await base.start();
  await big.start();
  try {
    const fBase = await facts(base.url, prepared.base.manifest);
    const fBig = await facts(big.url, prepared.big.manifest);
    const walks = [await walked(base.url, fBase.head), await walked(big.url, fBig.head)];
    log(`${kind}: background walk of the whole chain after start: ${(walks[0]! / 1000).toFixed(1)} s at ${kilo(BASE_EVENTS)}, ${(walks[1]! / 1000).toFixed(1)} s at ${kilo(EVENTS)}`);

    // Every console route, requests alternating between the two servers.
    const routesBase = consoleRoutes(fBase);
    const routesBig = consoleRoutes(fBig);
    for (const [i, [name, pathBase]] of routesBase.entries()) {
      const pathBig = routesBig[i]![1];
      for (let w = 0; w < 2; w++) {
        await get(base.url, pathBase);
        await get(big.url, pathBig);
      }
      const samples = { base: [] as number[], big: [] as number[] };
      for (let k = 0; k < ROUTE_SAMPLES; k++) {
        samples.base.push(await timed(base.url, pathBase));
        samples.big.push(await timed(big.url, pathBig));
      }
      out.push(result(`p95 ${name} (${tag})`, percentile(samples.big, 95), 'ms', percentile(samples.base, 95), within(2)));
    }

    // A workflow opens: its requests at once, as the console sends them.
    const opens = { base: [] as number[], big: [] as number[] };
    for (let k = 0; k < OPEN_SAMPLES; k++) {
      for (const [s, f, list] of [[base, fBase, opens.base], [big, fBig, opens.big]] as const) {
        const t = nowMs();
        await Promise.all(workflowOpen(f).map((p) => get(s.url, p)));
        list.push(nowMs() - t);
      }
    }
    const busyRuns = prepared.big.manifest.busy_version_runs;
    const open = result(`a workflow with ${kilo(busyRuns)} runs on one version opens, p95 (${tag})`, percentile(opens.big, 95), 'ms', percentile(opens.base, 95));
    out.push(absolute(open, '≤ 100 ms', open.value <= 100));

    const catches = { base: [] as number[], big: [] as number[] };
    for (let k = 0; k < CATCHUP_SAMPLES; k++) {
      catches.base.push(await catchUp(base.url, fBase.head));
      catches.big.push(await catchUp(big.url, fBig.head));
    }
    out.push(result(`catch-up of ${CATCHUP_BEHIND} events after a reconnect, p95 (${tag})`, percentile(catches.big, 95), 'ms', percentile(catches.base, 95), within(2)));

    const hBase = await hammer(base, fBase);
    const hBig = await hammer(big, fBig);
    log(`${kind}: hammer ${hBase.requests} heavy requests at ${kilo(BASE_EVENTS)} (loop max ${hBase.loop.max} ms), ${hBig.requests} at ${kilo(EVENTS)} (loop max ${hBig.loop.max} ms)`);
    const loop = result(`event-loop delay p99 under the hammer (${tag})`, hBig.loop.p99, 'ms', hBase.loop.p99);
    out.push(absolute(loop, 'p99 ≤ 50 ms', hBig.loop.p99 <= 50));
    out.push(result(`/health p99 under the hammer (${tag})`, percentile(hBig.health, 99), 'ms', percentile(hBase.health, 99)));
  } finally {
    await base.stop();
    await big.stop();
  }

  // Runs started per second on one version with many runs, against one with few.
  const vBase = new ServerProcess(prepared.versionRuns.base.db);
  const vBig = new ServerProcess(prepared.versionRuns.big.db);
  // A first start of each stores its verified head (the bulk build wrote none).
  await vBase.start();
  await vBig.start();
  try {
    const rates = { base: [] as number[], big: [] as number[] };
    for (let round = 0; round < START_ROUNDS; round++) {
      const order = round % 2 === 0 ? (['base', 'big'] as const) : (['big', 'base'] as const);
      for (const side of order) {
        const s = side === 'base' ? vBase : vBig;
        rates[side].push(await startRate(s.url, prepared.versionRuns[side].workflow, START_ROUND_MS));
      }
    }
    out.push(result(`runs started per second through the API, one version with ${kilo(RUNS)} runs vs ${kilo(BASE_RUNS)} (${kind})`, median(rates.big), 'runs/s', median(rates.base), atLeast(0.8)));
  } finally {
    await vBase.stop();
    await vBig.stop();
  }
  return out;
}

export const historySuite: BenchSuite = {
  name: 'history',
  async run(): Promise<BenchResult[]> {
    if (!existsSync(join(repoRoot, 'out/node/server.mjs')) || process.env.REWIND_BENCH_BUILD !== '0') await buildNode();
    const out: BenchResult[] = [];
    for (const kind of STORES) {
      if (kind === 'sqlite') {
        const prepared = await prepareSqlite();
        try {
          out.push(...(await measureStore('sqlite', prepared)));
        } finally {
          await prepared.dispose();
        }
      } else {
        const pg = await historyPostgres();
        try {
          const prepared = await preparePostgres(pg);
          try {
            out.push(...(await measureStore('postgres', prepared)));
          } finally {
            await prepared.dispose();
          }
        } finally {
          await pg.stop();
        }
      }
    }
    return out;
  },
};
