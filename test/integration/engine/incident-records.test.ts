import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { rebuildIncidents } from '../../../main/engine/incident-records.js';
import type { Dsl, IncidentRecord, RewindEvent, Run, Workflow } from '../../../preload/contract/index.js';
import { openStoreAt } from '../../support/open-store.js';
import { acted } from '../../support/reviews.js';
import { skipWithoutConcurrentInstances, stores } from '../../support/stores.js';

/*
 * Incidents as records on both stores: opened by the failure-rate rule, one per workflow at a time
 * (also across two engines racing on one PostgreSQL), timed from the first failure by the events
 * that acknowledge, mitigate (a person's rollback, a policy's, a pause, a cancel no failure followed)
 * and resolve it; rehearsal incidents marked; the rows rebuilt from the log alone.
 */

const T0 = Date.parse('2026-12-01T02:00:00.000Z');
const S = 1000;

/** Fails when the run's params say `fail: true`; with `gate: true` it waits for an approval first. */
const dsl = (label: string, gated = false): Dsl => ({
  defaults: { fail: false },
  nodes: [
    { id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: gated ? ['gate'] : [] },
    ...(gated ? [{ id: 'gate', type: 'approval' as const, params: { prompt: 'Go?' }, next: [] }] : []),
  ],
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition never held');
}

describe.each(stores)('incident records on $kind', (factory) => {
  const open: EngineBackend[] = [];
  let n = 0;
  let now = T0;
  afterEach(async () => {
    for (const b of open.splice(0).reverse()) await b.close();
  });
  afterAll(() => factory.dispose());

  async function backendAt(location?: string, random?: () => number): Promise<{ b: EngineBackend; location: string }> {
    const name = `incidents-${factory.kind}-${(n += 1)}`;
    const store = location ? await openStoreAt(location, name) : await factory.open(name);
    const engine = await Engine.open({ store, clock: () => new Date(now), ...(random ? { random } : {}) });
    const b = new EngineBackend(engine, 'tester');
    open.push(b);
    return { b, location: location ?? factory.location(name) };
  }

  /** `orders` with v1 healthy (one good run) and v2 published by alice. */
  async function setup(gated = false): Promise<{ b: EngineBackend; wf: Workflow; location: string }> {
    now = T0;
    const { b, location } = await backendAt();
    const wf = await b.call('workflows:create', { name: 'orders', dsl: dsl('v1') }, { actor: 'admin' });
    await start(b, wf);
    await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2', gated), change_log: 'v2' }, { actor: 'alice' });
    await b.call('versions:publish', { workflow_id: wf.id, version: 2 }, { actor: 'alice' });
    return { b, wf, location };
  }

  const at = (seconds: number) => {
    now = T0 + seconds * S;
  };
  const start = (b: EngineBackend, wf: Workflow, params: Record<string, unknown> = {}, actor = 'tester', version?: number): Promise<Run> =>
    b.call('runs:start', { workflow_id: wf.id, params, wait: true, ...(version === undefined ? {} : { version }) }, { actor });
  const events = async (b: EngineBackend, type?: string): Promise<RewindEvent[]> => (await b.engine.events.list(0, 1_000_000)).filter((e) => type === undefined || e.type === type);
  const records = async (b: EngineBackend, status: 'open' | 'resolved' | 'all' = 'all'): Promise<IncidentRecord[]> => (await b.call('incidents:records', { status })).records;
  const expectRebuilds = async (b: EngineBackend) => {
    const rows = await b.engine.store.read.all<Record<string, unknown>>('SELECT * FROM incidents ORDER BY opened_seq');
    const norm = (r: object) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('candidate_')).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
    expect(rebuildIncidents(await events(b)).map(norm)).toEqual(rows.map(norm));
  };

  it('opens on the failure-rate rule, and its times are the events’ times from the first failure', async () => {
    const { b, wf } = await setup();
    at(60);
    const failed = await start(b, wf, { fail: true });
    expect(failed.status).toBe('failed');
    const [record] = await records(b, 'open');
    expect(record).toMatchObject({ workflow_id: wf.id, workflow_name: 'orders', version: 2, status: 'open', rehearsal: false, first_run_id: failed.run_id, first_failure_at: failed.finished_at });
    const [opened] = await events(b, 'incident_opened');
    expect(opened).toMatchObject({ workflow_id: wf.id, payload: { incident_id: record!.incident_id, workflow_id: wf.id, version: 2, first_failure_at: failed.finished_at } });

    at(120);
    const acked = await b.call('incidents:acknowledge', { incident_id: record!.incident_id }, { actor: 'bob' });
    expect(acked.acknowledged).toMatchObject({ by: 'bob', at: new Date(T0 + 120 * S).toISOString() });
    expect(acked.time_to_acknowledge_s).toBe(60);
    // A second "I'm on it" keeps the first: the record names bob.
    expect((await b.call('incidents:acknowledge', { incident_id: record!.incident_id }, { actor: 'dana' })).acknowledged?.by).toBe('bob');
    expect(await events(b, 'incident_acknowledged')).toHaveLength(1);

    at(180);
    await start(b, wf, { fail: true });
    expect(await events(b, 'incident_opened')).toHaveLength(1);

    at(300);
    const rollback = acted(await b.call('versions:rollback', { workflow_id: wf.id, version: 1 }, { actor: 'carol' }));
    const mitigated = await b.call('incidents:record', { incident_id: record!.incident_id });
    expect(mitigated.mitigated).toEqual({ by: 'carol', action: 'rollback', seq: rollback.seq, at: new Date(T0 + 300 * S).toISOString() });
    expect(mitigated.time_to_mitigate_s).toBe(240);
    expect(mitigated.status).toBe('open');

    at(360);
    const ok = await start(b, wf);
    expect(ok).toMatchObject({ status: 'succeeded', version: 1 });
    const resolved = await b.call('incidents:record', { incident_id: record!.incident_id });
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolved).toMatchObject({ by: 'rewind', at: ok.finished_at });
    expect(resolved.resolved?.note).toContain(ok.run_id);
    expect(resolved.time_to_resolve_s).toBe(300);
    const [resolvedEvent] = await events(b, 'incident_resolved');
    expect(resolvedEvent?.payload).toMatchObject({ incident_id: record!.incident_id, by: 'rewind', time_to_resolve_s: 300 });
    expect(await records(b, 'open')).toEqual([]);
    expect((await records(b, 'resolved')).map((r) => r.incident_id)).toEqual([record!.incident_id]);

    // Resolved: a later failure opens a new incident, and the old one refuses acknowledge and close.
    at(400);
    await start(b, wf, { fail: true }, 'tester', 2);
    expect((await records(b, 'open')).map((r) => r.version)).toEqual([2]);
    await expect(b.call('incidents:acknowledge', { incident_id: record!.incident_id })).rejects.toMatchObject({ code: 'INCIDENT_RESOLVED' });
    await expect(b.call('incidents:resolve', { incident_id: record!.incident_id })).rejects.toMatchObject({ code: 'INCIDENT_RESOLVED' });
    await expect(b.call('incidents:record', { incident_id: 'inc-nope' })).rejects.toMatchObject({ code: 'INCIDENT_NOT_FOUND' });
    await expectRebuilds(b);
  });

  it('does not open for a flaky run of a healthy version, and a person can close an incident', async () => {
    const { b, wf } = await setup();
    for (let i = 0; i < 5; i++) await start(b, wf);
    at(10);
    await start(b, wf, { fail: true });
    expect(await records(b)).toEqual([]);
    at(20);
    await start(b, wf, { fail: true });
    const [record] = await records(b, 'open');
    expect(record?.first_failure_at).toBe(new Date(T0 + 10 * S).toISOString());
    at(80);
    const closed = await b.call('incidents:resolve', { incident_id: record!.incident_id, note: 'upstream fixed' }, { actor: 'erin' });
    expect(closed).toMatchObject({ status: 'resolved', mitigated: null, time_to_mitigate_s: null, time_to_resolve_s: 70, resolved: { by: 'erin', note: 'upstream fixed' } });
    await expectRebuilds(b);
  });

  it('a pause mitigates; a cancel mitigates once the next run succeeds, not when another failure follows', async () => {
    const { b, wf } = await setup(true);
    at(10);
    await start(b, wf, { fail: true });
    const [record] = await records(b, 'open');
    const waiting = async () => {
      const run = await b.call('runs:start', { workflow_id: wf.id, params: {} });
      await until(async () => (await b.call('runs:get', { run_id: run.run_id })).status === 'waiting');
      return run;
    };
    at(20);
    const first = await waiting();
    at(30);
    await b.call('runs:cancel', { run_id: first.run_id }, { actor: 'frank' });
    at(40);
    await start(b, wf, { fail: true });
    expect((await b.call('incidents:record', { incident_id: record!.incident_id })).mitigated).toBeNull();
    at(50);
    const second = await waiting();
    at(60);
    const cancelled = await b.call('runs:cancel', { run_id: second.run_id }, { actor: 'gina' });
    const cancelSeq = (await events(b, 'run_cancelled')).find((e) => e.run_id === cancelled.run_id)!.seq;
    at(70);
    const third = await waiting();
    at(90);
    await b.call('runs:approve', { run_id: third.run_id, decision: 'approve' }, { actor: 'gina' });
    await until(async () => (await b.call('incidents:record', { incident_id: record!.incident_id })).status === 'resolved');
    const done = await b.call('incidents:record', { incident_id: record!.incident_id });
    expect(done.mitigated).toEqual({ by: 'gina', action: 'cancel', seq: cancelSeq, at: new Date(T0 + 60 * S).toISOString() });
    expect(done.time_to_mitigate_s).toBe(50);
    expect(done.time_to_resolve_s).toBe(80);
    await expectRebuilds(b);

    // A pause mitigates at once.
    at(100);
    await start(b, wf, { fail: true });
    const [next] = await records(b, 'open');
    at(130);
    const paused = await b.call('workflows:pause', { workflow_id: wf.id }, { actor: 'hana' });
    expect(paused.status).toBe('paused');
    expect((await b.call('incidents:record', { incident_id: next!.incident_id })).mitigated).toMatchObject({ by: 'hana', action: 'pause' });
    expect((await b.call('incidents:record', { incident_id: next!.incident_id })).time_to_mitigate_s).toBe(30);
  });

  it('an automatic rollback by a canary policy mitigates in the run end’s own transaction', async () => {
    now = T0;
    const { b } = await backendAt(undefined, () => 0);
    const wf = await b.call('workflows:create', { name: 'canaried', dsl: dsl('v1') });
    await start(b, wf);
    await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2'), change_log: 'v2' });
    await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: { percent: 99, min_runs: 2, max_failure_rate: 0.3, promote: 'manual' } }, { actor: 'alice' });
    at(10);
    await start(b, wf, { fail: true });
    const [record] = await records(b, 'open');
    expect(record?.version).toBe(2);
    at(20);
    await start(b, wf, { fail: true });
    const [rollback] = await events(b, 'workflow_rollback');
    expect(rollback?.actor).toMatch(/^policy:/);
    const mitigated = await b.call('incidents:record', { incident_id: record!.incident_id });
    expect(mitigated.mitigated).toMatchObject({ by: rollback!.actor, action: 'rollback', seq: rollback!.seq });
    expect(mitigated.time_to_mitigate_s).toBe(10);
  });

  it('marks incidents a rehearsal scenario caused as rehearsals', async () => {
    const { b, wf } = await setup();
    await start(b, wf, { fail: true }, 'scenario');
    const [record] = await records(b);
    expect(record?.rehearsal).toBe(true);
    expect((await events(b, 'incident_opened'))[0]?.payload.rehearsal).toBe(true);
  });

  it('keeps the report’s fields with the record, and refuses a stale revision', async () => {
    const { b, wf } = await setup();
    at(5);
    await start(b, wf, { fail: true });
    const [record] = await records(b);
    const report = await b.call('incidents:report', { incident_id: record!.incident_id });
    expect(report.revision).toBe(0);
    const saved = await b.call('incidents:saveReport', { incident_id: record!.incident_id, root_cause: 'a bad threshold', expected_revision: 0 }, { actor: 'ivy' });
    expect(saved).toMatchObject({ revision: 1, edited_by: 'ivy', fields: { root_cause: 'a bad threshold', lessons: '' } });
    expect(saved.markdown).toContain('**Root cause**: a bad threshold');
    await expect(b.call('incidents:saveReport', { incident_id: record!.incident_id, lessons: 'mine', expected_revision: 0 }, { actor: 'jay' })).rejects.toMatchObject({
      code: 'STALE_REVISION',
      details: { current_revision: 1, edited_by: 'ivy' },
    });
    const again = await b.call('incidents:saveReport', { incident_id: record!.incident_id, lessons: 'canary first', expected_revision: 1 }, { actor: 'jay' });
    expect(again.fields).toMatchObject({ root_cause: 'a bad threshold', lessons: 'canary first' });
    expect((await b.call('incidents:record', { incident_id: record!.incident_id })).report_revision).toBe(2);
    await expectRebuilds(b);
  });

  const racing = 'opens one incident when two engines on one database record failures at once';
  it.skipIf(skipWithoutConcurrentInstances(factory, racing))(racing, async () => {
    const { b: a, wf, location } = await setup();
    const { b: other } = await backendAt(location);
    at(30);
    await Promise.all(Array.from({ length: 8 }, (_, i) => start(i % 2 === 0 ? a : other, wf, { fail: true })));
    expect(await events(a, 'incident_opened')).toHaveLength(1);
    expect(await records(other, 'open')).toHaveLength(1);
  });
});
