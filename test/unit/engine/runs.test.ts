import { describe, expect, it, vi } from 'vitest';
import type { EngineBackend } from '../../../main/backends/engine-backend.js';
import { defectRateVersions } from '../../../main/engine/demo/workflows.js';
import { Engine } from '../../../main/engine/engine.js';
import type { Checkpoint, Dsl, Run, Workflow } from '../../../preload/contract/index.js';
import {
  createWorkflow,
  eventsOf,
  expectRefusal,
  expectRefusalChangesNothing,
  onCleanup,
  openSlowSandbox,
  openTempSandbox,
  pipelineDsl,
  sqliteDb,
  tempDbPath,
} from './fixtures.js';

interface State {
  output: unknown;
  context: Record<string, unknown>;
  error?: string | null;
}

const stateOf = (c: Checkpoint): State => c.state as State;

async function checkpoints(sb: EngineBackend, runId: string): Promise<Checkpoint[]> {
  return (await sb.call('checkpoints:list', { run_id: runId })).checkpoints;
}

function expectSeqsIncreasing(cps: Checkpoint[]): void {
  expect(cps.map((c) => c.seq)).toEqual(cps.map((_, i) => i + 1));
}

/** `pipeline`: v1 = extract → train → evaluate → deploy (active). */
async function pipeline(sb: EngineBackend): Promise<Workflow> {
  return createWorkflow(sb, 'pipeline', pipelineDsl());
}

/** pipelineDsl with `train` renamed `fit`: a run that completed train cannot resume under it. */
function renamedTrain(): Dsl {
  const dsl = pipelineDsl();
  for (const n of dsl.nodes) {
    if (n.id === 'train') n.id = 'fit';
    n.next = n.next.map((id) => (id === 'train' ? 'fit' : id));
  }
  return dsl;
}

