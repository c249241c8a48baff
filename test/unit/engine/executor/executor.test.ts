import { describe, expect, it } from 'vitest';
import type { Dsl, Faults } from '../../../../preload/contract/entities.js';
import { RewindError } from '../../../../main/engine/errors.js';
import {
  type ExecutionEnd,
  type ExecutionPlan,
  type ExternalAnswer,
  type ExternalRequest,
  type NodeStep,
  execute,
  initialContext,
  validateFaults,
} from '../../../../main/engine/executor/executor.js';

/** Runs a plan to its end; `answer` plays the run driver for the nodes the executor hands out. */
function run(plan: ExecutionPlan, answer?: (request: ExternalRequest) => ExternalAnswer): { steps: NodeStep[]; end: ExecutionEnd; requests: ExternalRequest[] } {
  const gen = execute(plan);
  const steps: NodeStep[] = [];
  const requests: ExternalRequest[] = [];
  let reply: ExternalAnswer | undefined;
  for (;;) {
    const r = gen.next(reply);
    reply = undefined;
    if (r.done === true) return { steps, end: r.value, requests };
    if ('kind' in r.value) {
      requests.push(r.value);
      if (!answer) throw new Error(`unexpected external node ${r.value.node.id}`);
      reply = answer(r.value);
    } else steps.push(r.value);
  }
}

const plan = (dsl: Dsl, over: Partial<ExecutionPlan> = {}): ExecutionPlan => ({ dsl, params: {}, seed: 1, faults: {}, ...over });

/** ingest → judge → report, the shape of a quality-gate workflow. */
function qualityGate(threshold = 0.05): Dsl {
  return {
    nodes: [
      { id: 'ingest', type: 'task', params: { duration_ms: 200, output: { defect_rate: 0.04, batch: 7 } }, next: ['judge'] },
      {
        id: 'judge',
        type: 'judgment',
        params: { rules: [{ field: 'defect_rate', op: '>', value: threshold, outcome: 'warning' }], default: 'ok' },
        next: ['report'],
      },
      { id: 'report', type: 'transform', params: { copy: { verdict: 'outputs.judge.verdict' }, scale: { field: 'defect_rate', factor: 100, to: 'defect_pct' } }, next: [] },
    ],
    defaults: { region: 'eu', batch: 0 },
  };
}

/** a → b → c → d, where a, c and d are flaky: a resume skips a's draw yet must reproduce c's and d's. */
const chain: Dsl = {
  nodes: [
    { id: 'a', type: 'task', params: { failure_rate: 0.1, output: { x: 1 } }, next: ['b'] },
    { id: 'b', type: 'transform', params: { scale: { field: 'x', factor: 3 } }, next: ['c'] },
    { id: 'c', type: 'task', params: { failure_rate: 0.2, output: { y: 2 } }, next: ['d'] },
    { id: 'd', type: 'task', params: { failure_rate: 0.2, duration_ms: 50 }, next: [] },
  ],
  defaults: {},
};

