import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import type { CanarySpec, Dsl, Run, Workflow } from '../../../preload/contract/index.js';
import { stores } from '../../support/stores.js';

/*
 * What the log says before an operator acts, on both stores: a rollback onto a version that failed
 * before (or whose canary was aborted) comes with the target's record; "resumable" is the incident
 * window's failed runs, never an aborted canary's; the incident card names the error line, who put
 * the bad version forward and when, and what a canary policy already did.
 */

const dsl = (label: string): Dsl => ({
  defaults: { fail: false },
  nodes: [
    { id: 'extract', type: 'task', params: { duration_ms: 0, output: { label } }, next: ['load'] },
    { id: 'load', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, error: 'warehouse refused the batch: partition order_date is empty' }, next: [] },
  ],
});
const canary: CanarySpec = { percent: 50, min_runs: 3, max_failure_rate: 0.3, promote: 'manual' };
const HOUR = 3_600_000;

describe.each(stores)('rollback safety and the incident card on $kind', (factory) => {
  const open: EngineBackend[] = [];
  let n = 0;
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
  });
  afterAll(() => factory.dispose());

  /** v1 active; the clock is `at` (moved by the test), draws from `draws` then stable. */
  async function setup(options: { draws?: number[]; at?: { now: number } } = {}): Promise<{ b: EngineBackend; wf: Workflow }> {
    n += 1;
    const at = options.at;
    const draws = options.draws ?? [];
    const engine = await Engine.open({ store: await factory.open(`safety${n}`), random: () => draws.shift() ?? 0.99, ...(at ? { clock: () => new Date(at.now) } : {}) });
    const b = new EngineBackend(engine, 'mina');
    open.push(b);
    const wf = await b.call('workflows:create', { name: 'orders-etl', dsl: dsl('v1') }, { actor: 'admin-ana' });
    return { b, wf };
  }
  const start = (b: EngineBackend, wf: Workflow, fail = false): Promise<Run> => b.call('runs:start', { workflow_id: wf.id, params: { fail }, wait: true });
  const publish = async (b: EngineBackend, wf: Workflow, label: string, actor = 'admin-ana') => {
    const draft = await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl(label) }, { actor });
    await b.call('versions:publish', { workflow_id: wf.id, version: draft.version }, { actor });
    return draft.version;
  };

  it('the rollback preview warns of a target whose failure rate is above the threshold, not of a healthy one', async () => {
    const { b, wf } = await setup();
    await start(b, wf);
    await publish(b, wf, 'v2');
    await start(b, wf, true);
    await start(b, wf, true);
    await start(b, wf);
    await b.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    const ontoBad = await b.call('versions:rollbackPreview', { workflow_id: wf.id, version: 2 });
    expect(ontoBad.target_health).toMatchObject({ runs: 3, failed: 2, threshold: 0.2, bad: true });
    expect(ontoBad.target_health?.reason).toMatch(/v2 failed 2 of its 3 finished runs \(66\.7 %, above the 20 % threshold\)/);
    await b.call('versions:rollback', { workflow_id: wf.id, version: 2 });
    const ontoGood = await b.call('versions:rollbackPreview', { workflow_id: wf.id, version: 1 });
    expect(ontoGood.target_health).toMatchObject({ runs: 1, failed: 0, bad: false, reason: null });
  });

  it('resumable lists only the failed runs of the incident window, not a 6-day-old one', async () => {
    const at = { now: Date.now() - 6 * 24 * HOUR };
    const { b, wf } = await setup({ at });
    const old = await start(b, wf, true);
    await publish(b, wf, 'v2');
    at.now = Date.now() - HOUR;
    const recent = await start(b, wf, true);
    at.now = Date.now();
    const preview = await b.call('versions:rollbackPreview', { workflow_id: wf.id, version: 1 });
    expect(preview.resumable.map((r) => r.run.run_id)).toEqual([recent.run_id]);
    expect(preview.resumable.map((r) => r.run.run_id)).not.toContain(old.run_id);
  });

  it('a canary the policy rolled back: its version is bad for a rollback, its failed runs are not resumable, and the card moves to "rolled back"', async () => {
    const { b, wf } = await setup({ draws: [0, 0, 0] });
    await start(b, wf);
    const draft = await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2'), change_log: 'candidate' }, { actor: 'admin-bo' });
    await b.call('versions:publish', { workflow_id: wf.id, version: draft.version, canary }, { actor: 'admin-bo' });
    const failed = [await start(b, wf, true), await start(b, wf, true)];
    await start(b, wf);
    expect((await b.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(1);

    const forward = await b.call('versions:rollbackPreview', { workflow_id: wf.id, version: 2 });
    expect(forward.target_health).toMatchObject({ bad: true });
    expect(forward.target_health?.reason).toMatch(/canary was aborted: failure rate 66\.7 %/);
    expect(forward.resumable.map((r) => r.run.run_id)).not.toEqual(expect.arrayContaining([failed[0]!.run_id]));

    const summary = await b.call('incidents:summary', {});
    const card = summary.failing.find((f) => f.workflow_id === wf.id)!;
    expect(card).toMatchObject({
      latest_failed_run_id: failed[1]!.run_id,
      latest_error: 'warehouse refused the batch: partition order_date is empty',
      latest_failed_node: 'load',
      bad_version: 2,
      bad_published_by: 'admin-bo',
      policy_rollback: { actor: 'policy:canary', from_version: 2, to_version: 1, runs: 3, failures: 2 },
    });
    expect(card.bad_published_at).not.toBeNull();
    expect(card.policy_rollback?.reason).toMatch(/failure rate 66\.7 % over 3 runs broke the limit of 30(\.0)? %/);
  });

  it('a plain bad deploy: the card names the error line, who published the bad version and when, and no policy rollback', async () => {
    const { b, wf } = await setup();
    await start(b, wf);
    const v2 = await publish(b, wf, 'v2', 'admin-cy');
    await start(b, wf, true);
    const card = (await b.call('incidents:summary', {})).failing.find((f) => f.workflow_id === wf.id)!;
    const published = (await b.call('versions:get', { workflow_id: wf.id, version: v2 })).published_at;
    expect(card).toMatchObject({ bad_since: v2, bad_version: v2, bad_published_by: 'admin-cy', bad_published_at: published, policy_rollback: null, latest_failed_node: 'load' });
    expect(card.latest_error).toContain('warehouse refused the batch');
  });
});
