import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import type { Run } from '../../preload/contract/entities.js';
import { runStatusSchema } from '../../preload/contract/entities.js';
import { table } from './format.js';

/* The schedule verbs: `schedule` (with its policy and next fire times), `backfill` and `history` (seed 004's). */

export interface ScheduleVerbContext {
  backend: Backend;
  json: boolean;
  out: (text: string) => void;
  /** Runs of the local sandbox live in this process: wait for them before it closes. */
  waitRun?: (runId: string) => Promise<Run>;
  /** The engine clock's now, for --since 7d (the CLI's own clock otherwise). */
  now?: () => Date;
}

export interface ScheduleOptions {
  catchup?: string;
  maxConcurrent?: string;
  from?: string;
  to?: string;
  dryRun: boolean;
  maxTicks?: string;
  since?: string;
  status?: string;
  limit?: string;
}

const usage = (message: string, hint = 'Run `rewind --help` for the verbs and their arguments.') => new RewindError('VALIDATION_FAILED', message, hint);

function whole(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usage(`${what} must be a whole number; got "${value}".`);
  return Number(value);
}

const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);

/** `rewind schedule WF CRON|--clear [--catchup P] [--max-concurrent N]`: sets it, then shows the next fire times. */
export async function scheduleVerb(ctx: ScheduleVerbContext, workflowId: string, expression: string | null, o: ScheduleOptions, revision: { expected_revision?: number }): Promise<number> {
  const catchup = o.catchup;
  if (catchup !== undefined && catchup !== 'skip' && catchup !== 'latest' && catchup !== 'all') {
    throw usage(`--catchup must be skip, latest or all; got "${catchup}".`, 'skip: missed ticks do not run; latest: the newest missed tick runs once; all: every missed tick runs.');
  }
  const limit = o.maxConcurrent === undefined ? undefined : o.maxConcurrent === 'none' ? null : whole(o.maxConcurrent, '--max-concurrent');
  const wf = await ctx.backend.call('workflows:setSchedule', {
    workflow_id: workflowId,
    schedule: expression,
    ...(catchup === undefined ? {} : { catchup }),
    ...(limit === undefined ? {} : { max_concurrent: limit }),
    ...revision,
  });
  const info = await ctx.backend.call('schedules:get', { workflow_id: wf.id });
  if (ctx.json) {
    ctx.out(JSON.stringify({ workflow: wf, schedule: info }, null, 2));
    return 0;
  }
  if (wf.schedule === null) {
    ctx.out(`${wf.name}: schedule cleared (revision ${wf.revision}).`);
    return 0;
  }
  ctx.out(
    [
      `${wf.name}: schedule ${wf.schedule} (revision ${wf.revision}), catch-up ${info.catchup}, ${info.max_concurrent === null ? 'no concurrency limit' : `at most ${info.max_concurrent} run(s) at once`}`,
      info.firing ? '  next fire times (UTC):' : `  not firing now (${wf.status === 'active' ? 'no published version' : wf.status}); it would fire at (UTC):`,
      ...info.next.map((t) => `    ${shortTime(t)}`),
    ].join('\n'),
  );
  return 0;
}

/** `rewind backfill WF --from T --to T [--dry-run] [--max-ticks N] [--max-concurrent N]`. */
export async function backfillVerb(ctx: ScheduleVerbContext, workflowId: string, o: ScheduleOptions): Promise<number> {
  if (o.from === undefined || o.to === undefined) throw usage('backfill needs --from and --to (the range [from, to), ISO dates or times in UTC).');
  const maxTicks = whole(o.maxTicks, '--max-ticks');
  const maxConcurrent = whole(o.maxConcurrent, '--max-concurrent');
  if (maxConcurrent !== undefined && (maxConcurrent < 1 || maxConcurrent > 1000)) {
    throw usage(`--max-concurrent must be from 1 to 1000; got ${maxConcurrent}.`, 'It is how many of the backfill\'s runs may be in flight at once; leave it out to start them all.');
  }
  const out = await ctx.backend.call('schedules:backfill', {
    workflow_id: workflowId,
    from: o.from,
    to: o.to,
    dry_run: o.dryRun,
    ...(maxTicks === undefined ? {} : { max_ticks: maxTicks }),
    ...(maxConcurrent === undefined ? {} : { max_concurrent: maxConcurrent }),
  });
  const runs = ctx.waitRun ? await waitAll(ctx, ctx.waitRun, workflowId, out.runs, out.pending) : out.runs;
  // On a sandbox the pending ticks have run by now (unless paused meanwhile); a server starts them as earlier runs end.
  const ran = new Set(runs.map((r) => r.logical_date));
  const pending = out.pending.filter((t) => !ran.has(t));
  if (ctx.json) {
    ctx.out(JSON.stringify({ ...out, runs, pending }, null, 2));
    return 0;
  }
  const already = new Set(out.already_run);
  const waiting = new Set(pending);
  const byTick = new Map(runs.map((r) => [r.logical_date, r]));
  const lines = [
    out.dry_run
      ? `Dry run: ${out.ticks.length} tick(s) in [${o.from}, ${o.to}); ${out.ticks.length - already.size} would start a run${already.size ? `, ${already.size} ran already` : ''}. Nothing was started.`
      : `Backfill: ${runs.length} run(s) started for ${out.ticks.length} tick(s)${out.max_concurrent === null ? '' : `, at most ${out.max_concurrent} at once`}${waiting.size ? `; ${waiting.size} pending, each starting as an earlier run ends` : ''}${already.size ? `; ${already.size} ran already and were left alone` : ''}.`,
  ];
  if (out.ticks.length) {
    lines.push(
      table(
        ['TICK', out.dry_run ? 'WOULD' : 'RUN', 'STATUS'],
        out.ticks.map((t) => {
          const run = byTick.get(t);
          return [shortTime(t), already.has(t) ? 'ran already' : out.dry_run ? 'start a run' : (run?.run_id ?? null), run?.status ?? (waiting.has(t) ? 'pending' : null)];
        }),
      ),
    );
  }
  ctx.out(lines.join('\n'));
  return 0;
}