describe('runs: start', () => {
  it('runs the active version to success, pinned to it, with one checkpoint per node in order', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id, params: { accuracy: 0.95 }, seed: 7, wait: true }, { actor: 'ops' });
    expect(run).toMatchObject({ workflow_id: wf.id, version: 1, status: 'succeeded', kind: 'start', seed: 7, parent_run_id: null, resumed_from_seq: null, error: null, failed_node: null, created_by: 'ops' });
    expect(run.params).toEqual({ accuracy: 0.95 });
    expect(run.started_at).not.toBeNull();
    expect(run.finished_at).not.toBeNull();
    const cps = await checkpoints(sb, run.run_id);
    expect(cps.map((c) => [c.seq, c.node_id, c.status])).toEqual([
      [1, 'extract', 'succeeded'],
      [2, 'train', 'succeeded'],
      [3, 'evaluate', 'succeeded'],
      [4, 'deploy', 'succeeded'],
    ]);
    expect(stateOf(cps[2]!).output).toEqual({ verdict: 'promote', matched_rule: null, observed: 0.95 });
    expect(stateOf(cps[3]!).output).toEqual({ deployed: true });
    const types = (await eventsOf(sb.engine)).filter((e) => e.run_id === run.run_id).map((e) => e.type);
    expect(types).toEqual(['run_started', 'run_succeeded']);
    expect(await sb.call('checkpoints:get', { run_id: run.run_id, seq: 2 })).toMatchObject({ node_id: 'train', status: 'succeeded' });
    await expectRefusal(() => sb.call('checkpoints:get', { run_id: run.run_id, seq: 5 }), 'CHECKPOINT_NOT_FOUND', 'List the run’s checkpoints');
  });

  it('runs a named older version when asked', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ withValidate: true }) });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const onV1 = await sb.call('runs:start', { workflow_id: wf.id, version: 1, wait: true });
    expect(onV1.version).toBe(1);
    expect((await checkpoints(sb, onV1.run_id)).map((c) => c.node_id)).toEqual(['extract', 'train', 'evaluate', 'deploy']);
    const onActive = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    expect(onActive.version).toBe(2);
    expect((await checkpoints(sb, onActive.run_id)).map((c) => c.node_id)).toEqual(['extract', 'validate', 'train', 'evaluate', 'deploy']);
  });

  it('is deterministic: the same seed gives the same checkpoints', async () => {
    const sb = await openTempSandbox();
    const flaky: Dsl = { defaults: {}, nodes: [{ id: 'a', type: 'task', params: { failure_rate: 0.5, output: { ok: true } }, next: [] }] };
    const wf = await createWorkflow(sb, 'flaky', flaky);
    const outcomes = new Set<string>();
    for (let i = 0; i < 3; i += 1) outcomes.add((await sb.call('runs:start', { workflow_id: wf.id, seed: 4242, wait: true })).status);
    expect(outcomes.size).toBe(1);
  });

  it('refuses a paused workflow with WORKFLOW_PAUSED, an overridden one with WORKFLOW_OVERRIDDEN', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    await sb.call('workflows:pause', { workflow_id: wf.id });
    const paused = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id }), 'WORKFLOW_PAUSED', 'Unpause it first');
    expect(paused.details).toEqual({ workflow_id: wf.id, status: 'paused' });

    const manual = await createWorkflow(sb, 'etl', pipelineDsl());
    await createWorkflow(sb, 'etl', pipelineDsl(), { source_type: 'CODE' });
    await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: manual.id }), 'WORKFLOW_OVERRIDDEN', 'Run the CODE workflow');
  });

  it('refuses a workflow without a published version with NO_ACTIVE_VERSION, and a missing version with VERSION_NOT_FOUND', async () => {
    const sb = await openTempSandbox();
    const empty = await createWorkflow(sb, 'empty', null);
    await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: empty.id }), 'NO_ACTIVE_VERSION', 'Publish a version');
    const wf = await pipeline(sb);
    await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, version: 5 }), 'VERSION_NOT_FOUND', 'List its versions');
  });

  it('refuses a fault naming no node of the version with VALIDATION_FAILED (a rehearsal must not be silently fault-free)', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'trian' }, wait: true }), 'VALIDATION_FAILED', 'Pick one of its nodes');
    expect(err.message).toContain('trian');
  });

  it("refuses the reserved run parameter 'outputs' at start with RESERVED_PARAM", async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, params: { outputs: 1 }, wait: true }), 'RESERVED_PARAM', "Remove 'outputs' from the params");
  });

  it('refuses unknown runs with RUN_NOT_FOUND', async () => {
    const sb = await openTempSandbox();
    await expectRefusal(() => sb.call('runs:get', { run_id: 'nope' }), 'RUN_NOT_FOUND', 'List the runs');
    await expectRefusal(() => sb.call('runs:resume', { run_id: 'nope' }), 'RUN_NOT_FOUND', 'List the runs');
    await expectRefusal(() => sb.call('checkpoints:list', { run_id: 'nope' }), 'RUN_NOT_FOUND', 'List the runs');
  });

  it('lists runs newest first, filtered by workflow and status', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const other = await createWorkflow(sb, 'other', pipelineDsl());
    const a = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    const b = await sb.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'deploy' }, wait: true });
    await sb.call('runs:start', { workflow_id: other.id, wait: true });
    const mine = await sb.call('runs:list', { workflow_id: wf.id });
    expect(mine.total).toBe(2);
    expect(mine.runs.map((r) => r.run_id)).toEqual([b.run_id, a.run_id]);
    expect((await sb.call('runs:list', { status: 'failed' })).runs.map((r) => r.run_id)).toEqual([b.run_id]);
    expect((await sb.call('runs:list', {})).total).toBe(3);
  });
});

describe('runs: faults', () => {
  it('fail_node: the run fails at that node, with a failed checkpoint and its descendants not run', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'train' }, wait: true });
    expect(run).toMatchObject({ status: 'failed', failed_node: 'train' });
    expect(run.faults).toEqual({ fail_node: 'train' });
    expect(run.error).toContain('injected fault');
    const cps = await checkpoints(sb, run.run_id);
    expect(cps.map((c) => [c.seq, c.node_id, c.status])).toEqual([
      [1, 'extract', 'succeeded'],
      [2, 'train', 'failed'],
    ]);
    expect(stateOf(cps[1]!).output).toBeNull();
    expect(stateOf(cps[1]!).error).toContain("Node 'train' failed");
    const failed = (await eventsOf(sb.engine)).find((e) => e.run_id === run.run_id && e.type === 'run_failed');
    expect(failed?.payload).toMatchObject({ version: 1, failed_node: 'train' });
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).failed_runs).toBe(1);
  });

  it('a failing task (failure_rate 1) fails the run with its own error', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'pipeline', pipelineDsl({ deployFails: true }));
    const run = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    expect(run).toMatchObject({ status: 'failed', failed_node: 'deploy', error: 'registry refused the upload' });
    expect((await checkpoints(sb, run.run_id)).map((c) => c.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed']);
  });

  it('crash_at_node: the run is interrupted before that node, with the checkpoints before it', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id, faults: { crash_at_node: 'evaluate' }, wait: true });
    expect(run).toMatchObject({ status: 'interrupted', failed_node: 'evaluate' });
    expect(run.error).toContain('interrupted');
    expect((await checkpoints(sb, run.run_id)).map((c) => [c.node_id, c.status])).toEqual([
      ['extract', 'succeeded'],
      ['train', 'succeeded'],
    ]);
    expect((await eventsOf(sb.engine)).filter((e) => e.run_id === run.run_id).map((e) => e.type)).toEqual(['run_started', 'run_interrupted']);
  });
});

