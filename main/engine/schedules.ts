import { randomUUID } from 'node:crypto';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { BackfillResult, Catchup, Run, ScheduleInfo, Workflow } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { nextTicks, ticksBetween } from './cron.js';
import { RewindError } from './errors.js';
import type { RunService } from './runs.js';
import type { WorkflowService } from './workflows.js';

/** A tick at most this late still fires under `skip`: later, it counts as missed. */
export const GRACE_MS = 60_000;
/** Ticks fired for one workflow in one pass (catch-up `all` after a long gap continues in the next passes). */
const FIRE_LIMIT = 100;
/** Workflows handled in one pass; the rest are due still and handled in the next. */
const PASS_LIMIT = 5000;
/** A backfill over more ticks than this must say so (`max_ticks`). */
export const BACKFILL_DEFAULT_MAX = 1000;
/** Who scheduled runs are recorded as. */
export const SCHEDULER_ACTOR = 'scheduler';
/** How often a running scheduler looks for due ticks (aligned to the second, so a per-second schedule keeps up). */
const POLL_MS = 1000;

interface ScheduleRow {
  workflow_id: string;
  expression: string;
  catchup: Catchup;
  max_concurrent: number | null;
  last_tick: string;
  next_due: string | null;
  updated_at: string;
}

interface TickWorkflowRow {
  id: string;
  schedule: string | null;
  status: Workflow['status'];
  active_version: number | null;
  updated_at: string;
  unregistered_at: string | null;
}

// A workflow is due when its schedule has a tick by now, was set or changed by any path since it was
// last handled (no row, another expression), or was cleared (a row left to remove).
// An unregistered workflow counts as cleared: it has left every list and must never fire again.
const SELECT_DUE = `SELECT w.id FROM workflows w LEFT JOIN schedules s ON s.workflow_id = w.id
  WHERE (w.schedule IS NOT NULL AND w.unregistered_at IS NULL AND (s.workflow_id IS NULL OR s.expression <> w.schedule OR s.next_due <= ?))
     OR ((w.schedule IS NULL OR w.unregistered_at IS NOT NULL) AND s.workflow_id IS NOT NULL)
  ORDER BY s.next_due, w.id LIMIT ?`;
const SELECT_WORKFLOW = 'SELECT id, schedule, status, active_version, updated_at, unregistered_at FROM workflows WHERE id = ?';
const SELECT_SCHEDULE = 'SELECT * FROM schedules WHERE workflow_id = ?';
const UPSERT_SCHEDULE = `INSERT INTO schedules (workflow_id, expression, catchup, max_concurrent, last_tick, next_due, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (workflow_id) DO UPDATE SET expression = excluded.expression, catchup = excluded.catchup, max_concurrent = excluded.max_concurrent,
  last_tick = excluded.last_tick, next_due = excluded.next_due, updated_at = excluded.updated_at`;
