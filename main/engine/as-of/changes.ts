import type { Changes, WorkflowChanges } from '../../../preload/contract/changes.js';
import { RewindError } from '../errors.js';
import type { Queryable, SqlValue } from '../store/port.js';
import { resolveMoment } from './moment.js';
import { STATE_EVENT_TYPES, stateAsOf } from './state-as-of.js';

/*
 * Changes between two moments (issue 22 item 2): the workflow state at each end, rebuilt from the log
 * (see state-as-of.ts), and the events in between — the state changes through the (type, seq)
 * index, the runs as counts of their run_started / run_failed / run_succeeded events, never a walk
 * of the runs' other events.
 */

interface EventRow {
  seq: number;
  ts: string;
  type: string;
  workflow_id: string | null;
  actor: string;
  payload: string;
}

const TYPES = STATE_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
const RUN_COUNTS = ['run_started', 'run_failed', 'run_succeeded'] as const;
const PAUSES = new Set(['workflow_paused', 'workflow_unpaused', 'workflow_overridden', 'workflow_reactivated']);

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function empty(workflowId: string, name: string, before: number | null, after: number | null): WorkflowChanges {
  return {
    workflow_id: workflowId,
    workflow_name: name,
    active_before: before,
    active_after: after,
    published: [],
    rollbacks: [],
    pauses: [],
    schedule_changes: [],
    canary_changes: [],
    runs: { started: 0, failed: 0, succeeded: 0 },
  };
}

export async function changesBetween(q: Queryable, input: { from: string; to: string; workflow_id?: string | undefined }, now: string): Promise<Changes> {
  const from = await resolveMoment(q, input.from, now);
  const to = await resolveMoment(q, input.to, now);
  if (to.seq < from.seq) {
    throw new RewindError('INVALID_RANGE', `to (event ${to.seq}) comes before from (event ${from.seq}).`, 'Give a to that is at or after from.', { from_seq: from.seq, to_seq: to.seq });
  }
  const wf = input.workflow_id;
  const [before, after] = await Promise.all([stateAsOf(q, from, wf, false), stateAsOf(q, to, wf, false)]);
  const scope = wf === undefined ? '' : " AND workflow_id || '' = ?";
  const scoped = (params: SqlValue[]): SqlValue[] => (wf === undefined ? params : [...params, wf]);
  const events = await q.all<EventRow>(`SELECT seq, ts, type, workflow_id, actor, payload FROM events WHERE type IN (${TYPES}) AND seq > ? AND seq <= ?${scope} ORDER BY seq`, scoped([from.seq, to.seq]));
  const counts = await q.all<{ workflow_id: string; type: string; n: number }>(
    `SELECT workflow_id, type, COUNT(*) AS n FROM events WHERE type IN (${RUN_COUNTS.map((t) => `'${t}'`).join(', ')}) AND seq > ? AND seq <= ?${scope} GROUP BY workflow_id, type`,
    scoped([from.seq, to.seq]),
  );

  const names = new Map<string, string>();
  for (const w of [...before.workflows, ...after.workflows]) names.set(w.id, w.name);
  const activeAt = (state: typeof before, id: string) => state.workflows.find((w) => w.id === id)?.active_version ?? null;
  const out = new Map<string, WorkflowChanges>();
  const entry = (id: string) => {
    let c = out.get(id);
    if (!c) {
      c = empty(id, names.get(id) ?? id, activeAt(before, id), activeAt(after, id));
      out.set(id, c);
    }
    return c;
  };

  for (const e of events) {
    if (!e.workflow_id) continue;
    const p = JSON.parse(e.payload) as Record<string, unknown>;
    const base = { seq: e.seq, ts: e.ts, actor: e.actor };
    if (e.type === 'workflow_created') {
      const w = p.workflow as { name?: string } | undefined;
      if (w?.name && !names.has(e.workflow_id)) names.set(e.workflow_id, w.name);
      if (p.version) entry(e.workflow_id).published.push({ ...base, version: 1 });
      else entry(e.workflow_id);
    } else if (e.type === 'version_published') entry(e.workflow_id).published.push({ ...base, version: Number(p.to_version) });
    else if (e.type === 'workflow_rollback') {
      entry(e.workflow_id).rollbacks.push({ ...base, from_version: num(p.from_version), to_version: Number(p.to_version), by_policy: e.actor.startsWith('policy:') });
    } else if (PAUSES.has(e.type)) entry(e.workflow_id).pauses.push({ ...base, type: e.type, status: String(p.status) });
    else if (e.type === 'workflow_schedule_set') entry(e.workflow_id).schedule_changes.push({ ...base, schedule: str(p.schedule) });
    else if (e.type === 'canary_started' || e.type === 'canary_promoted' || e.type === 'canary_aborted') {
      entry(e.workflow_id).canary_changes.push({ ...base, type: e.type, version: num(p.version), reason: str(p.reason) });
    }
  }
  for (const c of counts) {
    const runs = entry(c.workflow_id).runs;
    if (c.type === 'run_started') runs.started = Number(c.n);
    else if (c.type === 'run_failed') runs.failed = Number(c.n);
    else runs.succeeded = Number(c.n);
  }
  // A workflow whose active version differs at the two ends is listed even with no event of its own in scope.
  for (const w of after.workflows) if (activeAt(before, w.id) !== w.active_version) entry(w.id);

  const workflows = [...out.values()].map((c) => ({ ...c, workflow_name: names.get(c.workflow_id) ?? c.workflow_name })).sort((a, b) => a.workflow_name.localeCompare(b.workflow_name) || a.workflow_id.localeCompare(b.workflow_id));
  return { from_seq: from.seq, to_seq: to.seq, from_ts: from.ts, to_ts: to.ts, workflows };
}