describe('runs: resume', () => {
  it('starts a child run after the last good checkpoint, restoring the checkpoints, and succeeds', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const parent = await sb.call('runs:start', { workflow_id: wf.id, params: { accuracy: 0.97 }, seed: 3, faults: { fail_node: 'evaluate' }, wait: true });
    const parentCps = await checkpoints(sb, parent.run_id);
    const child = await sb.call('runs:resume', { run_id: parent.run_id, wait: true }, { actor: 'oncall' });
    expect(child).toMatchObject({ kind: 'resume', status: 'succeeded', parent_run_id: parent.run_id, version: 1, resumed_from_seq: 2, seed: 3, created_by: 'oncall' });
    expect(child.run_id).not.toBe(parent.run_id);
    expect(child.params).toEqual({ accuracy: 0.97 });
    const cps = await checkpoints(sb, child.run_id);
    expectSeqsIncreasing(cps);
    expect(cps.map((c) => [c.node_id, c.status])).toEqual([
      ['extract', 'restored'],
      ['train', 'restored'],
      ['evaluate', 'succeeded'],
      ['deploy', 'succeeded'],
    ]);
    expect(cps[0]!.state).toEqual(parentCps[0]!.state);
    expect(cps[1]!.state).toEqual(parentCps[1]!.state);
    // the context carried over: evaluate read the run's accuracy param
    expect(stateOf(cps[2]!).output).toMatchObject({ verdict: 'promote', observed: 0.97 });
    // the parent stays as it was, for the record
    expect(await sb.call('runs:get', { run_id: parent.run_id })).toEqual(parent);
    expect(await checkpoints(sb, parent.run_id)).toEqual(parentCps);
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).failed_runs).toBe(0);
    const started = (await eventsOf(sb.engine)).find((e) => e.run_id === child.run_id && e.type === 'run_started');
    expect(started?.payload).toMatchObject({ kind: 'resume', parent_run_id: parent.run_id, resumed_from_seq: 2 });
  });

  it('resumes an interrupted run under another, compatible version', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const parent = await sb.call('runs:start', { workflow_id: wf.id, faults: { crash_at_node: 'deploy' }, wait: true });
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ withValidate: true }) });
    const compat = await sb.call('runs:compatibility', { run_id: parent.run_id, version: 2 });
    expect(compat).toMatchObject({ compatible: true, completed_nodes: ['extract', 'train', 'evaluate'], missing_nodes: [], resume_after_seq: 3 });
    const child = await sb.call('runs:resume', { run_id: parent.run_id, version: 2, wait: true });
    expect(child).toMatchObject({ status: 'succeeded', version: 2, resumed_from_seq: 3 });
    const cps = await checkpoints(sb, child.run_id);
    expectSeqsIncreasing(cps);
    expect(cps.slice(0, 3).map((c) => c.status)).toEqual(['restored', 'restored', 'restored']);
    expect(cps.slice(3).map((c) => c.node_id).sort()).toEqual(['deploy', 'validate']);
  });

  it('a resume can itself fail and be resumed again', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const first = await sb.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'train' }, wait: true });
    const second = await sb.call('runs:resume', { run_id: first.run_id, faults: { fail_node: 'deploy' }, wait: true });
    expect(second).toMatchObject({ status: 'failed', failed_node: 'deploy', resumed_from_seq: 1 });
    const third = await sb.call('runs:resume', { run_id: second.run_id, wait: true });
    expect(third).toMatchObject({ status: 'succeeded', resumed_from_seq: 3, parent_run_id: second.run_id });
    expect((await checkpoints(sb, third.run_id)).map((c) => [c.node_id, c.status])).toEqual([
      ['extract', 'restored'],
      ['train', 'restored'],
      ['evaluate', 'restored'],
      ['deploy', 'succeeded'],
    ]);
  });

  it('refuses a version missing completed nodes with RESUME_INCOMPATIBLE naming them', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const parent = await sb.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'deploy' }, wait: true });
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: renamedTrain() });
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:resume', { run_id: parent.run_id, version: 2 }), 'RESUME_INCOMPATIBLE', 'Resume under a version that has those nodes');
    expect(err.message).toContain('train');
    expect(err.details).toEqual({ run_id: parent.run_id, version: 2, missing_nodes: ['train'] });
    const compat = await sb.call('runs:compatibility', { run_id: parent.run_id, version: 2 });
    expect(compat).toMatchObject({ compatible: false, missing_nodes: ['train'] });
  });

  it('refuses a succeeded run with RUN_NOT_RESUMABLE', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:resume', { run_id: run.run_id }), 'RUN_NOT_RESUMABLE', 'Start a new run, or replay');
    expect(err.details).toEqual({ run_id: run.run_id, status: 'succeeded' });
  });

  it('refuses a running run with RUN_NOT_FINISHED, for resume and for replay', async () => {
    const sb = await openSlowSandbox(300);
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id });
    expect(run.status).toBe('running');
    await expectRefusal(() => sb.call('runs:resume', { run_id: run.run_id }), 'RUN_NOT_FINISHED', 'Wait for it to end, or cancel it first');
    await expectRefusal(() => sb.call('runs:replay', { run_id: run.run_id, version: 1 }), 'RUN_NOT_FINISHED', 'Wait for it to end, or cancel it');
    await sb.call('runs:cancel', { run_id: run.run_id });
  });
});