const DELETE_SCHEDULE = 'DELETE FROM schedules WHERE workflow_id = ?';
// The claim: its primary key (workflow_id, logical_date) lets one transaction in, whichever engine it runs in.
const CLAIM_TICK = 'INSERT INTO schedule_ticks (workflow_id, logical_date, trigger, run_id, claimed_at) VALUES (?, ?, ?, NULL, ?) ON CONFLICT (workflow_id, logical_date) DO NOTHING';
const SET_TICK_RUN = 'UPDATE schedule_ticks SET run_id = ? WHERE workflow_id = ? AND logical_date = ?';
const SELECT_CLAIMED = 'SELECT logical_date FROM schedule_ticks WHERE workflow_id = ? AND logical_date >= ? AND logical_date < ? ORDER BY logical_date';
const SELECT_LAST_CLAIM = 'SELECT logical_date, run_id, trigger FROM schedule_ticks WHERE workflow_id = ? AND pending = 0 ORDER BY logical_date DESC LIMIT 1';
const COUNT_IN_FLIGHT = "SELECT COUNT(*) AS n FROM runs WHERE workflow_id = ? AND status IN ('queued', 'running', 'waiting')";
const INSERT_BACKFILL = 'INSERT INTO backfills (backfill_id, workflow_id, max_concurrent, created_by, created_at) VALUES (?, ?, ?, ?, ?)';
// A limited backfill's claim: the tick is the backfill's from now on, its run started when a slot frees.
const CLAIM_PENDING = "INSERT INTO schedule_ticks (workflow_id, logical_date, trigger, run_id, claimed_at, backfill_id, pending) VALUES (?, ?, 'backfill', NULL, ?, ?, 1) ON CONFLICT (workflow_id, logical_date) DO NOTHING";
const SELECT_BACKFILL = 'SELECT * FROM backfills WHERE backfill_id = ?';
const SELECT_PENDING_BACKFILLS = 'SELECT DISTINCT backfill_id FROM schedule_ticks WHERE pending = 1';
const SELECT_PENDING = 'SELECT logical_date FROM schedule_ticks WHERE backfill_id = ? AND pending = 1 ORDER BY logical_date LIMIT ?';
const COUNT_BACKFILL_IN_FLIGHT = `SELECT COUNT(*) AS n FROM schedule_ticks t JOIN runs r ON r.run_id = t.run_id
  WHERE t.backfill_id = ? AND r.status IN ('queued', 'running', 'waiting')`;
const SELECT_BACKFILL_OF_RUN = 'SELECT backfill_id FROM schedule_ticks WHERE workflow_id = ? AND logical_date = ? AND run_id = ? AND backfill_id IS NOT NULL';
const START_PENDING = 'UPDATE schedule_ticks SET run_id = ?, pending = 0 WHERE workflow_id = ? AND logical_date = ? AND pending = 1';
const DROP_PENDING = 'UPDATE schedule_ticks SET pending = 0 WHERE backfill_id = ? AND pending = 1';
const DROP_PENDING_TICK = 'UPDATE schedule_ticks SET pending = 0 WHERE workflow_id = ? AND logical_date = ? AND pending = 1';

interface BackfillRow {
  backfill_id: string;
  workflow_id: string;
  max_concurrent: number;
  created_by: string;
  created_at: string;
}

/**
 * Schedules that fire. A pass (`tick`) reads the schedules due by the engine's clock and handles each
 * in its own mutation: it decides which ticks run (the catch-up policy, the concurrency limit, a
 * pause), claims each in `schedule_ticks` and starts its run in that same transaction, and records
 * `schedule_fired`. The claim's primary key is what makes a tick fire once across engines — two
 * processes on one SQLite file, or replicas on one PostgreSQL database: the second transaction finds
 * the tick claimed and starts nothing.
 *
 * Ticks are counted from `last_tick` (handled up to there), which a schedule's first pass sets to when
 * it was set: a new schedule never fires the past, and a paused workflow's ticks are passed over, so
 * unpausing does not replay the pause.
 */
export class ScheduleService {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<Run[]> | null = null;
  private stopped = true;

