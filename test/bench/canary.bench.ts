import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSandbox } from '../../main/backends/engine-backend.js';
import type { Dsl, RewindEvent } from '../../preload/contract/index.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * The automatic rollback against a person's, as a subscriber sees each (the stream the server's
 * WebSocket and the console's live view read):
 * - policy: from the breaching run's end (its last checkpoint is durable; the run-end mutation
 *   follows, judges the canary and rolls back in the same transaction) to `workflow_rollback` by
 *   `policy:canary` at the subscriber;
 * - baseline: from a person's `versions:rollback` call to its `workflow_rollback` at the subscriber.
 * Rounds alternate between the two on one SQLite file, so the disk and the heap are shared alike.
 */

const ROUNDS = 40;
const WARMUP = 5;

/** One node that fails when the run says so: the canary's run fails and breaches a 0 % limit. */
const dsl = (label: string): Dsl => ({
  defaults: { fail: false },
  nodes: [{ id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: [] }],
});

export const canarySuite: BenchSuite = {
  name: 'canary',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-canary-'));
    const backend = await openSandbox({ path: join(dir, 'canary.db'), timeScale: 0, actor: 'bench' });
    try {
      const wf = await backend.call('workflows:create', { name: 'bench-canary', dsl: dsl('v1') });
      await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2'), change_log: 'v2' });
      await backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
      let waiter: { actor: string; resolve: (at: number) => void } | null = null;
      const off = backend.subscribe({
        after: await backend.engine.latestSeq(),
        onEvent: (e: RewindEvent) => {
          if (e.type === 'workflow_rollback' && waiter && e.actor === waiter.actor) {
            const w = waiter;
            waiter = null;
            w.resolve(nowMs());
          }
        },
      });
      const heard = (actor: string) => new Promise<number>((resolve) => (waiter = { actor, resolve }));
      let lastNodeAt = 0;
      const offCheckpoint = backend.engine.runs.onCheckpoint(() => (lastNodeAt = nowMs()));

      const person: number[] = [];
      const policy: number[] = [];
      // v1 ⇄ v2 for the person; each canary is a new draft beside the active one.
      let active = 2;
      for (let round = 0; round < WARMUP + ROUNDS; round++) {
        const target = active === 2 ? 1 : 2;
        const seen = heard('bench');
        const t0 = nowMs();
        await backend.call('versions:rollback', { workflow_id: wf.id, version: target });
        const personMs = (await seen) - t0;
        active = target;

        const draft = await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl(`canary ${round}`), change_log: 'canary' });
        await backend.call('versions:publish', {
          workflow_id: wf.id,
          version: draft.version,
          canary: { percent: 10, min_runs: 1, max_failure_rate: 0, promote: 'manual' },
        });
        const rolled = heard('policy:canary');
        await backend.call('runs:start', { workflow_id: wf.id, version: draft.version, params: { fail: true }, wait: true });
        const policyMs = (await rolled) - lastNodeAt;
        if (round >= WARMUP) {
          person.push(personMs);
          policy.push(policyMs);
        }
      }
      offCheckpoint();
      off();
      const p50Person = percentile(person, 50);
      const p50Policy = percentile(policy, 50);
      const goal = { text: 'ratio ≤ 1.5', met: (r: number) => r <= 1.5 };
      return [
        result('automatic rollback seen by a subscriber, from the breaching run end (p50)', p50Policy, 'ms', p50Person, goal),
        result('automatic rollback seen by a subscriber, from the breaching run end (p95)', percentile(policy, 95), 'ms', percentile(person, 95)),
      ];
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
