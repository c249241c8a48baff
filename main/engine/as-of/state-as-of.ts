import type { Canary, CanarySpec } from '../../../preload/contract/canary.js';
import type { RewindEvent, Workflow, WorkflowVersion } from '../../../preload/contract/entities.js';
import { windowReached } from '../canary.js';
import { RewindError } from '../errors.js';
import { rebuildCanaries, rebuildFromEvents } from '../rebuild.js';
import { type VersionRow, type WorkflowRow, toVersion, toWorkflow } from '../rows.js';
import type { Queryable, SqlValue } from '../store/port.js';
import type { Moment } from './moment.js';
import { endedAsOf, openFailureAsOf } from './runs-as-of.js';

/*
 * Workflow and version state as of a moment, rebuilt from the log (invariant 4) — from the few events
 * that change it, read through the (type, seq) index, never the runs' events that make up almost all
 * of a long log. What the state derives from runs (the failed-runs badge, a canary's figures) is
 * counted over the runs table as of the moment.
 */

/** The event types `rebuildFromEvents` and `rebuildCanaries` read for workflow, version and canary state. */
export const STATE_EVENT_TYPES = [
  'workflow_created',
  'workflow_paused',
  'workflow_unpaused',
  'workflow_overridden',
  'workflow_reactivated',
  'workflow_schedule_set',
  'workflow_unregistered',
  'workflow_described',
  'version_created',
  'version_published',
  'workflow_rollback',
  'canary_started',
  'canary_promoted',
  'canary_aborted',
  'version_archived',
] as const;

const TYPES = STATE_EVENT_TYPES.map((t) => `'${t}'`).join(', ');

interface EventRow extends Omit<RewindEvent, 'payload'> {
  payload: string;
}

async function stateEvents(q: Queryable, m: Moment, workflowId?: string): Promise<RewindEvent[]> {
  const [sql, params]: [string, SqlValue[]] =
    workflowId === undefined
      ? [`SELECT * FROM events WHERE type IN (${TYPES}) AND seq <= ? ORDER BY seq`, [m.seq]]
      : // `workflow_id || ''` keeps the planner on the (type, seq, workflow_id) index: the by-workflow one would walk all the workflow's run events.
        [`SELECT * FROM events WHERE type IN (${TYPES}) AND workflow_id || '' = ? AND seq <= ? ORDER BY seq`, [workflowId, m.seq]];
  return (await q.all<EventRow>(sql, params)).map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
}

const DAY_MS = 86_400_000;

/** The failed-runs badge as it stood: failed or interrupted runs of the 24 hours before the moment that no resume had followed by then. */
async function failedRuns(q: Queryable, m: Moment, workflowId?: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (m.ts === null) return out;
  const open = openFailureAsOf({ ...m, ts: m.ts }, new Date(new Date(m.ts).getTime() - DAY_MS).toISOString());
  // Per workflow, as the badge of now is counted: each count walks the (workflow_id, created_at) index over one day.
  const rows = await q.all<{ workflow_id: string; n: number }>(
    `SELECT w.id AS workflow_id, (SELECT COUNT(*) FROM runs r WHERE r.workflow_id = w.id AND ${open.sql}) AS n FROM workflows w${workflowId === undefined ? '' : ' WHERE w.id = ?'}`,
    [...open.params, ...(workflowId === undefined ? [] : [workflowId])],
  );
  for (const r of rows) out.set(r.workflow_id, Number(r.n));
  return out;
}