  constructor(
    private readonly core: EngineCore,
    private readonly workflows: WorkflowService,
    private readonly runs: RunService,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Sets a workflow's schedule and its policy in one mutation: the workflow's row and event, and the scheduler's row. */
  set(input: ParsedInput<'workflows:setSchedule'>, actor: string): Promise<Workflow> {
    return this.core.mutate(async () => {
      const before = await this.core.q().get<ScheduleRow>(SELECT_SCHEDULE, [input.workflow_id]);
      const wf = await this.workflows.setSchedule(input, actor);
      if (wf.schedule === null) {
        await this.core.q().run(DELETE_SCHEDULE, [wf.id]);
        return wf;
      }
      const now = this.core.now();
      // A changed expression counts its ticks from now; an unchanged one keeps its place.
      const same = before !== undefined && before.expression === wf.schedule;
      const lastTick = same ? before.last_tick : now;
      await this.save({
        workflow_id: wf.id,
        expression: wf.schedule,
        catchup: input.catchup ?? before?.catchup ?? 'skip',
        max_concurrent: input.max_concurrent === undefined ? (before?.max_concurrent ?? null) : input.max_concurrent,
        last_tick: lastTick,
        next_due: same ? before.next_due : firstAfter(wf.schedule, lastTick),
        updated_at: now,
      });
      return wf;
    });
  }

  async info(workflowId: string): Promise<ScheduleInfo> {
    const wf = await this.workflows.get(workflowId);
    const row = await this.core.q().get<ScheduleRow>(SELECT_SCHEDULE, [wf.id]);
    const last = await this.core.q().get<{ logical_date: string; run_id: string | null; trigger: 'schedule' | 'backfill' }>(SELECT_LAST_CLAIM, [wf.id]);
    return {
      workflow_id: wf.id,
      schedule: wf.schedule,
      catchup: row?.catchup ?? 'skip',
      max_concurrent: row?.max_concurrent ?? null,
      next: wf.schedule === null ? [] : nextTicks(wf.schedule, new Date(this.core.now()), 3),
      firing: wf.schedule !== null && wf.status === 'active' && wf.active_version !== null,
      last_fired: last ?? null,
    };
  }

  /**
   * One pass at the engine clock's now: every due schedule is handled; the runs it started are
   * returned. A schedule that fails is reported to `onError` and tried again in the next pass.
   */
  tick(): Promise<Run[]> {
    if (this.pass) return this.pass;
    this.pass = (async () => {
      try {
        const now = new Date(this.core.now());
        const due = await this.core.store.read.all<{ id: string }>(SELECT_DUE, [now.toISOString(), PASS_LIMIT]);
        const fired: Run[] = [];
        for (const { id } of due) {
          try {
            fired.push(...(await this.handle(id, now)));
          } catch (err) {
            this.onError(err);
          }
        }
        // Limited backfills whose runs ended while nothing could start the next (an engine closing, a pause since lifted).
        for (const { backfill_id } of await this.core.store.read.all<{ backfill_id: string }>(SELECT_PENDING_BACKFILLS)) {
          try {
            fired.push(...(await this.core.mutate(() => this.startPending(backfill_id))));
          } catch (err) {
            this.onError(err);
          }
        }
        return fired;
      } finally {
        this.pass = null;
      }
    })();
    return this.pass;
  }

  /** Fires schedules from now on, a pass a second, until `stop`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.tick()
        .catch(this.onError)
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(loop, POLL_MS - (Date.now() % POLL_MS) + 5);
          this.timer.unref();
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass?.catch(() => undefined);
  }

  /** Whether passes run by themselves (the server; a sandbox the console has open). */
  get running(): boolean {
    return !this.stopped;
  }

  /**
   * A run for each tick of the schedule in [from, to) that has none, all in one mutation (all or
   * nothing); a dry run lists the ticks and changes nothing.
   */
  async backfill(input: ParsedInput<'schedules:backfill'>, actor: string): Promise<BackfillResult> {
    const from = parseTime(input.from, 'from');
    const to = parseTime(input.to, 'to');
    if (from.getTime() >= to.getTime()) {
      throw new RewindError('INVALID_RANGE', `The backfill range is empty: from (${from.toISOString()}) is not before to (${to.toISOString()}).`, 'Give from earlier than to; the range is [from, to): from included, to excluded.', {
        from: from.toISOString(),
        to: to.toISOString(),
      });
    }
    const wf = await this.workflows.get(input.workflow_id);
    if (wf.schedule === null) {
      throw new RewindError('NO_SCHEDULE', `"${wf.name}" has no schedule, so a range has no ticks to run.`, 'Set a schedule first (rewind schedule, or PUT …/schedule), or start single runs instead.', {
        workflow_id: wf.id,
      });
    }
    const max = input.max_ticks ?? BACKFILL_DEFAULT_MAX;
    // [from, to) as (from − 1 ms, to − 1 ms]: ticks fall on whole seconds.
    const { ticks, more } = ticksBetween(wf.schedule, new Date(from.getTime() - 1), new Date(to.getTime() - 1), max);
    if (more) {
      throw new RewindError(
        'TOO_MANY_TICKS',
        `The schedule "${wf.schedule}" has more than ${max} ticks in [${from.toISOString()}, ${to.toISOString()}).`,
        input.max_ticks === undefined
          ? `Backfill a shorter range, or allow more ticks with max_ticks (--max-ticks N, at most 100000).`
          : 'Backfill a shorter range, or raise max_ticks.',
        { max_ticks: max, schedule: wf.schedule },
      );
    }
    const claimed = async () => (await this.core.q().all<{ logical_date: string }>(SELECT_CLAIMED, [wf.id, from.toISOString(), to.toISOString()])).map((r) => r.logical_date);
    const limit = input.max_concurrent ?? null;
    if (input.dry_run) return { workflow_id: wf.id, dry_run: true, ticks, already_run: await claimed(), runs: [], pending: [], max_concurrent: limit };
    return this.core.mutate(async () => {
      const current = await this.workflows.get(wf.id);
      refuseNotRunnable(current);
      const already = new Set(await claimed());
      let runs: Run[] = [];
      const pending: string[] = [];
      const ts = this.core.now();
      const q = this.core.q();
      if (limit === null) {
        for (const t of ticks) {
          if (already.has(t)) continue;
          const { changes } = await q.run(CLAIM_TICK, [wf.id, t, 'backfill', ts]);
          if (changes === 0) continue;
          const run = await this.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, actor, { trigger: 'backfill', logical_date: t });
          await q.run(SET_TICK_RUN, [run.run_id, wf.id, t]);
          runs.push(run);
        }
      } else {
        // Every tick is claimed now, so nothing else (a scheduler pass, another backfill, a replica) runs one of them;
        // the first `limit` start at once, the others as this backfill's runs end.
        const backfillId = randomUUID();
        await q.run(INSERT_BACKFILL, [backfillId, wf.id, limit, actor, ts]);
        const mine: string[] = [];
        for (const t of ticks) {
          if (already.has(t)) continue;
          const { changes } = await q.run(CLAIM_PENDING, [wf.id, t, ts, backfillId]);
          if (changes > 0) mine.push(t);
        }
        runs = await this.startPending(backfillId, { throwOnRefusal: true });
        const started = new Set(runs.map((r) => r.logical_date));
        pending.push(...mine.filter((t) => !started.has(t)));
      }
      await this.core.append({
        type: 'schedule_backfilled',
        workflow_id: wf.id,
        actor,
        ts,
        payload: {
          from: from.toISOString(),
          to: to.toISOString(),
          schedule: current.schedule,
          ticks: ticks.length,
          runs: runs.length,
          already_run: already.size,
          pending: pending.length,
          max_concurrent: limit,
        },
      });
      return { workflow_id: wf.id, dry_run: false, ticks, already_run: [...already], runs, pending, max_concurrent: limit };
    });
  }