describe('runs: replay', () => {
  it('re-runs a 4 % defect rate under the 3 % version: pass becomes warning, a node-by-node diff', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'defect-rate', defectRateVersions[0]!.dsl);
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: defectRateVersions[1]!.dsl });
    const original = await sb.call('runs:start', { workflow_id: wf.id, params: { defect_rate: 0.04 }, seed: 11, wait: true });
    expect(original.status).toBe('succeeded');
    const result = await sb.call('runs:replay', { run_id: original.run_id, version: 2 });
    expect(result.original.run_id).toBe(original.run_id);
    expect(result.replay).toMatchObject({ kind: 'replay', parent_run_id: original.run_id, version: 2, status: 'succeeded', seed: 11 });
    expect(result.replay.params).toEqual({ defect_rate: 0.04 });
    expect(result.changed).toBe(2);
    const byNode = Object.fromEntries(result.outcomes.map((o) => [o.node_id, o]));
    expect(result.outcomes.map((o) => o.node_id)).toEqual(['collect_samples', 'judge_defect_rate', 'record_verdict']);
    expect(byNode['collect_samples']!.changed).toBe(false);
    expect(byNode['judge_defect_rate']).toMatchObject({ changed: true, before: { output: { verdict: 'pass' } }, after: { output: { verdict: 'warning' } } });
    expect(byNode['record_verdict']!.changed).toBe(true);
    // a replay is not an open incident and leaves the original alone
    expect(await sb.call('runs:get', { run_id: original.run_id })).toEqual(original);
  });

  it('replaying on the same version changes nothing', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'defect-rate', defectRateVersions[0]!.dsl);
    const original = await sb.call('runs:start', { workflow_id: wf.id, params: { defect_rate: 0.07 }, wait: true });
    const result = await sb.call('runs:replay', { run_id: original.run_id, version: 1 });
    expect(result.changed).toBe(0);
    expect(result.outcomes).toHaveLength(3);
    expect(result.outcomes.every((o) => !o.changed)).toBe(true);
  });
});

