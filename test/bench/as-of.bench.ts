import { EngineBackend } from '../../main/backends/engine-backend.js';
import { Engine } from '../../main/engine/engine.js';
import { openSqliteStore } from '../../main/engine/store/sqlite/sqlite-store.js';
import type { BackendMethod, MethodInput } from '../../preload/contract/backend-methods.js';
import { checkoutSqlite, sqliteHistory } from './history/cache.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * Issue 22 item 1: an as-of read costs at most 2× the same read now. Each listed read, on a cached
 * SQLite history (test/bench/history/), is timed now and as of a moment in the middle of the log
 * (p50 of several, after a warm-up); the as-of figure is printed against the read of now measured in
 * the same run. `REWIND_BENCH_ASOF_EVENTS` picks the history's size (100,000 by default: a 1M history
 * takes long to build the first time; give 1000000 when its cache exists).
 */

const EVENTS = Number(process.env.REWIND_BENCH_ASOF_EVENTS ?? 100_000);
const SAMPLES = 9;
const atMost2 = { text: 'ratio ≤ 2×', met: (r: number) => r <= 2 };

async function p50(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = nowMs();
    await fn();
    samples.push(nowMs() - t);
  }
  return percentile(samples, 50);
}

export const asOfSuite: BenchSuite = {
  name: 'as-of',
  async run(): Promise<BenchResult[]> {
    const history = await sqliteHistory(EVENTS, (line) => process.stderr.write(`${line}\n`));
    const copy = checkoutSqlite(history);
    // The engine's clock stands just after the history's end, so a read of now (the incident summary's
    // 24-hour window) sees the same runs as a read as of the head. The workflows' failed-runs badge of
    // now counts against the database's clock, which the history ended before: that baseline counts an
    // empty window.
    const engine = await Engine.open({ store: openSqliteStore(copy.path), clock: () => new Date(Date.parse(history.manifest.ends_at) + 60_000) });
    const backend = new EngineBackend(engine, 'bench');
    try {
      const { manifest } = history;
      const moment = String(Math.floor(manifest.head.seq / 2));
      const reads: Array<[string, BackendMethod, Record<string, unknown>]> = [
        ['workflows', 'workflows:list', {}],
        ['workflow', 'workflows:get', { workflow_id: manifest.busy_workflow_id }],
        ['versions', 'versions:list', { workflow_id: manifest.busy_workflow_id, include_dsl: false }],
        ['runs (first page)', 'runs:list', { limit: 100 }],
        ['runs of the busy workflow', 'runs:list', { workflow_id: manifest.busy_workflow_id, limit: 100 }],
        ['run', 'runs:get', { run_id: manifest.sample_run_id }],
        ['incidents', 'incidents:summary', {}],
      ];
      const out: BenchResult[] = [];
      for (const [name, method, input] of reads) {
        const now = await p50(() => backend.call(method, input as MethodInput<typeof method>));
        // As of the head: the same answer as now, so the figure is the cost of reading it from the log.
        const head = await p50(() => backend.call(method, { ...input, as_of: String(manifest.head.seq) } as MethodInput<typeof method>));
        out.push(result(`${name} as of the head vs now (p50 ms)`, head, 'ms', now, atMost2));
        // As of the middle: a different answer (more failures in its 24-hour window, say), so more or less work than now.
        const then = await p50(() => backend.call(method, { ...input, as_of: moment } as MethodInput<typeof method>));
        out.push(result(`${name} as of event ${moment} of ${manifest.head.seq} vs now (p50 ms)`, then, 'ms', now));
      }
      return out;
    } finally {
      await backend.close();
      copy.dispose();
    }
  },
};