  /**
   * After a run ends, in the mutation that records its end: when it was one of a limited backfill's,
   * the slot it frees starts that backfill's next pending tick. Inside the run-end's head-locked
   * transaction, so two replicas ending two runs at once start two different ticks, never one twice.
   */
  async runEnded(run: Pick<Run, 'run_id' | 'workflow_id' | 'trigger' | 'logical_date'>): Promise<void> {
    if (run.trigger !== 'backfill' || run.logical_date === null) return;
    const row = await this.core.q().get<{ backfill_id: string }>(SELECT_BACKFILL_OF_RUN, [run.workflow_id, run.logical_date, run.run_id]);
    if (row) await this.startPending(row.backfill_id);
  }

  /**
   * Starts a limited backfill's pending ticks, oldest first, while fewer than its limit of its runs
   * are in flight; inside the caller's mutation (the chain-head lock orders every such call, across
   * engines). A paused workflow's ticks wait for the unpause; an unregistered one's are dropped. A
   * tick whose run cannot start (its newest version wants a parameter) is dropped and reported, not
   * retried at every pass; only the backfill's own request refuses instead (`throwOnRefusal`).
   */
  private async startPending(backfillId: string, options: { throwOnRefusal?: boolean } = {}): Promise<Run[]> {
    const q = this.core.q();
    const backfill = await q.get<BackfillRow>(SELECT_BACKFILL, [backfillId]);
    if (!backfill) return [];
    const wf = await q.get<TickWorkflowRow>(SELECT_WORKFLOW, [backfill.workflow_id]);
    if (!wf || wf.unregistered_at !== null) {
      await q.run(DROP_PENDING, [backfillId]);
      return [];
    }
    if (wf.status !== 'active' || wf.active_version === null) return [];
    const inFlight = (await q.get<{ n: number }>(COUNT_BACKFILL_IN_FLIGHT, [backfillId]))?.n ?? 0;
    const slots = Number(backfill.max_concurrent) - Number(inFlight);
    if (slots <= 0) return [];
    const started: Run[] = [];
    for (const { logical_date: t } of await q.all<{ logical_date: string }>(SELECT_PENDING, [backfillId, slots])) {
      let run: Run;
      try {
        run = await this.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, backfill.created_by, { trigger: 'backfill', logical_date: t });
      } catch (err) {
        if (options.throwOnRefusal) throw err;
        // An engine shutting down starts nothing (the run-end that asked must still commit): the tick stays pending for the next pass, here or elsewhere.
        if (err instanceof RewindError && err.code === 'BUSY') break;
        await q.run(DROP_PENDING_TICK, [wf.id, t]);
        this.onError(err);
        continue;
      }
      await q.run(START_PENDING, [run.run_id, wf.id, t]);
      started.push(run);
    }
    return started;
  }

  /** Handles one workflow's due ticks in one mutation (serialized with every other writer by the chain-head lock). */
  private handle(id: string, now: Date): Promise<Run[]> {
    return this.core.mutate(async () => {
      const q = this.core.q();
      const wf = await q.get<TickWorkflowRow>(SELECT_WORKFLOW, [id]);
      let row = await q.get<ScheduleRow>(SELECT_SCHEDULE, [id]);
      if (!wf) return [];
      if (wf.schedule === null || wf.unregistered_at !== null) {
        if (row) await q.run(DELETE_SCHEDULE, [id]);
        return [];
      }
      const nowIso = now.toISOString();
      if (!row || row.expression !== wf.schedule) {
        // Set or changed by a path that did not say when (created with a schedule, an older Rewind):
        // its ticks count from the workflow's last change, never from before.
        const since = wf.updated_at < nowIso ? wf.updated_at : nowIso;
        row = { workflow_id: id, expression: wf.schedule, catchup: row?.catchup ?? 'skip', max_concurrent: row?.max_concurrent ?? null, last_tick: since, next_due: null, updated_at: nowIso };
      }
      const expression = wf.schedule;
      const { ticks: due, more } = ticksBetween(expression, new Date(row.last_tick), now, FIRE_LIMIT);
      const latest = more ? latestTick(expression, now) : due[due.length - 1];
      if (latest === undefined) {
        await this.save({ ...row, next_due: firstAfter(expression, row.last_tick), updated_at: nowIso });
        return [];
      }
      if (wf.status !== 'active' || wf.active_version === null) {
        // Paused, overridden or unpublished: its ticks pass without a run.
        await this.save({ ...row, last_tick: latest, next_due: firstAfter(expression, latest), updated_at: nowIso });
        return [];
      }
      const chosen = row.catchup === 'all' ? due : row.catchup === 'latest' || now.getTime() - Date.parse(latest) <= GRACE_MS ? [latest] : [];
      const missed = row.catchup === 'all' ? 0 : due.length - chosen.length;
      const inFlight = row.max_concurrent === null ? 0 : ((await q.get<{ n: number }>(COUNT_IN_FLIGHT, [id]))?.n ?? 0);
      const slots = row.max_concurrent === null ? chosen.length : Math.max(0, row.max_concurrent - inFlight);
      const firing = chosen.slice(0, slots);
      const fired: Run[] = [];
      for (const t of firing) {
        const run = await this.fire(id, t, row.catchup, missed);
        if (run) fired.push(run);
      }
      let lastTick: string;
      if (firing.length === chosen.length) lastTick = row.catchup === 'all' ? due[due.length - 1]! : latest;
      else if (firing.length > 0) lastTick = firing[firing.length - 1]!;
      // Nothing could fire (the limit is reached): the chosen tick waits, due, for a run to end.
      else lastTick = row.catchup === 'all' ? row.last_tick : new Date(Date.parse(latest) - 1).toISOString();
      await this.save({ ...row, last_tick: lastTick, next_due: firstAfter(expression, lastTick), updated_at: nowIso });
      return fired;
    });
  }

  /** Claims one tick and starts its run; a tick claimed already (another engine, a backfill) starts nothing. */
  private async fire(workflowId: string, tick: string, catchup: Catchup, missed: number): Promise<Run | null> {
    const q = this.core.q();
    const ts = this.core.now();
    const { changes } = await q.run(CLAIM_TICK, [workflowId, tick, 'schedule', ts]);
    if (changes === 0) return null;
    let run: Run | null = null;
    let error: { code: string; message: string } | null = null;
    try {
      run = await this.runs.start({ workflow_id: workflowId, params: {}, faults: {}, wait: false }, SCHEDULER_ACTOR, { trigger: 'schedule', logical_date: tick });
      await q.run(SET_TICK_RUN, [run.run_id, workflowId, tick]);
    } catch (err) {
      // An engine shutting down fires nothing: the tick stays unclaimed for the next start.
      if (err instanceof RewindError && err.code === 'BUSY') throw err;
      // A run that cannot start (a parameter its DSL refuses) is recorded against its tick, not retried forever.
      error = err instanceof RewindError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String(err) };
    }
    await this.core.append({
      type: 'schedule_fired',
      workflow_id: workflowId,
      run_id: run?.run_id ?? null,
      actor: SCHEDULER_ACTOR,
      ts,
      payload: { logical_date: tick, catchup, missed, error },
    });
    return run;
  }

  private async save(row: ScheduleRow): Promise<void> {
    await this.core.q().run(UPSERT_SCHEDULE, [row.workflow_id, row.expression, row.catchup, row.max_concurrent, row.last_tick, row.next_due, row.updated_at]);
  }
}