describe('runs: cancel', () => {
  it('cancels a running run (no more checkpoints), then refuses a second cancel with RUN_NOT_CANCELLABLE', async () => {
    const sb = await openSlowSandbox(150);
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id });
    const cancelled = await sb.call('runs:cancel', { run_id: run.run_id }, { actor: 'oncall' });
    expect(cancelled).toMatchObject({ status: 'cancelled', error: 'Cancelled by oncall' });
    expect(cancelled.finished_at).not.toBeNull();
    const settled = await sb.engine.runs.wait(run.run_id);
    expect(settled.status).toBe('cancelled');
    expect(await checkpoints(sb, run.run_id)).toEqual([]);
    expect((await eventsOf(sb.engine)).filter((e) => e.run_id === run.run_id).map((e) => e.type)).toEqual(['run_started', 'run_cancelled']);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:cancel', { run_id: run.run_id }), 'RUN_NOT_CANCELLABLE', 'Only queued or running runs can be cancelled');
    expect(err.details).toEqual({ run_id: run.run_id });
    // a cancelled run can be resumed
    const resumed = await sb.call('runs:resume', { run_id: run.run_id, wait: true });
    expect(resumed.status).toBe('succeeded');
  });

  it('refuses to cancel a succeeded run with RUN_NOT_CANCELLABLE', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const run = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:cancel', { run_id: run.run_id }), 'RUN_NOT_CANCELLABLE', 'Only queued or running runs');
  });
});

describe('runs: pinned to their version', () => {
  it('a running run finishes on its version after a publish and a rollback', async () => {
    const sb = await openSlowSandbox(30);
    const wf = await pipeline(sb);
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ withValidate: true }) });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const run = await sb.call('runs:start', { workflow_id: wf.id });
    expect(run.version).toBe(2);
    await sb.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: renamedTrain() });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 3 });
    const done = await sb.engine.runs.wait(run.run_id);
    expect(done).toMatchObject({ status: 'succeeded', version: 2 });
    expect((await checkpoints(sb, run.run_id)).map((c) => c.node_id)).toEqual(['extract', 'validate', 'train', 'evaluate', 'deploy']);
  });

  it('a finished run keeps its version; new runs use the new active one', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    const before = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ withValidate: true }) });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    expect((await sb.call('runs:get', { run_id: before.run_id })).version).toBe(1);
    const after = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    expect(after.version).toBe(2);
    await sb.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    expect((await sb.call('runs:get', { run_id: after.run_id })).version).toBe(2);
  });
});

describe('runs: orphans', () => {
  it('marks runs left running by a dead process interrupted when the file is reopened, and they resume', async () => {
    const path = tempDbPath();
    let orphan: Run;
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      // Nodes take simulated time; the fake clock lets extract finish, then the "process" dies in train.
      const dying = await Engine.open({ path, timeScale: 1, maxNodeDelayMs: 600_000 });
      const wf = await dying.workflows.create({ name: 'pipeline', description: '', dsl: pipelineDsl(), source_type: 'MANUAL' }, 'tester');
      orphan = await dying.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false, seed: 5 }, 'tester');
      expect(orphan.status).toBe('running');
      await vi.advanceTimersByTimeAsync(1000);
      expect((await dying.runs.checkpoints(orphan.run_id)).map((c) => c.node_id)).toEqual(['extract']);
      sqliteDb(dying).close(); // the handle goes away with the run still 'running'
    } finally {
      vi.useRealTimers();
    }

    const engine = await Engine.open({ path, systemActor: 'rewind-recovery' });
    onCleanup(() => engine.close());
    const after = await engine.runs.get(orphan.run_id);
    expect(after).toMatchObject({ status: 'interrupted', error: 'The process running it stopped after node extract.' });
    expect(after.finished_at).not.toBeNull();
    const ev = (await engine.events.list(0, 100)).filter((e) => e.run_id === orphan.run_id);
    expect(ev.map((e) => [e.type, e.actor])).toEqual([
      ['run_started', 'tester'],
      ['run_interrupted', 'rewind-recovery'],
    ]);
    expect((await engine.verifyChain()).ok).toBe(true);

    const child = await engine.runs.resume({ run_id: orphan.run_id, faults: {}, wait: false }, 'oncall');
    const done = await engine.runs.wait(child.run_id);
    expect(done).toMatchObject({ status: 'succeeded', resumed_from_seq: 1 });
    expect((await engine.runs.checkpoints(child.run_id)).map((c) => [c.seq, c.node_id, c.status])).toEqual([
      [1, 'extract', 'restored'],
      [2, 'train', 'succeeded'],
      [3, 'evaluate', 'succeeded'],
      [4, 'deploy', 'succeeded'],
    ]);
  });
});