describe('execute: a full run', () => {
  it('runs every node in order, threading the context', () => {
    const { steps, end } = run(plan(qualityGate(), { params: { region: 'us' } }));
    expect(steps.map((s) => [s.node_id, s.status, s.simulated_ms])).toEqual([
      ['ingest', 'succeeded', 200],
      ['judge', 'succeeded', 0],
      ['report', 'succeeded', 0],
    ]);
    expect(steps[0]?.output).toEqual({ defect_rate: 0.04, batch: 7 });
    expect(steps[1]?.output).toEqual({ verdict: 'ok', matched_rule: null, observed: 0.04 });
    expect(steps[2]?.output).toEqual({ verdict: 'ok', defect_pct: 4 });
    expect(end).toEqual({
      status: 'succeeded',
      failed_node: null,
      error: null,
      context: {
        region: 'us',
        batch: 7,
        defect_rate: 0.04,
        verdict: 'ok',
        defect_pct: 4,
        outputs: {
          ingest: { defect_rate: 0.04, batch: 7 },
          judge: { verdict: 'ok', matched_rule: null, observed: 0.04 },
          report: { verdict: 'ok', defect_pct: 4 },
        },
      },
    });
  });

  it('gives different verdicts for defect_rate 0.04 under thresholds 0.05 and 0.03', () => {
    const loose = run(plan(qualityGate(0.05))).steps[1]?.output;
    const strict = run(plan(qualityGate(0.03))).steps[1]?.output;
    expect(loose).toEqual({ verdict: 'ok', matched_rule: null, observed: 0.04 });
    expect(strict).toEqual({ verdict: 'warning', matched_rule: 0, observed: 0.04 });
  });

  it('lets the first matching rule win and honours output_key', () => {
    const dsl: Dsl = {
      nodes: [
        {
          id: 'grade',
          type: 'judgment',
          params: {
            rules: [
              { field: 'm.defect_rate', op: '>=', value: 0.1, outcome: 'critical' },
              { field: 'm.defect_rate', op: '>', value: 0.02, outcome: 'warning' },
              { field: 'm.defect_rate', op: '>', value: 0.01, outcome: 'notice' },
            ],
            default: 'ok',
            output_key: 'grade',
          },
          next: [],
        },
      ],
      defaults: {},
    };
    expect(run(plan(dsl, { params: { m: { defect_rate: 0.04 } } })).steps[0]?.output).toEqual({ grade: 'warning', matched_rule: 1, observed: 0.04 });
    expect(run(plan(dsl, { params: { m: { defect_rate: 0.2 } } })).steps[0]?.output).toEqual({ grade: 'critical', matched_rule: 0, observed: 0.2 });
    // A missing field never satisfies an ordering rule: the default, with nothing observed.
    expect(run(plan(dsl)).steps[0]?.output).toEqual({ grade: 'ok', matched_rule: null, observed: null });
    // Equality is strict: the string '0.2' is not the number 0.2.
    expect(run(plan(dsl, { params: { m: { defect_rate: '0.2' } } })).steps[0]?.output).toEqual({ grade: 'ok', matched_rule: null, observed: '0.2' });
  });

  it('yields plain JSON and contexts a consumer cannot corrupt', () => {
    const gen = execute(plan(qualityGate()));
    const first = gen.next();
    if (first.done === true || 'kind' in first.value) throw new Error('expected a step');
    first.value.context.defect_rate = 0.9;
    const second = gen.next();
    if (second.done === true || 'kind' in second.value) throw new Error('expected a step');
    expect(second.value.output).toEqual({ verdict: 'ok', matched_rule: null, observed: 0.04 });
    const { steps, end } = run(plan(qualityGate()));
    expect(JSON.parse(JSON.stringify({ steps, end }))).toEqual({ steps, end });
  });
});

describe('execute: determinism', () => {
  it('yields identical steps for the same plan', () => {
    const p = plan(chain, { seed: 12345 });
    expect(run(p)).toEqual(run(structuredClone(p)));
  });

  it('lets the seed decide a flaky task: seed 2 fails it, seed 4 does not', () => {
    const flaky: Dsl = { nodes: [{ id: 'flaky', type: 'task', params: { failure_rate: 0.3 }, next: [] }], defaults: {} };
    const failing = run(plan(flaky, { seed: 2 }));
    expect(failing.steps.map((s) => s.status)).toEqual(['failed']);
    expect(failing.end).toMatchObject({ status: 'failed', failed_node: 'flaky', error: "Task 'flaky' failed (simulated failure, failure_rate 0.3)." });
    expect(run(plan(flaky, { seed: 4 })).end.status).toBe('succeeded');
  });

  it('fails a flaky task on roughly its failure rate across seeds', () => {
    const flaky: Dsl = { nodes: [{ id: 'flaky', type: 'task', params: { failure_rate: 0.5, error: 'disk full' }, next: [] }], defaults: {} };
    const failures = Array.from({ length: 200 }, (_, seed) => run(plan(flaky, { seed })).end).filter((e) => e.status === 'failed');
    expect(failures.length).toBeGreaterThan(70);
    expect(failures.length).toBeLessThan(130);
    expect(failures[0]?.error).toBe('disk full');
  });
});

