import { describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../../main/backends/engine-backend.js';
import { Engine } from '../../../../main/engine/engine.js';
import { expectRefusal, onCleanup, tempDbPath } from '../fixtures.js';

/** A sandbox whose waits take real time (one simulated ms = one real ms), so a run stays in flight. */
async function realTimeSandbox(path = tempDbPath()): Promise<EngineBackend> {
  const sandbox = new EngineBackend(await Engine.open({ path, timeScale: 1, maxNodeDelayMs: 120_000 }), 'tester');
  onCleanup(() => sandbox.close());
  return sandbox;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

const gated = {
  nodes: [
    { id: 'pause', type: 'wait' as const, params: { duration_ms: 0 }, next: ['gate'] },
    { id: 'gate', type: 'approval' as const, params: { prompt: 'Go?' }, next: ['after'] },
    { id: 'after', type: 'transform' as const, params: { set: { done: true } }, next: [] },
  ],
};

describe('wait and approval nodes in the engine', () => {
  it('cuts a wait short on cancel', async () => {
    const sb = await realTimeSandbox();
    const wf = await sb.call('workflows:create', { name: 'long-wait', dsl: { nodes: [{ id: 'pause', type: 'wait', params: { duration_ms: 60_000 }, next: [] }] } });
    const run = await sb.call('runs:start', { workflow_id: wf.id });
    await sb.call('runs:cancel', { run_id: run.run_id });
    const ended = await sb.engine.runs.wait(run.run_id);
    expect(ended.status).toBe('cancelled');
    expect(await sb.engine.runs.checkpoints(run.run_id)).toEqual([]);
  });

  it('approves a waiting run in-process: the node records who approved, and the run goes on', async () => {
    const sb = await realTimeSandbox();
    const wf = await sb.call('workflows:create', { name: 'gated', dsl: gated });
    const run = await sb.call('runs:start', { workflow_id: wf.id });
    await until(async () => (await sb.engine.runs.get(run.run_id)).status === 'waiting');
    await sb.call('runs:approve', { run_id: run.run_id, decision: 'approve' }, { actor: 'ana' });
    const ended = await sb.engine.runs.wait(run.run_id);
    expect(ended.status).toBe('succeeded');
    const gate = (await sb.engine.runs.checkpoints(run.run_id)).find((c) => c.node_id === 'gate');
    expect(gate?.state).toMatchObject({ output: { decision: 'approve', by: 'ana', comment: null } });
  });

  it('cancels a waiting run; answering it afterwards is refused', async () => {
    const sb = await realTimeSandbox();
    const wf = await sb.call('workflows:create', { name: 'gated', dsl: gated });
    const run = await sb.call('runs:start', { workflow_id: wf.id });
    await until(async () => (await sb.engine.runs.get(run.run_id)).status === 'waiting');
    await sb.call('runs:cancel', { run_id: run.run_id });
    expect((await sb.engine.runs.wait(run.run_id)).status).toBe('cancelled');
    await expectRefusal(() => sb.call('runs:approve', { run_id: run.run_id, decision: 'approve' }), 'RUN_NOT_WAITING', /waiting run/);
  });

  it('a run left waiting by a closed engine is interrupted, and resumes into the same question', async () => {
    const path = tempDbPath();
    const first = new EngineBackend(await Engine.open({ path, timeScale: 1 }), 'tester');
    const wf = await first.call('workflows:create', { name: 'gated', dsl: gated });
    const run = await first.call('runs:start', { workflow_id: wf.id });
    await until(async () => (await first.engine.runs.get(run.run_id)).status === 'waiting');
    await first.close();
    const second = await realTimeSandbox(path);
    expect((await second.engine.runs.get(run.run_id)).status).toBe('interrupted');
    const child = await second.call('runs:resume', { run_id: run.run_id });
    await until(async () => (await second.engine.runs.get(child.run_id)).status === 'waiting');
    await second.call('runs:approve', { run_id: child.run_id, decision: 'deny', comment: 'not today' });
    expect(await second.engine.runs.wait(child.run_id)).toMatchObject({ status: 'denied', failed_node: 'gate', error: "Approval node 'gate': denied by tester: not today." });
  });
});