describe('runs: rollback preview', () => {
  it('lists the diff, in-flight runs on other versions, and unresolved runs with their compatibility', async () => {
    const sb = await openSlowSandbox(400);
    const wf = await pipeline(sb); // v1
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ withValidate: true }) });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: renamedTrain() }); // v3 draft
    // An unresolved failure on v1 at train (only extract done): resumable under v1.
    const earlyOnV1 = await sb.call('runs:start', { workflow_id: wf.id, version: 1, faults: { crash_at_node: 'extract' }, wait: true });
    // An unresolved failure on v2 that got through validate: not resumable under v1 (no validate there).
    const lateOnV2 = await sb.call('runs:start', { workflow_id: wf.id, faults: { crash_at_node: 'train' } });
    await sb.engine.runs.wait(lateOnV2.run_id);
    // A resolved failure: resumed already, so not listed.
    const resolved = await sb.call('runs:start', { workflow_id: wf.id, version: 1, faults: { crash_at_node: 'extract' }, wait: true });
    const resolvedChild = await sb.call('runs:resume', { run_id: resolved.run_id, faults: { crash_at_node: 'extract' }, wait: true });
    // In flight: one on v2 (listed) and one on v1 (the target: not listed).
    const flightV2 = await sb.call('runs:start', { workflow_id: wf.id });
    const flightV1 = await sb.call('runs:start', { workflow_id: wf.id, version: 1 });

    const wfNow = await sb.call('workflows:get', { workflow_id: wf.id });
    const preview = await sb.call('versions:rollbackPreview', { workflow_id: wf.id, version: 1 });
    expect(preview).toMatchObject({ workflow_id: wf.id, workflow_name: 'pipeline', from_version: 2, to_version: 1, revision: wfNow.revision, refusal: null });
    expect(preview.diff).toMatchObject({ removed: ['validate'], added: [] });
    expect(preview.in_flight.map((r) => r.run_id)).toEqual([flightV2.run_id]);
    expect(preview.in_flight.map((r) => r.run_id)).not.toContain(flightV1.run_id);
    const listed = Object.fromEntries(preview.resumable.map((r) => [r.run.run_id, r.compatibility]));
    expect(Object.keys(listed).sort()).toEqual([earlyOnV1.run_id, lateOnV2.run_id, resolvedChild.run_id].sort());
    expect(listed[earlyOnV1.run_id]).toMatchObject({ compatible: true, completed_nodes: [], version: 1 });
    expect(listed[lateOnV2.run_id]).toMatchObject({ compatible: false, completed_nodes: ['extract', 'validate'], missing_nodes: ['validate'] });
    expect(listed[resolved.run_id]).toBeUndefined();
    // A preview changes nothing.
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).revision).toBe(wfNow.revision);
    await sb.call('runs:cancel', { run_id: flightV1.run_id });
    await sb.call('runs:cancel', { run_id: flightV2.run_id });
  });

  it('carries the refusal (code, message, hint) for a target the rollback would refuse, and no diff', async () => {
    const sb = await openTempSandbox();
    const wf = await pipeline(sb);
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: renamedTrain() });
    const draft = await sb.call('versions:rollbackPreview', { workflow_id: wf.id, version: 2 });
    expect(draft.refusal).toMatchObject({ code: 'ROLLBACK_VERSION_DRAFT' });
    expect(draft.refusal?.hint).toContain('Publish it instead');
    expect(draft.diff).toBeNull();
    const active = await sb.call('versions:rollbackPreview', { workflow_id: wf.id, version: 1 });
    expect(active.refusal).toMatchObject({ code: 'ROLLBACK_ALREADY_ACTIVE' });
    expect(active.refusal?.hint).toContain('pick an earlier version');
    expect(active.diff).toBeNull();
    const missing = await sb.call('versions:rollbackPreview', { workflow_id: wf.id, version: 9 });
    expect(missing).toMatchObject({ to_version: 9, from_version: 1, diff: null, resumable: [] });
    expect(missing.refusal).toMatchObject({ code: 'ROLLBACK_VERSION_MISSING' });
    expect(missing.refusal?.hint).toContain('Pick one of the versions on its timeline');
  });
});