/**
 * The local sandbox runs a backfill in this process: wait for its runs, and for each pending tick's
 * run, which the end of an earlier one starts (so it exists once that one has ended).
 */
async function waitAll(ctx: ScheduleVerbContext, wait: (runId: string) => Promise<Run>, workflowId: string, started: Run[], pending: string[]): Promise<Run[]> {
  const done = await Promise.all(started.map((r) => wait(r.run_id)));
  const left = new Set(pending);
  while (left.size > 0) {
    const { runs } = await ctx.backend.call('runs:list', { workflow_id: workflowId, limit: 1000 });
    const next = runs.filter((r) => r.trigger === 'backfill' && r.logical_date !== null && left.has(r.logical_date));
    // None started: the workflow was paused meanwhile, so the rest waits for a pass after the unpause.
    if (next.length === 0) break;
    for (const r of next) left.delete(r.logical_date!);
    done.push(...(await Promise.all(next.map((r) => wait(r.run_id)))));
  }
  return done;
}

export interface HistoryRow {
  run_id: string;
  trigger: Run['trigger'];
  logical_date: string | null;
  version: number;
  status: Run['status'];
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

/** `rewind history WF [--since T|7d|24h|30m] [--status S] [--limit N]`: the workflow's runs, newest first. */
export async function historyVerb(ctx: ScheduleVerbContext, workflowId: string, o: ScheduleOptions): Promise<number> {
  const since = o.since === undefined ? undefined : sinceTime(o.since, ctx.now?.() ?? new Date());
  let status: Run['status'] | undefined;
  if (o.status !== undefined) {
    const parsed = runStatusSchema.safeParse(o.status);
    if (!parsed.success) throw usage(`--status must be one of ${runStatusSchema.options.join(', ')}; got "${o.status}".`);
    status = parsed.data;
  }
  const limit = whole(o.limit, '--limit') ?? 100;
  const found: Run[] = [];
  // Newest first, a page at a time, until the runs are older than --since or the limit is met.
  const page = 500;
  for (let after: string | undefined; found.length < limit; ) {
    const listed = await ctx.backend.call('runs:list', { workflow_id: workflowId, ...(status ? { status } : {}), limit: page, ...(after === undefined ? {} : { after }) });
    let older = false;
    for (const r of listed.runs) {
      if (since && r.created_at < since) {
        older = true;
        break;
      }
      if (found.length < limit) found.push(r);
    }
    // A server from before cursors answers without them: it pages no further than its first page.
    if (older || !listed.next_cursor) break;
    after = listed.next_cursor;
  }
  // A backfill starts its runs in one instant: the tick they stand for orders them then.
  const rows = found
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || (b.logical_date ?? '').localeCompare(a.logical_date ?? ''))
    .map(historyRow);
  if (ctx.json) {
    ctx.out(JSON.stringify({ workflow_id: workflowId, since: since ?? null, status: status ?? null, runs: rows }, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    ctx.out(`No runs${since ? ` since ${shortTime(since)}` : ''}${status ? ` with status ${status}` : ''}.`);
    return 0;
  }
  ctx.out(
    table(
      ['RUN', 'TRIGGER', 'LOGICAL DATE', 'VERSION', 'STARTED', 'DURATION', 'STATUS'],
      rows.map((r) => [r.run_id, r.trigger, shortTime(r.logical_date), `v${r.version}`, shortTime(r.started_at), r.duration_ms === null ? null : duration(r.duration_ms), r.status]),
    ),
  );
  return 0;
}

function historyRow(r: Run): HistoryRow {
  const duration = r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null;
  return { run_id: r.run_id, trigger: r.trigger, logical_date: r.logical_date, version: r.version, status: r.status, started_at: r.started_at, finished_at: r.finished_at, duration_ms: duration };
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m${Math.round((ms % 60_000) / 1000)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** --since (or --until): an ISO date or time, or an age (30m, 24h, 7d) before now. */
export function sinceTime(value: string, now: Date, flag = '--since'): string {
  const age = /^(\d+)([mhd])$/.exec(value);
  if (age) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(age[1]) * unit).toISOString();
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw usage(`${flag} must be an ISO date or time, or an age such as 30m, 24h or 7d; got "${value}".`);
  return new Date(ms).toISOString();
}
