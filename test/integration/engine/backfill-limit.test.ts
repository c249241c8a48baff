import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import type { Dsl, Run } from '../../../preload/contract/entities.js';
import { openStoreAt } from '../../support/open-store.js';
import { skipWithoutConcurrentInstances, stores } from '../../support/stores.js';

/*
 * A backfill with max_concurrent, on both stores, under an injected clock: every tick is claimed at
 * once, N runs start, and each run's end starts the next pending tick — never more than N in flight,
 * every tick run once, across a restart and across two engines on one database.
 */

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** Holds each run in `waiting` until someone answers: a run in flight without a timer. */
const gated: Dsl = { nodes: [{ id: 'gate', type: 'approval', params: { prompt: 'Go?' }, next: [] }], defaults: {} };
const IN_FLIGHT = new Set<Run['status']>(['queued', 'running', 'waiting']);

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describe.each(stores)('backfill max_concurrent on $kind', (factory) => {
  const open: EngineBackend[] = [];
  let n = 0;

  async function backendAt(location?: string): Promise<{ sb: EngineBackend; location: string }> {
    const name = `backfill-${factory.kind}-${(n += 1)}`;
    const store = location ? await openStoreAt(location, name) : await factory.open(name);
    const engine = await Engine.open({ store, clock: () => new Date(T0) });
    const sb = new EngineBackend(engine, 'tester');
    open.push(sb);
    return { sb, location: location ?? factory.location(name) };
  }

  afterEach(async () => {
    for (const sb of open.splice(0).reverse()) await sb.close();
  });
  afterAll(() => factory.dispose());

  async function gatedHourly(sb: EngineBackend, name: string) {
    const wf = await sb.call('workflows:create', { name, dsl: gated });
    return sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '0 * * * *' });
  }

  const backfillRuns = async (sb: EngineBackend, workflowId: string): Promise<Run[]> =>
    (await sb.call('runs:list', { workflow_id: workflowId, limit: 1000 })).runs.filter((r) => r.trigger === 'backfill');

  /** Waits until every in-flight backfill run has reached its approval gate, then returns them. */
  async function settled(sb: EngineBackend, workflowId: string): Promise<Run[]> {
    let flying: Run[] = [];
    await until(async () => {
      flying = (await backfillRuns(sb, workflowId)).filter((r) => IN_FLIGHT.has(r.status));
      return flying.every((r) => r.status === 'waiting');
    });
    return flying;
  }

  const hours = (count: number) => Array.from({ length: count }, (_, i) => iso(T0 - (count - i) * 60 * MIN));

  it('claims every tick, starts N, and starts one pending tick per run that ends: never more than N in flight, each tick once', async () => {
    const { sb } = await backendAt();
    const wf = await gatedHourly(sb, 'limited');
    const ticks = hours(5);
    const out = await sb.call('schedules:backfill', { workflow_id: wf.id, from: ticks[0]!, to: iso(T0), max_concurrent: 2 });
    expect(out.ticks).toEqual(ticks);
    expect(out.max_concurrent).toBe(2);
    expect(out.runs.map((r) => [r.trigger, r.logical_date, r.created_by])).toEqual(ticks.slice(0, 2).map((t) => ['backfill', t, 'tester']));
    expect(out.pending).toEqual(ticks.slice(2));
    expect((await sb.call('events:list', { workflow_id: wf.id })).events.find((e) => e.type === 'schedule_backfilled')?.payload).toMatchObject({ runs: 2, pending: 3, max_concurrent: 2 });

    // The pending ticks are claimed: another backfill over the range, and a scheduler pass, run none of them.
    const again = await sb.call('schedules:backfill', { workflow_id: wf.id, from: ticks[0]!, to: iso(T0) });
    expect(again).toMatchObject({ already_run: ticks, runs: [], pending: [] });
    expect(await sb.engine.schedules.tick()).toEqual([]);

    const seen: number[] = [];
    for (let ended = 0; ended < ticks.length; ended += 1) {
      const flying = await settled(sb, wf.id);
      seen.push(flying.length);
      const oldest = flying.sort((a, b) => (a.logical_date ?? '').localeCompare(b.logical_date ?? ''))[0]!;
      // Each end starts the next pending tick in its own transaction: no pass needed.
      await sb.call('runs:approve', { run_id: oldest.run_id, decision: 'approve' });
      expect((await sb.engine.runs.wait(oldest.run_id)).status).toBe('succeeded');
    }
    expect(seen).toEqual([2, 2, 2, 2, 1]);
    const runs = await backfillRuns(sb, wf.id);
    expect(runs.map((r) => r.logical_date).sort()).toEqual(ticks);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect(await sb.engine.schedules.tick()).toEqual([]);
  });

  it('refuses a limit outside 1..1000, naming it, and starts nothing', async () => {
    const { sb } = await backendAt();
    const wf = await gatedHourly(sb, 'strict');
    for (const max_concurrent of [0, 1001, 1.5]) {
      const err = await sb.call('schedules:backfill', { workflow_id: wf.id, from: hours(2)[0]!, to: iso(T0), max_concurrent }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/max_concurrent/) });
    }
    expect((await sb.call('runs:list', { workflow_id: wf.id })).total).toBe(0);
  });

  it('a paused workflow keeps its pending ticks; after the unpause the next pass starts them', async () => {
    const { sb } = await backendAt();
    const wf = await gatedHourly(sb, 'paused-between');
    const ticks = hours(3);
    const out = await sb.call('schedules:backfill', { workflow_id: wf.id, from: ticks[0]!, to: iso(T0), max_concurrent: 1 });
    const [first] = await settled(sb, wf.id);
    expect(first!.run_id).toBe(out.runs[0]!.run_id);
    await sb.call('workflows:pause', { workflow_id: wf.id });
    await sb.call('runs:cancel', { run_id: first!.run_id });
    expect(await settled(sb, wf.id)).toEqual([]);
    await sb.call('workflows:unpause', { workflow_id: wf.id });
    const started = await sb.engine.schedules.tick();
    expect(started.map((r) => r.logical_date)).toEqual([ticks[1]]);
    expect(await sb.engine.schedules.tick()).toEqual([]);
  });

  it('a restart (a new engine on the same store) continues the pending ticks', async () => {
    const first = await backendAt();
    const wf = await gatedHourly(first.sb, 'restarted');
    const ticks = hours(3);
    await first.sb.call('schedules:backfill', { workflow_id: wf.id, from: ticks[0]!, to: iso(T0), max_concurrent: 1 });
    await settled(first.sb, wf.id);
    // Closing interrupts the run in flight; the closing engine starts nothing more.
    await first.sb.close();
    open.splice(open.indexOf(first.sb), 1);
    const { sb } = await backendAt(first.location);
    expect((await backfillRuns(sb, wf.id)).map((r) => r.status)).toEqual(['interrupted']);
    const resumed = await sb.engine.schedules.tick();
    expect(resumed.map((r) => r.logical_date)).toEqual([ticks[1]]);
    await settled(sb, wf.id);
    await sb.call('runs:approve', { run_id: resumed[0]!.run_id, decision: 'approve' });
    await sb.engine.runs.wait(resumed[0]!.run_id);
    const [last] = await settled(sb, wf.id);
    expect(last!.logical_date).toBe(ticks[2]);
    const runs = await backfillRuns(sb, wf.id);
    expect(runs.map((r) => r.logical_date).sort()).toEqual(ticks);
  });

  // Replicas are a PostgreSQL deployment (schedules.test.ts races SQLite from a child process instead).
  const racing = 'two engines on one database start a pending tick once';
  it.skipIf(skipWithoutConcurrentInstances(factory, racing))(racing, async () => {
    const a = await backendAt();
    const b = await backendAt(a.location);
    const wf = await gatedHourly(a.sb, 'raced');
    const ticks = hours(6);
    await a.sb.call('schedules:backfill', { workflow_id: wf.id, from: ticks[0]!, to: iso(T0), max_concurrent: 2 });
    const flying = await settled(a.sb, wf.id);
    // Slots freed while nothing could start the pending ticks: both engines' passes race for them.
    await a.sb.call('workflows:pause', { workflow_id: wf.id });
    for (const r of flying) await a.sb.call('runs:cancel', { run_id: r.run_id });
    await a.sb.call('workflows:unpause', { workflow_id: wf.id });
    const [fromA, fromB] = await Promise.all([a.sb.engine.schedules.tick(), b.sb.engine.schedules.tick()]);
    const started = [...fromA, ...fromB].map((r) => r.logical_date).sort();
    expect(started).toEqual(ticks.slice(2, 4));
    const runs = await backfillRuns(a.sb, wf.id);
    expect(runs).toHaveLength(4);
    expect(new Set(runs.map((r) => r.logical_date)).size).toBe(4);
  });
});
