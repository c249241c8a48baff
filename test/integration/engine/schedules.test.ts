import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import type { RewindError } from '../../../main/engine/errors.js';
import type { Dsl, Run } from '../../../preload/contract/entities.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';

/*
 * Schedules that fire, on both stores, under an injected clock: no test sleeps for a tick. A pass
 * (`schedules.tick()`) is what the running scheduler does once a second.
 */

const racer = join(import.meta.dirname, 'schedule-racer.ts');
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

const quick: Dsl = { nodes: [{ id: 'only', type: 'transform', params: { set: { done: true } }, next: [] }], defaults: {} };
/** Holds each run in `waiting` until someone answers: a run in flight without a timer. */
const gated: Dsl = { nodes: [{ id: 'gate', type: 'approval', params: { prompt: 'Go?' }, next: [] }], defaults: {} };

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

function expectCode(err: unknown, code: string): RewindError {
  expect(err).toMatchObject({ code });
  return err as RewindError;
}

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  );
}

describe.each(stores)('schedules on $kind', (factory) => {
  let now = T0;
  const open: EngineBackend[] = [];
  let n = 0;

  async function backendAt(location?: string): Promise<{ sb: EngineBackend; location: string }> {
    const name = `sched-${factory.kind}-${(n += 1)}`;
    const store = location ? await openStoreAt(location, name) : await factory.open(name);
    const engine = await Engine.open({ store, clock: () => new Date(now) });
    const sb = new EngineBackend(engine, 'tester');
    open.push(sb);
    return { sb, location: location ?? factory.location(name) };
  }
  const backend = async () => (await backendAt()).sb;

  afterEach(async () => {
    for (const sb of open.splice(0).reverse()) await sb.close();
    now = T0;
  });
  afterAll(() => factory.dispose());

  async function scheduled(sb: EngineBackend, name: string, schedule: string, extra: { catchup?: 'skip' | 'latest' | 'all'; max_concurrent?: number; dsl?: Dsl } = {}) {
    const wf = await sb.call('workflows:create', { name, dsl: extra.dsl ?? quick });
    return sb.call('workflows:setSchedule', {
      workflow_id: wf.id,
      schedule,
      ...(extra.catchup ? { catchup: extra.catchup } : {}),
      ...(extra.max_concurrent ? { max_concurrent: extra.max_concurrent } : {}),
    });
  }

  const scheduledRuns = async (sb: EngineBackend, workflowId: string): Promise<Run[]> =>
    (await sb.call('runs:list', { workflow_id: workflowId })).runs.filter((r) => r.trigger === 'schedule').sort((a, b) => (a.logical_date ?? '').localeCompare(b.logical_date ?? ''));

  it('fires each tick once, at its time, with trigger "schedule" and the tick as logical date', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'every-minute', '* * * * *');
    now = T0 + 30_000;
    expect(await sb.engine.schedules.tick()).toEqual([]);
    now = T0 + MIN;
    const fired = await sb.engine.schedules.tick();
    expect(fired.map((r) => [r.trigger, r.logical_date, r.created_by])).toEqual([['schedule', iso(T0 + MIN), 'scheduler']]);
    // The same instant again, and a pass a few seconds later: that tick is done.
    expect(await sb.engine.schedules.tick()).toEqual([]);
    now = T0 + MIN + 5_000;
    expect(await sb.engine.schedules.tick()).toEqual([]);
    now = T0 + 2 * MIN + 700;
    await sb.engine.schedules.tick();
    expect((await scheduledRuns(sb, wf.id)).map((r) => r.logical_date)).toEqual([iso(T0 + MIN), iso(T0 + 2 * MIN)]);
    const fires = (await sb.call('events:list', { workflow_id: wf.id })).events.filter((e) => e.type === 'schedule_fired');
    expect(fires.map((e) => e.payload.logical_date)).toEqual([iso(T0 + MIN), iso(T0 + 2 * MIN)]);
    expect(fires[0]).toMatchObject({ actor: 'scheduler', run_id: fired[0]!.run_id, payload: { catchup: 'skip', missed: 0, error: null } });
  });

  it('fires a six-field schedule on its seconds', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'every-20s', '*/20 * * * * *', { catchup: 'all' });
    now = T0 + 45_000;
    await sb.engine.schedules.tick();
    expect((await scheduledRuns(sb, wf.id)).map((r) => r.logical_date)).toEqual([iso(T0 + 20_000), iso(T0 + 40_000)]);
  });

  it('after downtime, catch-up decides: skip runs none of the missed ticks, latest the newest once, all each', async () => {
    const sb = await backend();
    const skip = await scheduled(sb, 'hourly-skip', '0 * * * *', { catchup: 'skip' });
    const latest = await scheduled(sb, 'hourly-latest', '0 * * * *', { catchup: 'latest' });
    const all = await scheduled(sb, 'hourly-all', '0 * * * *', { catchup: 'all' });
    // Down from 10:00 to 13:30: the ticks of 11, 12 and 13 o'clock were missed.
    now = T0 + 3.5 * HOUR;
    await sb.engine.schedules.tick();
    expect((await scheduledRuns(sb, skip.id)).map((r) => r.logical_date)).toEqual([]);
    expect((await scheduledRuns(sb, latest.id)).map((r) => r.logical_date)).toEqual([iso(T0 + 3 * HOUR)]);
    expect((await scheduledRuns(sb, all.id)).map((r) => r.logical_date)).toEqual([iso(T0 + HOUR), iso(T0 + 2 * HOUR), iso(T0 + 3 * HOUR)]);
    const latestFire = (await sb.call('events:list', { workflow_id: latest.id })).events.find((e) => e.type === 'schedule_fired');
    expect(latestFire?.payload).toMatchObject({ catchup: 'latest', missed: 2 });
    // Back in business: the next tick fires for every policy, once.
    now = T0 + 4 * HOUR + 1_000;
    await sb.engine.schedules.tick();
    await sb.engine.schedules.tick();
    for (const wf of [skip, latest, all]) expect((await scheduledRuns(sb, wf.id)).filter((r) => r.logical_date === iso(T0 + 4 * HOUR))).toHaveLength(1);
  });

  it('skip still fires a tick that is only a little late (within the grace of a minute)', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'late-but-fine', '0 * * * *');
    now = T0 + HOUR + 20_000;
    await sb.engine.schedules.tick();
    expect((await scheduledRuns(sb, wf.id)).map((r) => r.logical_date)).toEqual([iso(T0 + HOUR)]);
  });

  it('a paused workflow does not fire, and unpausing does not replay the ticks of the pause', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'paused-hourly', '0 * * * *', { catchup: 'all' });
    await sb.call('workflows:pause', { workflow_id: wf.id });
    expect((await sb.call('schedules:get', { workflow_id: wf.id })).firing).toBe(false);
    now = T0 + 2 * HOUR + MIN;
    expect(await sb.engine.schedules.tick()).toEqual([]);
    await sb.call('workflows:unpause', { workflow_id: wf.id });
    expect(await sb.engine.schedules.tick()).toEqual([]);
    now = T0 + 3 * HOUR;
    await sb.engine.schedules.tick();
    expect((await scheduledRuns(sb, wf.id)).map((r) => r.logical_date)).toEqual([iso(T0 + 3 * HOUR)]);
  });

  it('an unregistered workflow never fires again, and its schedule row is cleared', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'unregistered-hourly', '0 * * * *', { catchup: 'all' });
    now = T0 + HOUR;
    await sb.engine.schedules.tick();
    expect((await scheduledRuns(sb, wf.id)).map((r) => r.logical_date)).toEqual([iso(T0 + HOUR)]);
    await sb.call('workflows:unregister', { workflow_id: wf.id, cancel_running: true });
    now = T0 + 3 * HOUR;
    expect(await sb.engine.schedules.tick()).toEqual([]);
    expect(await sb.engine.store.read.get('SELECT COUNT(*) AS n FROM schedules WHERE workflow_id = ?', [wf.id])).toEqual({ n: 0 });
    const runs = await sb.engine.store.read.all<{ logical_date: string }>("SELECT logical_date FROM runs WHERE workflow_id = ? AND trigger = 'schedule'", [wf.id]);
    expect(runs.map((r) => r.logical_date)).toEqual([iso(T0 + HOUR)]);
  });

  it('holds ticks beyond max_concurrent until a run ends, then fires them', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'one-at-a-time', '* * * * *', { catchup: 'all', max_concurrent: 1, dsl: gated });
    now = T0 + 3 * MIN;
    const first = await sb.engine.schedules.tick();
    expect(first.map((r) => r.logical_date)).toEqual([iso(T0 + MIN)]);
    await until(async () => (await sb.engine.runs.get(first[0]!.run_id)).status === 'waiting');
    // Still in flight: the 10:02 and 10:03 ticks wait.
    expect(await sb.engine.schedules.tick()).toEqual([]);
    await sb.call('runs:approve', { run_id: first[0]!.run_id, decision: 'approve' });
    await sb.engine.runs.wait(first[0]!.run_id);
    const second = await sb.engine.schedules.tick();
    expect(second.map((r) => r.logical_date)).toEqual([iso(T0 + 2 * MIN)]);
    await until(async () => (await sb.engine.runs.get(second[0]!.run_id)).status === 'waiting');
    await sb.call('runs:cancel', { run_id: second[0]!.run_id });
    expect((await sb.engine.schedules.tick()).map((r) => r.logical_date)).toEqual([iso(T0 + 3 * MIN)]);
    expect((await scheduledRuns(sb, wf.id)).length).toBe(3);
  });

  it('two engines on one database, in two processes, fire each tick once', async () => {
    const { sb, location } = await backendAt();
    const ids: string[] = [];
    for (let i = 0; i < 8; i += 1) ids.push((await scheduled(sb, `raced-${i}`, '* * * * *', { catchup: 'all' })).id);
    // Five minutes of ticks due at once; the other engine passes over them while this one does.
    now = T0 + 5 * MIN;
    const other = spawn(process.execPath, ['--import', 'tsx', racer, location, iso(now), '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    other.stdout.on('data', (d: Buffer) => (out += d.toString()));
    other.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => other.on('exit', resolve));
    await until(async () => out.includes('ready') || other.exitCode !== null);
    let firedHere = 0;
    for (let pass = 0; pass < 4; pass += 1) {
      const runs = await sb.engine.schedules.tick();
      firedHere += runs.length;
      for (const r of runs) await sb.engine.runs.wait(r.run_id);
    }
    expect(await exited, err).toBe(0);
    const firedThere = (JSON.parse(out.trim().split('\n').pop()!) as { fired: number }).fired;
    for (const id of ids) {
      const runs = await scheduledRuns(sb, id);
      expect(runs.map((r) => r.logical_date)).toEqual([1, 2, 3, 4, 5].map((m) => iso(T0 + m * MIN)));
    }
    expect(firedHere + firedThere).toBe(8 * 5);
    const fired = (await sb.call('events:list', { limit: 10_000 })).events.filter((e) => e.type === 'schedule_fired');
    expect(fired).toHaveLength(8 * 5);
  });

  it('shows the next three fire times, the policy and the last tick fired', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'shown', '30 6 * * *', { catchup: 'latest', max_concurrent: 2 });
    const info = await sb.call('schedules:get', { workflow_id: wf.id });
    expect(info).toMatchObject({ schedule: '30 6 * * *', catchup: 'latest', max_concurrent: 2, firing: true, last_fired: null });
    expect(info.next).toEqual(['2026-12-02T06:30:00.000Z', '2026-12-03T06:30:00.000Z', '2026-12-04T06:30:00.000Z']);
    // Changing only the expression keeps the policy.
    await sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '*/10 * * * * *' });
    expect(await sb.call('schedules:get', { workflow_id: wf.id })).toMatchObject({ catchup: 'latest', max_concurrent: 2, next: [iso(T0 + 10_000), iso(T0 + 20_000), iso(T0 + 30_000)] });
    now = T0 + 10_000;
    const [run] = await sb.engine.schedules.tick();
    expect((await sb.call('schedules:get', { workflow_id: wf.id })).last_fired).toEqual({ logical_date: iso(T0 + 10_000), run_id: run!.run_id, trigger: 'schedule' });
  });

  it('refuses a bad catch-up value or concurrency limit, changing nothing', async () => {
    const sb = await backend();
    const wf = await sb.call('workflows:create', { name: 'strict', dsl: quick });
    expectCode(await refusal(sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '* * * * *', catchup: 'sometimes' as 'all' })), 'VALIDATION_FAILED');
    expectCode(await refusal(sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '* * * * *', max_concurrent: 0 })), 'VALIDATION_FAILED');
    const err = expectCode(await refusal(sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '75 * * * * *' })), 'INVALID_CRON');
    expect(err.details).toMatchObject({ field: 'second', value: '75' });
    expect(await sb.call('workflows:get', { workflow_id: wf.id })).toMatchObject({ schedule: null, revision: wf.revision });
    expect(await sb.call('schedules:get', { workflow_id: wf.id })).toMatchObject({ schedule: null, catchup: 'skip', max_concurrent: null, next: [] });
  });

  it('backfills: a dry run lists the ticks of [from, to) and starts nothing; the real one starts one run per tick, once', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'daily', '0 2 * * *');
    const head = await sb.engine.latestSeq();
    const dry = await sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-01', to: '2026-11-04', dry_run: true });
    expect(dry).toMatchObject({ dry_run: true, ticks: ['2026-11-01T02:00:00.000Z', '2026-11-02T02:00:00.000Z', '2026-11-03T02:00:00.000Z'], already_run: [], runs: [] });
    expect(await sb.engine.latestSeq()).toBe(head);
    const real = await sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-01', to: '2026-11-04' });
    expect(real.runs.map((r) => [r.trigger, r.logical_date])).toEqual(dry.ticks.map((t) => ['backfill', t]));
    // Overlapping again: the ticks that ran already are not run twice.
    const again = await sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-02', to: '2026-11-05' });
    expect(again.already_run).toEqual(['2026-11-02T02:00:00.000Z', '2026-11-03T02:00:00.000Z']);
    expect(again.runs.map((r) => r.logical_date)).toEqual(['2026-11-04T02:00:00.000Z']);
    const audit = (await sb.call('events:list', { workflow_id: wf.id })).events.filter((e) => e.type === 'schedule_backfilled');
    expect(audit.map((e) => e.payload.runs)).toEqual([3, 1]);
    for (const r of [...real.runs, ...again.runs]) expect((await sb.engine.runs.wait(r.run_id)).status).toBe('succeeded');
  });

  it('refuses a reversed range, a workflow without a schedule, a paused one and a huge range, starting nothing', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'per-minute', '* * * * *');
    const bare = await sb.call('workflows:create', { name: 'no-schedule', dsl: quick });
    const reversed = expectCode(await refusal(sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-02', to: '2026-11-01' })), 'INVALID_RANGE');
    expect(reversed.hint).toMatch(/from earlier than to/);
    expectCode(await refusal(sb.call('schedules:backfill', { workflow_id: wf.id, from: 'yesterday', to: '2026-11-01' })), 'INVALID_RANGE');
    expect(expectCode(await refusal(sb.call('schedules:backfill', { workflow_id: bare.id, from: '2026-11-01', to: '2026-11-02' })), 'NO_SCHEDULE').hint).toMatch(/Set a schedule/);
    // A day of minutes is 1440 ticks: more than 1000 must be asked for.
    const huge = expectCode(await refusal(sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-01', to: '2026-11-02', dry_run: true })), 'TOO_MANY_TICKS');
    expect(huge.hint).toMatch(/max_ticks/);
    expect((await sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-01', to: '2026-11-02', dry_run: true, max_ticks: 1440 })).ticks).toHaveLength(1440);
    await sb.call('workflows:pause', { workflow_id: wf.id });
    expectCode(await refusal(sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:05:00Z' })), 'WORKFLOW_PAUSED');
    expect((await sb.call('runs:list', { workflow_id: wf.id })).total).toBe(0);
    const events = (await sb.call('events:list', { workflow_id: wf.id })).events.map((e) => e.type);
    expect(events.filter((t) => t === 'schedule_backfilled' || t === 'run_started')).toEqual([]);
  });

  it('a scheduled tick that a backfill already ran does not run again', async () => {
    const sb = await backend();
    const wf = await scheduled(sb, 'overlap', '* * * * *', { catchup: 'all' });
    const filled = await sb.call('schedules:backfill', { workflow_id: wf.id, from: iso(T0 + MIN), to: iso(T0 + 2 * MIN) });
    expect(filled.runs).toHaveLength(1);
    now = T0 + 2 * MIN;
    const fired = await sb.engine.schedules.tick();
    expect(fired.map((r) => r.logical_date)).toEqual([iso(T0 + 2 * MIN)]);
    const all = (await sb.call('runs:list', { workflow_id: wf.id })).runs;
    expect(all.filter((r) => r.logical_date === iso(T0 + MIN)).map((r) => r.trigger)).toEqual(['backfill']);
  });

  it('runs say what started them: manual, resume and replay keep their own trigger', async () => {
    const sb = await backend();
    const wf = await sb.call('workflows:create', { name: 'triggers', dsl: { nodes: [{ id: 'a', type: 'task', params: {}, next: [] }], defaults: {} } });
    const manual = await sb.call('runs:start', { workflow_id: wf.id, wait: true, faults: { fail_node: 'a' } });
    expect(manual).toMatchObject({ trigger: 'manual', logical_date: null, status: 'failed' });
    const api = await sb.call('runs:start', { workflow_id: wf.id, wait: true, trigger: 'api' });
    expect(api.trigger).toBe('api');
    const resumed = await sb.call('runs:resume', { run_id: manual.run_id, wait: true });
    expect(resumed.trigger).toBe('resume');
    const replay = await sb.call('runs:replay', { run_id: api.run_id, version: 1 });
    expect(replay.replay.trigger).toBe('replay');
  });
});