function firstAfter(expression: string, iso: string): string | null {
  return nextTicks(expression, new Date(iso), 1)[0] ?? null;
}

/** The newest tick at or before `now`. */
function latestTick(expression: string, now: Date): string | undefined {
  // Look back one step at a time, widening: a per-second schedule finds it at once, a yearly one in a few steps.
  for (let span = 60_000; span <= 400 * 86_400_000; span *= 8) {
    const { ticks } = ticksBetween(expression, new Date(now.getTime() - span), now, Number.MAX_SAFE_INTEGER);
    if (ticks.length) return ticks[ticks.length - 1];
  }
  return undefined;
}

function refuseNotRunnable(wf: Workflow): void {
  if (wf.status !== 'active') {
    throw new RewindError(
      wf.status === 'paused' ? 'WORKFLOW_PAUSED' : 'WORKFLOW_OVERRIDDEN',
      `"${wf.name}" is ${wf.status}; a backfill would start runs it does not run.`,
      wf.status === 'paused' ? 'Unpause it first, then backfill.' : 'Backfill the CODE workflow of the same name instead.',
      { workflow_id: wf.id, status: wf.status },
    );
  }
  if (wf.active_version === null) {
    throw new RewindError('NO_ACTIVE_VERSION', `"${wf.name}" has no published version to run.`, 'Publish a version, then backfill.', { workflow_id: wf.id });
  }
}

function parseTime(value: string, field: 'from' | 'to'): Date {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new RewindError('INVALID_RANGE', `${field} "${value}" is not a date or time.`, 'Give ISO-8601 UTC times, e.g. 2026-12-01 or 2026-12-01T06:00:00Z.', { field, value });
  }
  return new Date(ms);
}
