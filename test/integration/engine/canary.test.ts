import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { rebuildCanaries, rebuildFromEvents, snapshotState } from '../../../main/engine/rebuild.js';
import type { CanarySpec, Dsl, RewindEvent, Run, Workflow } from '../../../preload/contract/index.js';
import { stores } from '../../support/stores.js';
import { expectOneActive, expectRefusalChangesNothing, versionStatuses } from '../../unit/engine/fixtures.js';

/*
 * Canary publishes on both stores: the draw, the policy judged in the run end's own mutation (one
 * automatic rollback however many ends race), promote and abort, bad input, and health per version.
 */

/** A run fails when its params say `fail: true`; its judgment says `warning` when `defect_rate` > 0.05. */
const dsl = (label: string): Dsl => ({
  defaults: { defect_rate: 0.01, fail: false },
  nodes: [
    { id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: ['judge'] },
    { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'pass' }, next: [] },
  ],
});

const policy = (extra: Partial<CanarySpec> = {}): CanarySpec => ({ percent: 50, min_runs: 3, max_failure_rate: 0.3, promote: 'manual', ...extra });

describe.each(stores)('canary publishes on $kind', (factory) => {
  const open: EngineBackend[] = [];
  let n = 0;
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
  });
  afterAll(() => factory.dispose());

  /** A backend whose draws come from `draws` (then 0.99: stable), with `orders` at v1 active and v2 a draft. */
  async function setup(draws: number[] = []): Promise<{ b: EngineBackend; wf: Workflow }> {
    n += 1;
    const engine = await Engine.open({ store: await factory.open(`canary${n}`), random: () => draws.shift() ?? 0.99 });
    const b = new EngineBackend(engine, 'mina');
    open.push(b);
    const wf = await b.call('workflows:create', { name: 'orders', dsl: dsl('v1') });
    await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2'), change_log: 'candidate' });
    return { b, wf };
  }

  const start = (b: EngineBackend, wf: Workflow, params: Record<string, unknown> = {}, version?: number): Promise<Run> =>
    b.call('runs:start', { workflow_id: wf.id, params, wait: true, ...(version === undefined ? {} : { version }) });
  const events = (b: EngineBackend, type: string): Promise<RewindEvent[]> => b.engine.events.list(0, 100_000).then((all) => all.filter((e) => e.type === type));
  const expectRebuilds = async (b: EngineBackend) => {
    const log = await b.engine.events.list(0, 1_000_000);
    expect(rebuildFromEvents(log)).toEqual(await snapshotState(b.engine.store.read));
    // The canaries too, as a snapshot rebuilds them — all but the random id, which no event carries.
    const rows = await b.engine.store.read.all<Record<string, unknown>>('SELECT * FROM canaries ORDER BY started_at, workflow_id');
    expect(rebuildCanaries(log).map(({ started_seq: _seq, ...c }) => c)).toEqual(rows.map(({ canary_id: _id, ...c }) => c));
  };

  it('keeps the stable version active, shows the canary on the workflow, and draws it for the given share', async () => {
    const { b, wf } = await setup([0.1, 0.7, 0.49]);
    const result = await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy() }, { actor: 'admin' });
    expect(result).toMatchObject({ version: 2, from_version: 1 });
    const read = await b.call('workflows:get', { workflow_id: wf.id });
    expect(read.active_version).toBe(1);
    expect(read.canary).toMatchObject({ version: 2, stable_version: 1, percent: 50, runs: 0, failures: 0, failure_rate: 0, state: 'running', started_by: 'admin' });
    expect(read.canary?.policy).toEqual(policy());
    expect((await b.call('workflows:list', {})).workflows[0]?.canary?.version).toBe(2);
    expect((await b.call('incidents:summary', {})).canaries).toEqual([expect.objectContaining({ workflow_id: wf.id, workflow_name: 'orders', version: 2, state: 'running' })]);
    expect(await versionStatuses(b.engine, wf.id)).toEqual({ 1: 'active', 2: 'draft' });
    expect((await events(b, 'canary_started'))[0]).toMatchObject({ actor: 'admin', payload: { version: 2, stable_version: 1, percent: 50 } });

    const drawn = [await start(b, wf), await start(b, wf), await start(b, wf)];
    expect(drawn.map((r) => r.version)).toEqual([2, 1, 2]);
    expect(drawn[0]?.drawn_reason).toMatch(/^canary v2 \(50 % share/);
    expect(drawn[1]?.drawn_reason).toMatch(/^stable v1 \(canary v2 at 50 %/);
    // Named versions are not drawn (and take no draw: the next one is still the default 0.99).
    const named = await start(b, wf, {}, 1);
    expect(named).toMatchObject({ version: 1, drawn_reason: 'explicit version' });
    expect((await start(b, wf)).version).toBe(1);
    expect((await b.call('workflows:get', { workflow_id: wf.id })).canary).toMatchObject({ runs: 2, failures: 0 });
    await expectRebuilds(b);
  });

  it('rolls back by itself once a threshold breaks after min_runs, as policy:canary, and no run draws it after', async () => {
    const { b, wf } = await setup([0, 0, 0, 0, 0]);
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy({ min_runs: 3, max_failure_rate: 0.3 }) });
    await start(b, wf, { fail: true });
    await start(b, wf, { fail: true });
    // Two failures of two runs: above the limit, but not judged before min_runs.
    expect((await b.call('workflows:get', { workflow_id: wf.id })).canary).toMatchObject({ runs: 2, failures: 2, state: 'running' });
    const third = await start(b, wf);
    expect(third.version).toBe(2);

    const read = await b.call('workflows:get', { workflow_id: wf.id });
    expect(read.canary).toBeNull();
    expect(read.active_version).toBe(1);
    expect(await versionStatuses(b.engine, wf.id)).toEqual({ 1: 'active', 2: 'deprecated' });
    await expectOneActive(b.engine, wf.id);
    const [rollback] = await events(b, 'workflow_rollback');
    expect(rollback).toMatchObject({ actor: 'policy:canary', payload: { from_version: 2, to_version: 1 } });
    const [aborted] = await events(b, 'canary_aborted');
    expect(aborted?.actor).toBe('policy:canary');
    expect(aborted?.payload).toMatchObject({ version: 2, runs: 3, failures: 2, threshold: 'max_failure_rate', limit: 0.3 });
    expect(aborted?.payload.failure_rate).toBeCloseTo(2 / 3);
    expect(String(aborted?.payload.reason)).toContain('66.7 %');
    // The rollback is in the breaching run's end: right after its run_succeeded event.
    const all = await b.engine.events.list(0, 100_000);
    const endSeq = all.find((e) => e.run_id === third.run_id && e.type === 'run_succeeded')!.seq;
    expect(rollback!.seq).toBe(endSeq + 1);
    expect((await start(b, wf)).version).toBe(1);
    await expectRebuilds(b);
  });

  it('under many run ends at once rolls back exactly once, and no run drawn after that end takes the canary', async () => {
    const { b, wf } = await setup(Array.from({ length: 200 }, () => 0));
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy({ percent: 99, min_runs: 4, max_failure_rate: 0.5 }) });
    const runs = await Promise.all(Array.from({ length: 24 }, () => start(b, wf, { fail: true })));
    expect(runs.every((r) => r.status === 'failed')).toBe(true);
    const all = await b.engine.events.list(0, 100_000);
    const rollbacks = all.filter((e) => e.type === 'workflow_rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]?.actor).toBe('policy:canary');
    expect(all.filter((e) => e.type === 'canary_aborted')).toHaveLength(1);
    const after = all.filter((e) => e.type === 'run_started' && e.seq > rollbacks[0]!.seq);
    expect(after.every((e) => e.payload.version === 1)).toBe(true);
    // Every canary run that ended before the rollback counted; exactly min_runs ends made the breach.
    expect((await events(b, 'canary_aborted'))[0]?.payload.runs).toBe(4);
    await expectOneActive(b.engine, wf.id);
    await expectRebuilds(b);
  });

  it('promote manual: healthy after window_runs, waits for an operator, who promotes it', async () => {
    const { b, wf } = await setup([0, 0, 0]);
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy({ min_runs: 2, window_runs: 3 }) });
    for (let i = 0; i < 3; i++) await start(b, wf);
    expect((await b.call('workflows:get', { workflow_id: wf.id })).canary).toMatchObject({ runs: 3, state: 'healthy' });
    expect((await b.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(1);
    const promoted = await b.call('canary:promote', { workflow_id: wf.id }, { actor: 'jun' });
    expect(promoted).toMatchObject({ version: 2, from_version: 1 });
    expect(promoted.message).toContain('Promoted the canary v2');
    const read = await b.call('workflows:get', { workflow_id: wf.id });
    expect(read).toMatchObject({ active_version: 2, canary: null });
    expect(await versionStatuses(b.engine, wf.id)).toEqual({ 1: 'deprecated', 2: 'active' });
    expect((await events(b, 'version_published')).at(-1)).toMatchObject({ actor: 'jun', payload: { from_version: 1, to_version: 2 } });
    expect((await events(b, 'canary_promoted'))[0]).toMatchObject({ actor: 'jun', payload: { version: 2, runs: 3, failures: 0 } });
    await expectRebuilds(b);
  });

  it('promote auto: promotes itself once healthy after window_runs', async () => {
    const { b, wf } = await setup([0, 0]);
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy({ min_runs: 2, promote: 'auto' }) });
    await start(b, wf);
    expect((await b.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(1);
    await start(b, wf);
    expect(await b.call('workflows:get', { workflow_id: wf.id })).toMatchObject({ active_version: 2, canary: null });
    expect((await events(b, 'canary_promoted'))[0]?.actor).toBe('policy:canary');
    await expectRebuilds(b);
  });

  it('an operator aborts any time: the same rollback, by that operator', async () => {
    const { b, wf } = await setup([0]);
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy() });
    await start(b, wf);
    const aborted = await b.call('canary:abort', { workflow_id: wf.id, reason: 'customer ticket QA-1190' }, { actor: 'jun' });
    expect(aborted).toMatchObject({ version: 1, from_version: 2 });
    expect(await b.call('workflows:get', { workflow_id: wf.id })).toMatchObject({ active_version: 1, canary: null });
    expect((await events(b, 'workflow_rollback'))[0]).toMatchObject({ actor: 'jun', payload: { from_version: 2, to_version: 1 } });
    expect((await events(b, 'canary_aborted'))[0]?.payload).toMatchObject({ version: 2, runs: 1, threshold: null, reason: 'aborted by jun: customer ticket QA-1190' });
    await expectRefusalChangesNothing(b.engine, () => b.call('canary:abort', { workflow_id: wf.id }), 'NO_CANARY', 'Publish a draft with a canary policy');
    await expectRebuilds(b);
  });

  it('a rollback by hand while a canary runs ends the canary in the same transaction', async () => {
    const { b, wf } = await setup();
    await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v3'), change_log: 'next' });
    await b.call('versions:publish', { workflow_id: wf.id, version: 3 });
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy() });
    await b.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    expect(await b.call('workflows:get', { workflow_id: wf.id })).toMatchObject({ active_version: 1, canary: null });
    expect(await versionStatuses(b.engine, wf.id)).toEqual({ 1: 'active', 2: 'deprecated', 3: 'deprecated' });
    expect((await events(b, 'canary_aborted'))[0]?.payload.reason).toBe('superseded: rollback of v1 by mina');
    await expectRebuilds(b);
  });

  it('refuses bad canary input with a code and a hint, and changes nothing', async () => {
    const { b, wf } = await setup();
    const publish = (canary: Record<string, unknown>, version = 2) => () => b.call('versions:publish', { workflow_id: wf.id, version, canary: canary as CanarySpec });
    for (const bad of [{ percent: 0 }, { percent: 100 }, { percent: 12.5 }, { max_failure_rate: 1.5 }, { max_failure_rate: -0.1 }, { min_runs: 0 }, { min_runs: 5, window_runs: 2 }]) {
      await expectRefusalChangesNothing(b.engine, publish({ ...policy(), ...bad }), 'VALIDATION_FAILED', 'Correct that field');
    }
    await expectRefusalChangesNothing(b.engine, publish({ ...policy(), verdict: { key: 'verdict', value: 'warning', max_rate: 2 } }), 'VALIDATION_FAILED', 'Correct that field');
    await expectRefusalChangesNothing(b.engine, publish(policy(), 1), 'VERSION_NOT_DRAFT', 'already the active version');
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy() });
    await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v3'), change_log: 'another' });
    await expectRefusalChangesNothing(b.engine, publish(policy(), 3), 'CANARY_RUNNING', 'Promote or abort it first');
    await expectRefusalChangesNothing(b.engine, () => b.call('versions:archive', { workflow_id: wf.id, version: 2 }), 'CANARY_RUNNING', 'Abort the canary first');
    await expectRefusalChangesNothing(b.engine, () => b.call('canary:promote', { workflow_id: wf.id, expected_revision: 1 }), 'STALE_REVISION', 'Reload the workflow');
  });

  it('judges the verdict rate and p95 as well as failures', async () => {
    const { b, wf } = await setup([0, 0, 0]);
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy({ min_runs: 3, verdict: { key: 'verdict', value: 'warning', max_rate: 0.5 } }) });
    await start(b, wf, { defect_rate: 0.08 });
    await start(b, wf, { defect_rate: 0.08 });
    await start(b, wf);
    const [aborted] = await events(b, 'canary_aborted');
    expect(aborted?.payload).toMatchObject({ threshold: 'verdict', limit: 0.5, failures: 0 });
    expect(String(aborted?.payload.reason)).toContain('verdict = warning in 66.7 % of 3 runs');
  });

  it('reports health per version: runs, failures, p50/p95, verdicts, and a window by time', async () => {
    const { b, wf } = await setup();
    const t0 = new Date('2026-11-30T10:00:00.000Z');
    await b.engine.atTime(t0, async () => {
      await b.call('runs:start', { workflow_id: wf.id, params: { defect_rate: 0.08 } });
      await b.call('runs:start', { workflow_id: wf.id, params: { fail: true } });
    });
    await b.engine.atTime(new Date('2026-12-01T10:00:00.000Z'), async () => {
      await b.call('runs:start', { workflow_id: wf.id, version: 2 });
      await b.call('runs:start', { workflow_id: wf.id });
    });
    const all = await b.call('workflows:health', { workflow_id: wf.id });
    expect(all.since).toBeNull();
    expect(all.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(all.versions[1]).toMatchObject({ version: 1, runs: 3, succeeded: 2, failed: 1, p50_ms: 0, p95_ms: 0, verdicts: { verdict: { warning: 1, pass: 1 } } });
    expect(all.versions[1]?.failure_rate).toBeCloseTo(1 / 3);
    expect(all.versions[0]).toMatchObject({ version: 2, runs: 1, failed: 0, failure_rate: 0, verdicts: { verdict: { pass: 1 } } });
    const recent = await b.call('workflows:health', { workflow_id: wf.id, since: '2026-12-01T00:00:00Z' });
    expect(recent.versions.map((v) => [v.version, v.runs])).toEqual([
      [2, 1],
      [1, 1],
    ]);
    await expectRefusalChangesNothing(b.engine, () => b.call('workflows:health', { workflow_id: wf.id, since: 'yesterday' }), 'VALIDATION_FAILED', 'Correct that field');
  });

  it("judges and windows the canary on its version's runs since it started: not the draft's trial runs before, not replays", async () => {
    const { b, wf } = await setup();
    // The operator tries the draft by hand first, and it fails while being fixed: before the canary, none of it counts.
    await b.engine.atTime(new Date('2026-12-01T09:00:00.000Z'), async () => {
      for (let i = 0; i < 3; i++) await start(b, wf, { fail: true }, 2);
    });
    await b.engine.atTime(new Date('2026-12-01T10:00:00.000Z'), () => b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy({ min_runs: 2, window_runs: 3, max_failure_rate: 0.4 }) }));
    await b.engine.atTime(new Date('2026-12-01T10:05:00.000Z'), async () => {
      const first = await start(b, wf, {}, 2);
      await start(b, wf, {}, 2);
      // A replay under the canary's version is an experiment, not traffic: neither judged nor counted.
      await b.call('runs:replay', { run_id: first.run_id, version: 2 });
    });
    expect((await b.call('workflows:get', { workflow_id: wf.id })).canary).toMatchObject({ runs: 2, failures: 0, state: 'running' });
    // The third run since the start reaches window_runs: healthy, though the draft's trial runs all failed.
    await b.engine.atTime(new Date('2026-12-01T10:06:00.000Z'), () => start(b, wf, {}, 2));
    expect((await b.call('workflows:get', { workflow_id: wf.id })).canary).toMatchObject({ runs: 3, failures: 0, failure_rate: 0, state: 'healthy' });
    // Health per version counts every finished run of it (the trials too), or those finished since a time.
    const all = await b.call('workflows:health', { workflow_id: wf.id });
    expect(all.versions.find((v) => v.version === 2)).toMatchObject({ runs: 6, failed: 3 });
    const since = await b.call('workflows:health', { workflow_id: wf.id, since: '2026-12-01T10:00:00.000Z' });
    expect(since.versions.find((v) => v.version === 2)).toMatchObject({ runs: 3, failed: 0 });
    await expectRebuilds(b);
  });
});
