import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { type ExecutionPlan, type NodeStep, execute } from '../../../main/engine/executor/executor.js';
import { diffOutcomes } from '../../../main/engine/executor/outcomes.js';
import { createServer } from '../../../main/server/server.js';
import { TokenStore } from '../../../main/server/tokens.js';
import { snapshotServer } from '../../../main/snapshots/snapshot.js';
import { type Dsl, type DslNode, type Run, checkpointSchema } from '../../../preload/contract/entities.js';
import { stores } from '../../support/stores.js';
import { tempDir } from '../server/harness.js';
import { declaredParams, valueMatches } from '../../../main/engine/dsl/run-params.js';

/*
 * Delta checkpoints are invisible (issue 19, item 6): for random workflows and runs, on each store,
 * the state at every checkpoint — listed, read one by one, over HTTP — is byte for byte the full copy
 * the run service stored before (`{output, context, error}` of each executor step). And the paths
 * that read states agree: a resume restores the parent's states and continues from them; a replay's
 * outcome diff is today's; a takeover continues a run whose first rows are full copies (as in a
 * database upgraded mid-run) and its folded states are today's; a snapshot copies them unchanged.
 */

type Step = NodeStep;
const fullCopy = (s: Step) => JSON.stringify({ output: s.output, context: s.context, error: s.error });

/** Today's rows: every step the executor yields for a plan (all simulated here). */
function reference(plan: ExecutionPlan): Step[] {
  const steps: Step[] = [];
  const gen = execute(plan);
  for (let next = gen.next(); !next.done; next = gen.next()) {
    if ('kind' in next.value) throw new Error('only simulated nodes here');
    steps.push(next.value);
  }
  return steps;
}

const key = fc.constantFrom('rows', 'score', 'flag', 'region', 'note', 'batch');
const path = fc.oneof(key, fc.tuple(key, key).map(([a, b]) => `${a}.${b}`), fc.tuple(key, key).map(([a, b]) => `report.${a}.${b}`));
const leaf = fc.oneof(fc.integer({ min: -5, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ maxLength: 5 }), fc.boolean());
const json: fc.Arbitrary<unknown> = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(key, leaf, { maxKeys: 3 }));

/** One node's type and params: tasks and http stand-ins that output, transforms that set, copy and scale, judgments. */
const nodeBody: fc.Arbitrary<Pick<DslNode, 'type' | 'params'>> = fc.oneof(
  fc.record({ output: fc.dictionary(key, json, { maxKeys: 3 }), failure_rate: fc.constantFrom(0, 0, 0.4) }).map(({ output, failure_rate }) => ({ type: 'task' as const, params: { duration_ms: 1, output, failure_rate } })),
  fc.record({ set: fc.dictionary(path, json, { maxKeys: 2 }), copy: fc.option(fc.tuple(path, path), { nil: null }), scale: fc.option(fc.tuple(path, fc.integer({ min: -3, max: 3 })), { nil: null }) }).map(({ set, copy, scale }) => ({
    type: 'transform' as const,
    params: { set, ...(copy ? { copy: { [copy[0]]: copy[1] } } : {}), ...(scale ? { scale: { field: scale[0], factor: scale[1] } } : {}) },
  })),
  fc.record({ field: path, value: fc.integer({ min: 0, max: 100 }), outcome: fc.constantFrom('pass', 'warning') }).map(({ field, value, outcome }) => ({
    type: 'judgment' as const,
    params: { rules: [{ field, op: '>' as const, value, outcome }], default: 'ok' },
  })),
  fc.record({ output: json, output_key: path, failure_rate: fc.constantFrom(0, 0.3) }).map(({ output, output_key, failure_rate }) => ({
    type: 'http' as const,
    params: { method: 'GET', url: 'http://127.0.0.1:9/x', output_key, sandbox: { output, failure_rate } },
  })),
);

/** A DAG of 2–7 nodes: each node may lead to any later one. */
const dslArb: fc.Arbitrary<Dsl> = fc
  .record({
    bodies: fc.array(nodeBody, { minLength: 2, maxLength: 7 }),
    edges: fc.array(fc.tuple(fc.nat(6), fc.nat(6)), { maxLength: 10 }),
    defaults: fc.dictionary(key, json, { maxKeys: 3 }),
  })
  .map(({ bodies, edges, defaults }) => ({
    defaults,
    nodes: bodies.map((b, i) => ({
      id: `n${i}`,
      ...b,
      next: [...new Set(edges.filter(([from, to]) => from === i && to > i && to < bodies.length).map(([, to]) => `n${to}`))],
    })),
  }));

const sample = fc.record({ dsl: dslArb, params: fc.dictionary(key, json, { maxKeys: 2 }), seed: fc.nat(1_000_000), failAt: fc.option(fc.nat(6), { nil: null, freq: 2 }), takeoverAfter: fc.nat(6) });

