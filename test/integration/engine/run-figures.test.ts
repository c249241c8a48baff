import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { VersionMetrics } from '../../../preload/contract/canary.js';
import { lifetimeFigures, windowFigures } from '../../../main/engine/run-figures.js';
import type { Store } from '../../../main/engine/store/port.js';
import { type StoreFactory, stores } from '../../support/stores.js';

/*
 * Health per version from the counters (a version's whole life) and from SQL over a window (health
 * `since`, a canary's own runs) against a reference that reads every run, as the health route did
 * before: the same counts, failure rates and verdicts; the same percentiles over a window; over a
 * whole life a percentile at most 1 % above the exact one (exact below 100 ms).
 */

interface RunRow {
  run_id: string;
  version: number;
  status: 'succeeded' | 'failed' | 'interrupted' | 'cancelled' | 'running';
  kind: 'start' | 'resume' | 'replay';
  created_at: string;
  started_at: string;
  finished_at: string | null;
  verdicts: Record<string, string> | null;
}

const T0 = Date.parse('2026-10-01T00:00:00.000Z');

/** The reference: every judged run read and counted in JS (nearest-rank percentiles). */
function reference(runs: readonly RunRow[], version: number): VersionMetrics | null {
  const judged = runs.filter((r) => r.version === version && ['succeeded', 'failed', 'interrupted'].includes(r.status) && r.kind !== 'replay');
  if (judged.length === 0) return null;
  const durations = judged.filter((r) => r.finished_at !== null).map((r) => Math.max(0, Date.parse(r.finished_at!) - Date.parse(r.started_at))).sort((a, b) => a - b);
  const at = (p: number) => (durations.length === 0 ? null : durations[Math.min(durations.length - 1, Math.max(0, Math.ceil(p * durations.length) - 1))]!);
  const verdicts: Record<string, Record<string, number>> = {};
  for (const r of judged) for (const [k, v] of Object.entries(r.verdicts ?? {})) (verdicts[k] ??= {})[v] = (verdicts[k]![v] ?? 0) + 1;
  const succeeded = judged.filter((r) => r.status === 'succeeded').length;
  const failed = judged.length - succeeded;
  return { version, runs: judged.length, succeeded, failed, failure_rate: failed / judged.length, p50_ms: at(0.5), p95_ms: at(0.95), verdicts };
}

const runArb = fc.record({
  version: fc.integer({ min: 1, max: 3 }),
  status: fc.constantFrom('succeeded', 'succeeded', 'succeeded', 'failed', 'interrupted', 'cancelled', 'running'),
  kind: fc.constantFrom('start', 'start', 'resume', 'replay'),
  createdOffsetS: fc.integer({ min: 0, max: 7 * 24 * 3600 }),
  // Mostly close together (the common case: one bucket holds many runs), sometimes spread over hours.
  durationMs: fc.oneof(fc.integer({ min: 0, max: 150 }), fc.integer({ min: 900, max: 1300 }), fc.integer({ min: 0, max: 4 * 3600_000 })),
  verdict: fc.option(fc.constantFrom('pass', 'warning', 'reject'), { nil: null }),
});

describe.each(stores)('run figures on $kind', (factory: StoreFactory) => {
  afterAll(() => factory.dispose());
  let n = 0;

  async function storeWith(runs: RunRow[]): Promise<Store> {
    const store = await factory.open(`figures_${(n += 1)}`);
    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('wf', 'wf', 'MANUAL', 'active', 1, 1, 'x', 'x')");
      for (const v of [1, 2, 3]) await tx.run("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES (?, 'wf', ?, '{}', 'draft', 'a', 'x')", [`v${v}`, v]);
      for (const r of runs) {
        // Half of them are inserted running and end later, as the run service writes them; the others arrive ended (a snapshot, an import).
        const endLater = r.finished_at !== null && r.run_id.endsWith('0');
        await tx.run(
          `INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, started_at, finished_at, created_by, created_at, verdicts, trigger)
           VALUES (?, 'wf', ?, ?, ?, '{}', 1, '{}', ?, ?, 'a', ?, ?, 'manual')`,
          [r.run_id, r.version, endLater ? 'running' : r.status, r.kind, r.started_at, endLater ? null : r.finished_at, r.created_at, endLater || r.verdicts === null ? null : JSON.stringify(r.verdicts)],
        );
        if (endLater) await tx.run('UPDATE runs SET status = ?, finished_at = ?, verdicts = ? WHERE run_id = ?', [r.status, r.finished_at, r.verdicts === null ? null : JSON.stringify(r.verdicts), r.run_id]);
      }
    });
    return store;
  }

  it('counts what a read of every run counts; lifetime percentiles within 1 % (exact below 100 ms), window percentiles exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(runArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 7 * 24 * 3600 }), async (specs, sinceS) => {
        const runs: RunRow[] = specs.map((s, i) => {
          const created = T0 + s.createdOffsetS * 1000;
          const ended = s.status !== 'running';
          return {
            run_id: `run-${String(i).padStart(3, '0')}`,
            version: s.version,
            status: s.status,
            kind: s.kind,
            created_at: new Date(created).toISOString(),
            started_at: new Date(created).toISOString(),
            finished_at: ended ? new Date(created + s.durationMs).toISOString() : null,
            verdicts: s.verdict === null ? null : { verdict: s.verdict },
          };
        });
        const store = await storeWith(runs);
        try {
          const lifetime = await lifetimeFigures(store.read, 'wf');
          const want = [3, 2, 1].map((v) => reference(runs, v)).filter((m): m is VersionMetrics => m !== null);
          expect(lifetime.map(({ p50_ms: _a, p95_ms: _b, ...rest }) => rest)).toEqual(want.map(({ p50_ms: _a, p95_ms: _b, ...rest }) => rest));
          for (const [i, got] of lifetime.entries()) {
            for (const key of ['p50_ms', 'p95_ms'] as const) {
              const exact = want[i]![key];
              if (exact === null || exact < 100) expect(got[key]).toBe(exact);
              else {
                expect(got[key]!).toBeGreaterThanOrEqual(exact);
                expect(got[key]!).toBeLessThanOrEqual(exact * 1.01);
              }
            }
          }
          const since = new Date(T0 + sinceS * 1000).toISOString();
          const windowed = await windowFigures(store.read, store.dialect, { workflowId: 'wf', versions: [1, 2, 3], finishedSince: since });
          const inWindow = runs.filter((r) => r.finished_at !== null && r.finished_at >= since);
          expect(windowed).toEqual([3, 2, 1].map((v) => reference(inWindow, v)).filter((m) => m !== null));
        } finally {
          await store.close();
        }
      }),
      { numRuns: factory.kind === 'postgres' ? 12 : 40 },
    );
  });
});
