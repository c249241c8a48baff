import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { incidentSummary } from '../../../main/engine/incidents.js';
import type { Dsl, RewindEvent, Run } from '../../../preload/contract/index.js';
import { stores } from '../../support/stores.js';

/*
 * Approvals on both stores: what an approver judges by (the prompt, who asks, what the run has done)
 * and a deny as an outcome of its own — `approval_denied`, a `denied` run that no incident, badge or
 * health figure counts as a failure, and that resumes into the same question.
 */

const gated: Dsl = {
  defaults: {},
  nodes: [
    { id: 'build', type: 'task', params: { duration_ms: 0, output: { artifact: 'r42' } }, next: ['test'] },
    { id: 'test', type: 'task', params: { duration_ms: 0 }, next: ['gate'] },
    { id: 'gate', type: 'approval', params: { prompt: 'Ship the nightly release to production?' }, next: ['ship'] },
    { id: 'ship', type: 'transform', params: { set: { shipped: true } }, next: [] },
  ],
};

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached within 10 s');
}

describe.each(stores)('approvals on $kind', (factory) => {
  const open: EngineBackend[] = [];
  let n = 0;
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
  });
  afterAll(() => factory.dispose());

  async function waitingRun(): Promise<{ b: EngineBackend; run: Run; workflowId: string }> {
    n += 1;
    const b = new EngineBackend(await Engine.open({ store: await factory.open(`approvals${n}`), timeScale: 1 }), 'mina');
    open.push(b);
    const wf = await b.call('workflows:create', { name: 'release-gate', dsl: gated });
    const run = await b.call('runs:start', { workflow_id: wf.id, trigger: 'api' }, { actor: 'ci-bot' });
    await until(async () => (await b.call('runs:get', { run_id: run.run_id })).status === 'waiting');
    return { b, run, workflowId: wf.id };
  }
  const runEvents = async (b: EngineBackend, workflowId: string, runId: string): Promise<RewindEvent[]> => b.engine.events.list(0, 1000, workflowId, runId);

  it('lists a waiting run with its prompt, who asks (run, version, trigger) and what it has done so far', async () => {
    const { b, run } = await waitingRun();
    const { approvals, total } = await b.call('approvals:list', {});
    expect(total).toBe(1);
    expect(approvals[0]).toMatchObject({
      run: { run_id: run.run_id, version: 1, trigger: 'api', created_by: 'ci-bot', status: 'waiting' },
      workflow_name: 'release-gate',
      node_id: 'gate',
      prompt: 'Ship the nightly release to production?',
      timeout_ms: null,
      done: ['build', 'test'],
      nodes_total: 4,
    });
    expect(approvals[0]!.requested_at).not.toBeNull();
    expect((await b.call('approvals:list', { run_id: 'nope' })).approvals).toEqual([]);
    // The request itself carries the same, for a notification or a webhook that sees only the event.
    const requested = (await runEvents(b, run.workflow_id, run.run_id)).find((e) => e.type === 'approval_requested');
    expect(requested?.payload).toMatchObject({ node_id: 'gate', version: 1, prompt: 'Ship the nightly release to production?', trigger: 'api', started_by: 'ci-bot', done: ['build', 'test'] });
  });

  it('a deny ends the run denied, logged as approval_denied: no incident, no failure badge, no failed health', async () => {
    const { b, run, workflowId } = await waitingRun();
    await b.call('runs:approve', { run_id: run.run_id, decision: 'deny', comment: 'not on a Friday' }, { actor: 'ana' });
    const ended = await b.engine.runs.wait(run.run_id);
    expect(ended).toMatchObject({ status: 'denied', failed_node: 'gate', error: "Approval node 'gate': denied by ana: not on a Friday." });
    const types = (await runEvents(b, workflowId, run.run_id)).map((e) => e.type);
    expect(types).toEqual(['run_started', 'approval_requested', 'approval_denied', 'run_denied']);
    const denied = (await runEvents(b, workflowId, run.run_id)).find((e) => e.type === 'approval_denied');
    expect(denied).toMatchObject({ actor: 'ana', payload: { node_id: 'gate', decision: 'deny', comment: 'not on a Friday' } });

    const summary = await incidentSummary(b.engine.store.read, new Date());
    expect(summary.failing).toEqual([]);
    expect((await b.call('workflows:get', { workflow_id: workflowId })).failed_runs).toBe(0);
    const health = await b.call('workflows:health', { workflow_id: workflowId });
    expect(health.versions.find((v) => v.version === 1)?.failed ?? 0).toBe(0);
    expect((await b.call('runs:list', { status: 'denied' })).runs.map((r) => r.run_id)).toEqual([run.run_id]);
    expect((await b.call('approvals:list', {})).total).toBe(0);
  });

  it('an approval is still approval_given, and the run goes on', async () => {
    const { b, run, workflowId } = await waitingRun();
    await b.call('runs:approve', { run_id: run.run_id, decision: 'approve' }, { actor: 'ana' });
    expect((await b.engine.runs.wait(run.run_id)).status).toBe('succeeded');
    expect((await runEvents(b, workflowId, run.run_id)).map((e) => e.type)).toEqual(['run_started', 'approval_requested', 'approval_given', 'run_succeeded']);
  });

  it('a denied run resumes into the same question, after the nodes it had done', async () => {
    const { b, run } = await waitingRun();
    await b.call('runs:approve', { run_id: run.run_id, decision: 'deny' }, { actor: 'ana' });
    await b.engine.runs.wait(run.run_id);
    const child = await b.call('runs:resume', { run_id: run.run_id });
    await until(async () => (await b.call('runs:get', { run_id: child.run_id })).status === 'waiting');
    const { approvals } = await b.call('approvals:list', { run_id: child.run_id });
    expect(approvals[0]).toMatchObject({ prompt: 'Ship the nightly release to production?', done: ['build', 'test'], run: { trigger: 'resume' } });
    await b.call('runs:approve', { run_id: child.run_id, decision: 'approve' });
    expect((await b.engine.runs.wait(child.run_id)).status).toBe('succeeded');
  });

  it('the server id is stable and names the database', async () => {
    const { b } = await waitingRun();
    const head = await b.call('events:head', {});
    expect(head.server_id).toMatch(/^[0-9a-f]{32}$/);
    expect((await b.call('events:head', {})).server_id).toBe(head.server_id);
  });
});