describe.each(stores)('delta checkpoints read as full copies on $kind', (factory) => {
  afterAll(() => factory.dispose());

  it('for random runs: listed, one by one, over HTTP, after resume, replay, takeover and in a snapshot', async () => {
    const engine = await Engine.open({ store: await factory.open('fold'), takeover: true, replicaId: 'fold' });
    const backend = new EngineBackend(engine, 'op');
    const tokens = new TokenStore(engine);
    const token = (await tokens.issue({ name: 'viewer', role: 'viewer', createdBy: 'test' })).token;
    const server = await createServer({ backend, tokens, latestSeq: () => engine.latestSeq(), schemaVersion: engine.schemaVersion, port: 0, logLevel: 'silent', log: () => undefined });
    const expected = new Map<string, string[]>();
    let n = 0;
    let resumed = 0;
    let takenOver = 0;
    try {
      /** The run's checkpoints through every read path, against today's full copies. */
      const agree = async (run: Run, steps: string[]) => {
        expected.set(run.run_id, steps);
        const listed = await engine.runs.checkpoints(run.run_id);
        expect(listed.map((c) => JSON.stringify(c.state))).toEqual(steps);
        for (const c of listed) {
          const one = await backend.call('checkpoints:get', { run_id: run.run_id, seq: c.seq });
          expect(JSON.stringify(one.state)).toBe(steps[c.seq - 1]);
          // The wire: the same bytes a server sent before.
          const res = await fetch(`${server.url}/api/v1/runs/${run.run_id}/checkpoints/${c.seq}`, { headers: { authorization: `Bearer ${token}` } });
          const body = checkpointSchema.parse(await res.json());
          expect(JSON.stringify(body.state)).toBe(steps[c.seq - 1]);
        }
        if (listed.length) expect(JSON.stringify((await engine.runs.latestCheckpoint(run.run_id))!.state)).toBe(steps[steps.length - 1]);
        return listed;
      };

      await fc.assert(
        fc.asyncProperty(sample, async ({ dsl, params: drawn, seed, failAt, takeoverAfter }) => {
          n += 1;
          // A run takes only the params its version declares (the keys of its defaults, of their type).
          const declared = declaredParams(dsl);
          const params = Object.fromEntries(Object.entries(drawn).filter(([k, v]) => declared.has(k) && valueMatches(declared.get(k)!.type, v)));
          const faults = failAt !== null && failAt < dsl.nodes.length ? { fail_node: `n${failAt}` } : {};
          const wf = await engine.workflows.create({ name: `fold-${n}`, description: '', dsl, source_type: 'MANUAL' }, 'op');
          const stored = (await engine.versions.get(wf.id, 1)).dsl_definition;
          const plan = { dsl: stored, params, seed, faults };
          const steps = reference(plan);
          const run = await engine.runs.wait((await engine.runs.start({ workflow_id: wf.id, params, seed, faults, wait: false }, 'op')).run_id);
          const listed = await agree(run, steps.map(fullCopy));

          // Resume: the parent's good states restored, then today's steps from the last one's context.
          if (run.status === 'failed') {
            const firstBad = steps.findIndex((s) => s.status === 'failed');
            const good = steps.slice(0, firstBad);
            const child = await engine.runs.wait((await engine.runs.resume({ run_id: run.run_id, faults: {}, wait: false }, 'op')).run_id);
            const rest = reference({ ...plan, faults: {}, completed: good.map((s) => s.node_id), ...(good.length ? { context: good[good.length - 1]!.context } : {}) });
            await agree(child, [...good, ...rest].map(fullCopy));
            resumed += 1;
          }

          // Replay: the outcome diff from folded states is the one from full copies.
          const replay = await engine.runs.wait((await engine.runs.startReplay({ run_id: run.run_id, version: 1 }, 'op')).run_id);
          const replayed = reference({ ...plan, faults: {} });
          await agree(replay, replayed.map(fullCopy));
          const outcome = (s: Step) => ({ node_id: s.node_id, status: s.status, output: s.output });
          expect((await engine.runs.replayResult(replay)).outcomes).toEqual(diffOutcomes(steps.map(outcome), replayed.map(outcome)));

          // Takeover of a run whose first rows are full copies (written before 0150) by a runner now gone.
          const k = Math.min(takeoverAfter, steps.length);
          const runId = `takeover-${n}`;
          const ts = engine.now();
          await engine.store.transaction(async (tx) => {
            await tx.run(
              "INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, started_at, runner_id, created_by, created_at, trigger) VALUES (?, ?, 1, 'running', 'start', ?, ?, ?, ?, 'gone', 'op', ?, 'manual')",
              [runId, wf.id, JSON.stringify(params), seed, JSON.stringify(faults), ts, ts],
            );
            for (const [i, s] of steps.slice(0, k).entries()) {
              await tx.run('INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES (?, ?, ?, ?, ?, ?)', [runId, i + 1, s.node_id, s.status, fullCopy(s), ts]);
            }
          });
          expect(await engine.takeOverExpiredRuns()).toBe(1);
          const taken = await engine.runs.wait(runId);
          await agree(taken, steps.map(fullCopy));
          if (k > 0 && k < steps.length) takenOver += 1;
          expect(listed.length).toBe(steps.length);
        }),
        { numRuns: factory.kind === 'sqlite' ? 40 : 12 },
      );

      // A snapshot of the server copies every state unchanged.
      const dir = tempDir('rewind-fold-snapshot-');
      const result = await snapshotServer({ backend, sourceUrl: server.url, path: join(dir, 'snap.db'), runs: 10_000 });
      const copy = await Engine.open({ path: result.path });
      try {
        // (The planted takeover runs have no run_started event: a snapshot copies the runs its log names.)
        for (const [runId, steps] of expected) if (!runId.startsWith('takeover-')) expect((await copy.runs.checkpoints(runId)).map((c) => JSON.stringify(c.state)), runId).toEqual(steps);
        // …and stores them as the run service does: each row what its node changed, never a full copy.
        expect(await copy.store.read.get("SELECT COUNT(*) AS n FROM checkpoints WHERE format <> 'delta'")).toEqual({ n: 0 });
      } finally {
        await copy.close();
      }
      console.log(`fold (${factory.kind}): ${n} random runs, ${resumed} resumed, ${takenOver} taken over mid-run, ${expected.size} runs in the snapshot`);
    } finally {
      await server.close();
      await engine.close();
    }
  }, 600_000);
});