describe('execute: task conditions and transforms', () => {
  it('fails a task whose fail_if holds, with its error or a description of the condition', () => {
    const dsl = (error?: string): Dsl => ({
      nodes: [{ id: 'gate', type: 'task', params: { fail_if: { field: 'load', op: '>=', value: 0.9 }, ...(error === undefined ? {} : { error }) }, next: [] }],
      defaults: { load: 0.5 },
    });
    expect(run(plan(dsl())).end.status).toBe('succeeded');
    expect(run(plan(dsl(), { params: { load: 0.95 } })).end).toMatchObject({
      status: 'failed',
      failed_node: 'gate',
      error: "Task 'gate' failed: load >= 0.9 held (observed 0.95).",
    });
    expect(run(plan(dsl('CPU above 90 %'), { params: { load: 0.95 } })).end.error).toBe('CPU above 90 %');
  });

  it('applies set, then copy, then scale', () => {
    const dsl: Dsl = {
      nodes: [{ id: 't', type: 'transform', params: { set: { 'cfg.replicas': 2, tag: 'v1' }, copy: { 'cfg.copy': 'cfg.replicas' }, scale: { field: 'cfg.copy', factor: 1.5 } }, next: [] }],
      defaults: {},
    };
    const { steps, end } = run(plan(dsl));
    expect(steps[0]?.output).toEqual({ 'cfg.replicas': 2, tag: 'v1', 'cfg.copy': 3 });
    expect(end.context).toEqual({ cfg: { replicas: 2, copy: 3 }, tag: 'v1', outputs: { t: { 'cfg.replicas': 2, tag: 'v1', 'cfg.copy': 3 } } });
  });

  it('fails a transform that reads nothing or writes through a number', () => {
    const transform = (params: Record<string, unknown>): Dsl => ({ nodes: [{ id: 't', type: 'transform', params, next: [] }], defaults: { n: 5, s: 'x' } });
    expect(run(plan(transform({ copy: { a: 'missing' } }))).end.error).toBe("Transform 't': copy to 'a' reads 'missing', which is not in the run context.");
    expect(run(plan(transform({ scale: { field: 's', factor: 2 } }))).end.error).toBe("Transform 't': scale reads 's', which is not a number (\"x\").");
    expect(run(plan(transform({ set: { 'n.deep': 1 } }))).end.error).toBe("Transform 't': cannot set 'n.deep': 'n' is a number, not an object.");
    expect(run(plan(transform({ scale: { field: 'n', factor: 1e308 } }))).end.status).toBe('failed');
  });
});

describe('execute: faults', () => {
  const diamond: Dsl = {
    nodes: [
      { id: 'start', type: 'task', params: { output: { n: 1 } }, next: ['left', 'right'] },
      { id: 'left', type: 'task', params: {}, next: ['left2'] },
      { id: 'left2', type: 'task', params: {}, next: ['join'] },
      { id: 'right', type: 'task', params: { output: { r: true } }, next: ['join'] },
      { id: 'join', type: 'task', params: {}, next: [] },
    ],
    defaults: {},
  };

  it('fail_node fails that node, skips what depends on it and still runs independent branches', () => {
    const { steps, end } = run(plan(diamond, { faults: { fail_node: 'left' } }));
    expect(steps.map((s) => [s.node_id, s.status])).toEqual([
      ['start', 'succeeded'],
      ['left', 'failed'],
      ['right', 'succeeded'],
    ]);
    expect(steps[1]).toMatchObject({ output: null, error: "Node 'left' failed: injected fault (fail_node)." });
    // A failed node leaves the context as it found it.
    expect(steps[1]?.context).toEqual(steps[0]?.context);
    expect(end).toMatchObject({ status: 'failed', failed_node: 'left', error: "Node 'left' failed: injected fault (fail_node)." });
    expect(end.context).toEqual(steps[2]?.context);
  });

  it('fail_node works on judgments too', () => {
    const { steps, end } = run(plan(qualityGate(), { faults: { fail_node: 'judge' } }));
    expect(steps.map((s) => s.status)).toEqual(['succeeded', 'failed']);
    expect(end.failed_node).toBe('judge');
  });

  it('crash_at_node interrupts the run before that node completes, with no step for it', () => {
    const { steps, end } = run(plan(qualityGate(), { faults: { crash_at_node: 'judge' } }));
    expect(steps.map((s) => s.node_id)).toEqual(['ingest']);
    expect(end).toEqual({
      status: 'interrupted',
      failed_node: 'judge',
      error: "The run was interrupted at node 'judge' (injected crash) before it completed.",
      context: steps[0]?.context,
    });
  });

  it('validateFaults refuses a fault naming no node', () => {
    expect(() => validateFaults(diamond, { fail_node: 'left' })).not.toThrow();
    const bad: Faults = { crash_at_node: 'lefft' };
    expect(() => validateFaults(diamond, bad)).toThrow(RewindError);
    try {
      validateFaults(diamond, bad);
    } catch (err) {
      expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: { fault: 'crash_at_node', node_id: 'lefft' } });
    }
  });
});

