import type { CanarySpec } from '../../preload/contract/canary.js';
import type { RewindEvent } from '../../preload/contract/entities.js';
import { healthyReason, windowReached } from './canary.js';
import type { Queryable } from './store/port.js';

/** Workflow and version state as the tables hold it, minus what is derived (failed_runs). */
export interface StateSnapshot {
  workflows: Record<string, Record<string, unknown>>;
  versions: Record<string, Record<string, unknown>>;
}

/**
 * Replays the event log from the start into workflow and version state (invariant 4). Comparing
 * the result with `snapshotState` proves every change was recorded, and recorded faithfully.
 */
export function rebuildFromEvents(events: Iterable<RewindEvent>): StateSnapshot {
  const workflows: StateSnapshot['workflows'] = {};
  const versions: StateSnapshot['versions'] = {};
  const key = (workflowId: string, version: unknown) => `${workflowId}#${String(version)}`;
  for (const e of events) {
    const p = e.payload;
    const wf = e.workflow_id ? workflows[e.workflow_id] : undefined;
    const touch = () => {
      if (!wf) return;
      wf.revision = p.revision;
      wf.updated_at = e.ts;
    };
    switch (e.type) {
      case 'workflow_created': {
        const w = p.workflow as Record<string, unknown>;
        const v = p.version as Record<string, unknown> | null;
        // Events written before the columns of migration 0090 existed carry none of them.
        workflows[String(w.id)] = { unregistered_at: null, code_file: null, template_name: null, template_version: null, ...w, active_version: v ? 1 : null, revision: p.revision };
        if (v) versions[key(String(w.id), 1)] = { ...v };
        break;
      }
      case 'workflow_paused':
      case 'workflow_unpaused':
      case 'workflow_overridden':
      case 'workflow_reactivated':
        if (wf) wf.status = p.status;
        touch();
        break;
      case 'workflow_schedule_set':
        if (wf) wf.schedule = p.schedule;
        touch();
        break;
      case 'workflow_unregistered':
        if (wf) wf.unregistered_at = e.ts;
        touch();
        break;
      case 'workflow_described':
        if (wf) {
          wf.description = p.description;
          wf.code_file = p.code_file;
        }
        touch();
        break;
      case 'version_created':
        versions[key(e.workflow_id!, p.version)] = {
          version_id: p.version_id,
          workflow_id: e.workflow_id,
          version: p.version,
          dsl_definition: p.dsl_definition,
          change_log: p.change_log,
          status: 'draft',
          created_by: p.created_by,
          published_at: null,
          created_at: e.ts,
        };
        touch();
        break;
      case 'version_published':
      case 'workflow_rollback': {
        const from = p.from_version === null ? undefined : versions[key(e.workflow_id!, p.from_version)];
        if (from) from.status = 'deprecated';
        const to = versions[key(e.workflow_id!, p.to_version)];
        if (to) {
          to.status = 'active';
          if (e.type === 'version_published') to.published_at = e.ts;
        }
        if (wf) wf.active_version = p.to_version;
        touch();
        break;
      }
      case 'canary_started':
        touch();
        break;
      case 'canary_aborted': {
        // A canary ended by hand before it was ever active leaves its draft deprecated (see CanaryService.supersede).
        const v = versions[key(e.workflow_id!, p.version)];
        if (v?.status === 'draft') v.status = 'deprecated';
        break;
      }
      case 'version_archived': {
        const v = versions[key(e.workflow_id!, p.version)];
        if (v) v.status = 'archived';
        touch();
        break;
      }
      default:
        break;
    }
  }
  return { workflows, versions };
}

export async function snapshotState(q: Queryable): Promise<StateSnapshot> {
  const workflows: StateSnapshot['workflows'] = {};
  for (const row of await q.all<Record<string, unknown>>('SELECT * FROM workflows')) workflows[String(row.id)] = row;
  const versions: StateSnapshot['versions'] = {};
  for (const row of await q.all<Record<string, unknown>>('SELECT * FROM workflow_versions')) {
    versions[`${String(row.workflow_id)}#${String(row.version)}`] = { ...row, dsl_definition: JSON.parse(String(row.dsl_definition)) as unknown };
  }
  return { workflows, versions };
}

/** A `canaries` row as the log rebuilds it; `canary_id` (a random id on the server, in no event) is the caller's. */
export interface RebuiltCanary {
  workflow_id: string;
  version: number;
  stable_version: number;
  percent: number;
  /** The policy as the table keeps it: JSON. */
  policy: string;
  state: 'running' | 'healthy' | 'promoted' | 'aborted';
  reason: string | null;
  started_at: string;
  started_by: string;
  ended_at: string | null;
  /** The seq of its `canary_started`: names it in the rebuilt copy. */
  started_seq: number;
}

const RUN_ENDS_JUDGED = new Set(['run_succeeded', 'run_failed', 'run_interrupted']);

/**
 * Replays the log into the canaries as the engine's CanaryService leaves them (main/engine/canary.ts):
 * each `canary_started` opens one, its `canary_promoted` or `canary_aborted` ends it. The one state
 * with no event of its own, `healthy` (a manual-promote canary that reached its window unbroken), is
 * recounted the way the policy counts: judged run ends (not cancelled, not replays) of its version,
 * of runs created since it started. A breach or an automatic promote is an event, so an open canary
 * with that many runs is healthy.
 */
export function rebuildCanaries(events: Iterable<RewindEvent>): RebuiltCanary[] {
  const canaries: RebuiltCanary[] = [];
  const open = new Map<string, { canary: RebuiltCanary; policy: CanarySpec; runs: number }>();
  const createdAt = new Map<string, string>();
  for (const e of events) {
    const p = e.payload;
    if (e.type === 'run_started' && e.run_id) createdAt.set(e.run_id, e.ts);
    if (!e.workflow_id) continue;
    if (e.type === 'canary_started') {
      const canary: RebuiltCanary = {
        workflow_id: e.workflow_id,
        version: Number(p.version),
        stable_version: Number(p.stable_version),
        percent: Number(p.percent),
        policy: JSON.stringify(p.policy),
        state: 'running',
        reason: null,
        started_at: e.ts,
        started_by: e.actor,
        ended_at: null,
        started_seq: e.seq,
      };
      canaries.push(canary);
      open.set(e.workflow_id, { canary, policy: p.policy as CanarySpec, runs: 0 });
      continue;
    }
    const current = open.get(e.workflow_id);
    if (!current) continue;
    if (e.type === 'canary_promoted' || e.type === 'canary_aborted') {
      current.canary.state = e.type === 'canary_promoted' ? 'promoted' : 'aborted';
      current.canary.reason = typeof p.reason === 'string' ? p.reason : null;
      current.canary.ended_at = e.ts;
      open.delete(e.workflow_id);
    } else if (RUN_ENDS_JUDGED.has(e.type) && p.version === current.canary.version && p.kind !== 'replay' && e.run_id) {
      const created = createdAt.get(e.run_id);
      if (created === undefined || created < current.canary.started_at) continue;
      current.runs += 1;
      if (current.canary.state === 'running' && current.policy.promote === 'manual' && windowReached(current.policy, current.runs)) {
        current.canary.state = 'healthy';
        current.canary.reason = healthyReason(current.runs);
      }
    }
  }
  return canaries;
}
