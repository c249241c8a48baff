import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import type { Dsl, RewindEvent } from '../../../preload/contract/entities.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';

/*
 * Run takeover on each store, in one process: two engines on one store stand for two replicas. The
 * first one's lease is made to expire (as when its process stops renewing it); the second claims the
 * run and continues it — the same run_id, after its last checkpoint — while the first, still
 * executing, finds the run no longer its own at its next checkpoint and writes nothing more.
 */

const dsl: Dsl = {
  defaults: { defect_rate: 0.04 },
  nodes: [
    { id: 'extract', type: 'task', params: { duration_ms: 1 }, next: ['load'] },
    { id: 'load', type: 'task', params: { duration_ms: 60_000 }, next: ['judge'] },
    { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'pass' }, next: ['report'] },
    { id: 'report', type: 'transform', params: { set: { 'report.done': true } }, next: [] },
  ],
};

/** A branch fails early; the takeover must not run its descendant, and the run still ends failed. */
const branching: Dsl = {
  defaults: {},
  nodes: [
    { id: 'start', type: 'task', params: { duration_ms: 1 }, next: ['bad', 'slow'] },
    { id: 'bad', type: 'task', params: { duration_ms: 1, failure_rate: 1 }, next: ['after_bad'] },
    { id: 'after_bad', type: 'task', params: { duration_ms: 1 }, next: [] },
    { id: 'slow', type: 'task', params: { duration_ms: 60_000 }, next: ['end'] },
    { id: 'end', type: 'task', params: { duration_ms: 1 }, next: [] },
  ],
};

/** A run that stops at an approval gate, with no timeout. */
const gated: Dsl = {
  defaults: {},
  nodes: [
    { id: 'start', type: 'task', params: { duration_ms: 1 }, next: ['gate'] },
    { id: 'gate', type: 'approval', params: { prompt: 'Ship it?' }, next: ['ship'] },
    { id: 'ship', type: 'transform', params: { set: { shipped: true } }, next: [] },
  ],
};

const expire = (engine: Engine) => engine.store.read.run("UPDATE runners SET lease_until = '2000-01-01T00:00:00.000Z' WHERE replica = ?", ['replica-a']);