describe('execute: resume', () => {
  // A seed under which the whole chain succeeds, so the full run is the reference.
  const seed = Array.from({ length: 50 }, (_, s) => s).find((s) => run(plan(chain, { seed: s })).end.status === 'succeeded') as number;

  it('runs only the remaining nodes, matching the full run exactly', () => {
    const full = run(plan(chain, { seed }));
    expect(full.steps).toHaveLength(4);
    const resumed = run(plan(chain, { seed, completed: ['a', 'b'], context: full.steps[1]?.context }));
    expect(resumed.steps.map((s) => s.node_id)).toEqual(['c', 'd']);
    expect(resumed.steps).toEqual(full.steps.slice(2));
    expect(resumed.end).toEqual(full.end);
  });

  it('reproduces a seeded failure after the resume point', () => {
    const failsAtD = Array.from({ length: 200 }, (_, s) => s).find((s) => run(plan(chain, { seed: s })).end.failed_node === 'd') as number;
    const full = run(plan(chain, { seed: failsAtD }));
    expect(full.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed']);
    const resumed = run(plan(chain, { seed: failsAtD, completed: ['a', 'b'], context: full.steps[1]?.context }));
    expect(resumed.steps).toEqual(full.steps.slice(2));
    expect(resumed.end).toEqual(full.end);
  });

  it('continues a crashed run to the same end as an uncrashed one', () => {
    const full = run(plan(chain, { seed }));
    const crashed = run(plan(chain, { seed, faults: { crash_at_node: 'c' } }));
    expect(crashed.end.status).toBe('interrupted');
    const done = crashed.steps.filter((s) => s.status === 'succeeded');
    const resumed = run(plan(chain, { seed, completed: done.map((s) => s.node_id), context: done[done.length - 1]?.context }));
    expect(resumed.steps.map((s) => s.node_id)).toEqual(['c', 'd']);
    expect(resumed.end).toEqual(full.end);
  });

  it('reruns a node that failed by fault, once the fault is gone', () => {
    const failed = run(plan(chain, { seed, faults: { fail_node: 'c' } }));
    expect(failed.steps.map((s) => [s.node_id, s.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'failed'],
    ]);
    const resumed = run(plan(chain, { seed, completed: ['a', 'b'], context: failed.steps[1]?.context }));
    expect(resumed.end).toEqual(run(plan(chain, { seed })).end);
  });

  it('ignores the run params when resuming from a context', () => {
    const full = run(plan(chain, { seed }));
    const resumed = run(plan(chain, { seed, params: { x: 100 }, completed: ['a', 'b'], context: full.steps[1]?.context }));
    expect(resumed.end.context.x).toBe(3);
  });
});

describe('initialContext', () => {
  it('puts run params over the DSL defaults, with empty outputs', () => {
    expect(initialContext({ nodes: [{ id: 'a', type: 'task', params: {}, next: [] }], defaults: { a: 1, b: { c: 2 } } }, { b: 3 })).toEqual({ a: 1, b: 3, outputs: {} });
  });

  it('refuses a run parameter named outputs', () => {
    expect(() => initialContext(chain, { outputs: {} })).toThrow(/reserved/);
  });

  it('answers an http node with its sandbox stand-in offline, and hands it to the driver when live', () => {
    const dsl: Dsl = {
      nodes: [
        { id: 'inspect', type: 'http', params: { method: 'GET', url: 'http://127.0.0.1:1/inspect', output_key: 'inspection', sandbox: { output: { defect_rate: 0.2 }, duration_ms: 40 } }, next: ['judge'] },
        { id: 'judge', type: 'judgment', params: { rules: [{ field: 'inspection.defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'ok' }, next: [] },
      ],
      defaults: {},
    };
    const offline = run(plan(dsl));
    expect(offline.requests).toEqual([]);
    expect(offline.steps.map((s) => [s.node_id, s.simulated_ms])).toEqual([['inspect', 40], ['judge', 0]]);
    expect(offline.steps[1]?.output).toMatchObject({ verdict: 'warning', observed: 0.2 });

    const live = run(plan(dsl, { live: true }), () => ({ ok: true, output: { defect_rate: 0.01 } }));
    expect(live.requests.map((r) => r.node.id)).toEqual(['inspect']);
    expect(live.steps[0]?.context).toMatchObject({ inspection: { defect_rate: 0.01 }, outputs: { inspect: { defect_rate: 0.01 } } });
    expect(live.steps[1]?.output).toMatchObject({ verdict: 'ok' });
  });

  it('fails a real node the driver reports as failed and blocks what follows it', () => {
    const dsl: Dsl = {
      nodes: [
        { id: 'gate', type: 'approval', params: { prompt: 'ship it?' }, next: ['after'] },
        { id: 'after', type: 'task', params: { duration_ms: 0 }, next: [] },
      ],
      defaults: {},
    };
    const { steps, end, requests } = run(plan(dsl), () => ({ ok: false, error: "Approval node 'gate': denied by ana." }));
    expect(requests[0]?.node).toMatchObject({ id: 'gate', type: 'approval', params: { prompt: 'ship it?' } });
    expect(steps.map((s) => [s.node_id, s.status])).toEqual([['gate', 'failed']]);
    expect(end).toMatchObject({ status: 'failed', failed_node: 'gate', error: "Approval node 'gate': denied by ana." });
  });
});