/** The canaries open at the moment, by workflow, with their figures as they stood. */
async function openCanaries(q: Queryable, m: Moment, events: RewindEvent[]): Promise<Map<string, Canary>> {
  const out = new Map<string, Canary>();
  if (m.ts === null) return out;
  const ended = endedAsOf({ ...m, ts: m.ts });
  for (const c of rebuildCanaries(events)) {
    if (c.state !== 'running') continue;
    const finished = await q.get<{ runs: number; succeeded: number }>(
      `SELECT COUNT(*) AS runs, COALESCE(SUM(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END), 0) AS succeeded FROM runs r
       WHERE r.workflow_id = ? AND r.version = ? AND r.created_at >= ? AND r.status IN ('succeeded', 'failed', 'interrupted') AND r.kind <> 'replay' AND ${ended.sql}`,
      [c.workflow_id, c.version, c.started_at, ...ended.params],
    );
    const runs = Number(finished?.runs ?? 0);
    const failed = runs - Number(finished?.succeeded ?? 0);
    const f = { runs, failed, failure_rate: runs === 0 ? 0 : failed / runs };
    const policy = JSON.parse(c.policy) as CanarySpec;
    // `healthy` has no event of its own: a manual-promote canary whose window was reached unbroken.
    const healthy = policy.promote === 'manual' && windowReached(policy, f.runs);
    out.set(c.workflow_id, {
      version: c.version,
      stable_version: c.stable_version,
      percent: c.percent,
      policy,
      runs: f.runs,
      failures: f.failed,
      failure_rate: f.failure_rate,
      state: healthy ? 'healthy' : 'running',
      started_at: c.started_at,
      started_by: c.started_by,
    });
  }
  return out;
}

/** Workflows as they stood (registered ones, as the list shows them), with their versions. */
export interface StateAsOf {
  workflows: Workflow[];
  versions: Map<string, WorkflowVersion[]>;
}

/** `derived: false` leaves out what runs decide (failed_runs 0, no canary): for a caller that reads only versions. */
export async function stateAsOf(q: Queryable, m: Moment, workflowId?: string, derived = true): Promise<StateAsOf> {
  const events = await stateEvents(q, m, workflowId);
  const rebuilt = rebuildFromEvents(events);
  const [failed, canaries] = derived ? await Promise.all([failedRuns(q, m, workflowId), openCanaries(q, m, events)]) : [new Map<string, number>(), new Map<string, Canary>()];
  const workflows = Object.values(rebuilt.workflows)
    .filter((w) => w.unregistered_at === null)
    .map((w) => ({ ...toWorkflow({ ...(w as unknown as WorkflowRow), failed_runs: failed.get(String(w.id)) ?? 0 }), canary: canaries.get(String(w.id)) ?? null }));
  const versions = new Map<string, WorkflowVersion[]>();
  for (const v of Object.values(rebuilt.versions)) {
    const id = String(v.workflow_id);
    versions.set(id, [...(versions.get(id) ?? []), toVersion({ ...(v as unknown as VersionRow), dsl_definition: JSON.stringify(v.dsl_definition) })]);
  }
  for (const list of versions.values()) list.sort((a, b) => b.version - a.version);
  return { workflows, versions };
}

/** The list's order: by name regardless of case, then MANUAL before CODE. */
function byName(a: Workflow, b: Workflow): number {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.source_type < b.source_type ? -1 : a.source_type > b.source_type ? 1 : 0;
}

/** workflows:list as of a moment: the same name search and order as now. */
export async function listWorkflowsAsOf(q: Queryable, m: Moment, query?: string): Promise<Workflow[]> {
  const { workflows } = await stateAsOf(q, m);
  const needle = query?.toLowerCase();
  return workflows.filter((w) => !needle || w.name.toLowerCase().includes(needle) || w.description.toLowerCase().includes(needle)).sort(byName);
}

function notFound(id: string, m: Moment): RewindError {
  return new RewindError('WORKFLOW_NOT_FOUND', `No workflow had the id "${id}" as of event ${m.seq}.`, 'List the workflows as of that moment to find its id, or read it without as_of.', {
    workflow_id: id,
    as_of_seq: m.seq,
  });
}

/** workflows:get as of a moment. */
export async function getWorkflowAsOf(q: Queryable, m: Moment, workflowId: string): Promise<Workflow> {
  const { workflows } = await stateAsOf(q, m, workflowId);
  const wf = workflows.find((w) => w.id === workflowId);
  if (!wf) throw notFound(workflowId, m);
  return wf;
}

/** versions:list as of a moment: newest first, paged by offset and limit as now. */
export async function listVersionsAsOf(q: Queryable, m: Moment, workflowId: string, offset: number, limit: number): Promise<{ versions: WorkflowVersion[]; total: number }> {
  const { workflows, versions } = await stateAsOf(q, m, workflowId, false);
  if (!workflows.some((w) => w.id === workflowId)) throw notFound(workflowId, m);
  const all = versions.get(workflowId) ?? [];
  return { versions: all.slice(offset, offset + limit), total: all.length };
}