describe.each(stores)('run takeover on $kind', (factory) => {
  const open: Engine[] = [];
  afterEach(async () => {
    for (const e of open.splice(0)) await e.close();
  });
  afterAll(() => factory.dispose());

  async function pair(name: string): Promise<[Engine, Engine]> {
    const first = await factory.open(name);
    // A: executes slowly (its long node sleeps 1.5 s) and never takes anything over.
    const a = await Engine.open({ store: first, timeScale: 1, maxNodeDelayMs: 1500, replicaId: 'replica-a', leaseMs: 60_000 });
    open.push(a);
    // B: a server's engine; its own sweep waits a minute, so the test drives the passes.
    const b = await Engine.open({ store: await openStoreAt(factory.location(name), 'replica-b'), takeover: true, replicaId: 'replica-b', leaseMs: 60_000 });
    open.push(b);
    return [a, b];
  }

  async function events(engine: Engine, runId: string): Promise<RewindEvent[]> {
    return (await engine.events.list(0, 1000)).filter((e) => e.run_id === runId);
  }

  it('continues the same run after its last checkpoint; the first runner writes nothing more', async () => {
    const [a, b] = await pair('takeover');
    const wf = await a.workflows.create({ name: 'takeover', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const run = await a.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    await until(async () => (await b.runs.checkpoints(run.run_id)).length === 1);

    // A live lease is left alone.
    expect(await b.takeOverExpiredRuns()).toBe(0);
    await expire(a);
    expect(await b.takeOverExpiredRuns()).toBe(1);
    // A second pass finds nothing: the run is B's now.
    expect(await b.takeOverExpiredRuns()).toBe(0);
    const done = await b.runs.wait(run.run_id);
    expect(done).toMatchObject({ run_id: run.run_id, status: 'succeeded' });

    // A's driver wakes from its long node and finds the run no longer its own.
    await a.runs.wait(run.run_id);
    const checkpoints = await b.runs.checkpoints(run.run_id);
    expect(checkpoints.map((c) => [c.seq, c.node_id, c.status])).toEqual([
      [1, 'extract', 'succeeded'],
      [2, 'load', 'succeeded'],
      [3, 'judge', 'succeeded'],
      [4, 'report', 'succeeded'],
    ]);
    // The context carried over: the report's state holds what extract and load wrote.
    expect((checkpoints[3]!.state as { context: { outputs: Record<string, unknown> } }).context.outputs).toHaveProperty('extract');

    const log = await events(b, run.run_id);
    expect(log.map((e) => e.type)).toEqual(['run_started', 'run_taken_over', 'run_succeeded']);
    expect(log[1]!.payload).toMatchObject({ run_id: run.run_id, from_replica: 'replica-a', to_replica: 'replica-b', after_seq: 1 });
    expect(await b.verifyChain()).toMatchObject({ ok: true });
  });

  it('keeps a failed branch failed: its descendant does not run, and the run ends failed with the first failure', async () => {
    const [a, b] = await pair('takeover_failed');
    const wf = await a.workflows.create({ name: 'branching', description: '', dsl: branching, source_type: 'MANUAL' }, 'op');
    const run = await a.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    // start and bad are checkpointed before the long node.
    await until(async () => (await b.runs.checkpoints(run.run_id)).some((c) => c.node_id === 'bad'));
    await expire(a);
    expect(await b.takeOverExpiredRuns()).toBe(1);
    const done = await b.runs.wait(run.run_id);
    await a.runs.wait(run.run_id);
    expect(done).toMatchObject({ status: 'failed', failed_node: 'bad' });
    const nodes = (await b.runs.checkpoints(run.run_id)).map((c) => c.node_id);
    expect(nodes).not.toContain('after_bad');
    expect(nodes.filter((n) => n === 'slow')).toHaveLength(1);
    expect(nodes).toContain('end');
  });

  it.each(['approve', 'deny'] as const)('an answer (%s) given while no replica ran the waiting run stands after the takeover: not asked again', async (decision) => {
    const first = await factory.open(`takeover_gate_${decision}`);
    // A: a server's engine, so closing it hands its runs over instead of interrupting them.
    const a = await Engine.open({ store: first, takeover: true, replicaId: 'replica-a', leaseMs: 60_000 });
    const b = await Engine.open({ store: await openStoreAt(factory.location(`takeover_gate_${decision}`), 'replica-b'), takeover: true, replicaId: 'replica-b', leaseMs: 60_000 });
    open.push(b);
    const wf = await a.workflows.create({ name: `gated-${decision}`, description: '', dsl: gated, source_type: 'MANUAL' }, 'op');
    const run = await a.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    await until(async () => (await b.runs.get(run.run_id)).status === 'waiting');

    await a.close();
    // In the gap: the run waits, and nobody runs it. The answer is acknowledged by B.
    expect(await b.runs.approve({ run_id: run.run_id, decision, comment: 'from the gap' }, 'mina')).toMatchObject({ status: 'running' });
    expect(await b.takeOverExpiredRuns()).toBe(1);
    const done = await b.runs.wait(run.run_id);

    // A deny is an outcome of its own, not a failure: the run ends denied, logged as approval_denied.
    expect(done.status).toBe(decision === 'approve' ? 'succeeded' : 'denied');
    if (decision === 'deny') expect(done.error).toContain('denied by mina: from the gap');
    const types = (await events(b, run.run_id)).map((e) => e.type);
    expect(types.filter((t) => t === 'approval_requested')).toHaveLength(1);
    expect(types).toEqual(['run_started', 'approval_requested', decision === 'approve' ? 'approval_given' : 'approval_denied', 'run_taken_over', decision === 'approve' ? 'run_succeeded' : 'run_denied']);
    const gate = (await b.runs.checkpoints(run.run_id)).find((c) => c.node_id === 'gate')!;
    expect(gate.status).toBe(decision === 'approve' ? 'succeeded' : 'failed');
  });

  it('a run cancelled on another replica stops at its next checkpoint and is not finished over', async () => {
    const [a, b] = await pair('takeover_cancel');
    const wf = await a.workflows.create({ name: 'cancel-elsewhere', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const run = await a.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    await until(async () => (await b.runs.checkpoints(run.run_id)).length === 1);
    await b.runs.cancel(run.run_id, 'other-operator');
    await a.runs.wait(run.run_id);
    expect(await a.runs.get(run.run_id)).toMatchObject({ status: 'cancelled' });
    expect((await a.runs.checkpoints(run.run_id)).map((c) => c.node_id)).toEqual(['extract']);
    expect((await events(a, run.run_id)).map((e) => e.type)).toEqual(['run_started', 'run_cancelled']);
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached within 5 s');
}
