import type { FailingWorkflow, IncidentSummary, RecentRollback, RunningCanary, VersionHealth } from '../../../preload/contract/incidents.js';
import { withDetails } from '../incident-details.js';
import { FAILURE_WINDOW_HOURS, ROLLBACK_LIMIT, ROLLBACK_WINDOW_DAYS, judgeVersions, worstFirst } from '../incidents.js';
import type { Queryable } from '../store/port.js';
import type { Moment } from './moment.js';
import { endedAsOf, openFailureAsOf } from './runs-as-of.js';
import { stateAsOf } from './state-as-of.js';

/*
 * The incident home's summary as it stood at a moment: the same rules as incidents.ts (open failures
 * of the window before the moment, the failure rate by version, the bad streak and the last good
 * version, recent rollbacks), over the runs table as of the moment and the workflow and version state
 * rebuilt from the log. Webhook dead letters are the caller's (they live in the delivery table).
 */

const HOUR_MS = 3_600_000;

interface OpenFailureRow {
  workflow_id: string;
  run_id: string;
  version: number;
  at: string;
}

export async function incidentSummaryAsOf(q: Queryable, m: Moment, at: string): Promise<Omit<IncidentSummary, 'dead_letters'>> {
  const empty = { generated_at: at, window_hours: FAILURE_WINDOW_HOURS, failing: [], recent_rollbacks: [], canaries: [] };
  if (m.ts === null) return empty;
  const now = new Date(m.ts);
  const failureCutoff = new Date(now.getTime() - FAILURE_WINDOW_HOURS * HOUR_MS).toISOString();
  const rollbackCutoff = new Date(now.getTime() - ROLLBACK_WINDOW_DAYS * 24 * HOUR_MS).toISOString();
  const ended = endedAsOf({ ...m, ts: m.ts });
  const openFailure = openFailureAsOf({ ...m, ts: m.ts }, failureCutoff);
  const open = await q.all<OpenFailureRow>(
    `SELECT r.workflow_id, r.run_id, r.version, COALESCE(r.finished_at, r.created_at) AS at FROM runs r WHERE ${openFailure.sql} ORDER BY r.created_at DESC, r.run_id`,
    openFailure.params,
  );
  const state = await stateAsOf(q, m);
  const names = new Map(state.workflows.map((w) => [w.id, w.name]));
  const failingIds = [...new Set(open.map((r) => r.workflow_id))].filter((id) => names.has(id));

  const failing: FailingWorkflow[] = [];
  for (const w of state.workflows.filter((x) => failingIds.includes(x.id))) {
    const health = await q.all<{ version: number; runs: number; failed: number; succeeded: number }>(
      `SELECT r.version, COUNT(*) AS runs,
         SUM(CASE WHEN r.status IN ('failed', 'interrupted') THEN 1 ELSE 0 END) AS failed,
         SUM(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded
       FROM runs r WHERE r.workflow_id = ? AND r.kind <> 'replay' AND r.status IN ('succeeded', 'failed', 'interrupted') AND ${ended.sql}
       GROUP BY r.version`,
      [w.id, ...ended.params],
    );
    const mine = open.filter((r) => r.workflow_id === w.id);
    const latest = mine[0]!;
    const times = mine.map((r) => r.at).sort();
    const byVersion = health
      .map((h): VersionHealth => ({ version: h.version, runs: Number(h.runs), failed: Number(h.failed), succeeded: Number(h.succeeded) }))
      .sort((a, b) => b.version - a.version);
    const targets = new Set((state.versions.get(w.id) ?? []).filter((v) => v.published_at !== null && (v.status === 'active' || v.status === 'deprecated')).map((v) => v.version));
    failing.push({
      workflow_id: w.id,
      workflow_name: w.name,
      status: w.status,
      active_version: w.active_version,
      revision: w.revision,
      open_failures: mine.length,
      first_failure_at: times[0]!,
      last_failure_at: times[times.length - 1]!,
      latest_failed_run_id: latest.run_id,
      latest_failed_version: latest.version,
      by_version: byVersion,
      ...judgeVersions(byVersion, targets),
    });
  }
  failing.sort(worstFirst);

  const rollbackRows = await q.all<{ seq: number; ts: string; workflow_id: string; actor: string; payload: string }>(
    "SELECT seq, ts, workflow_id, actor, payload FROM events WHERE type = 'workflow_rollback' AND ts > ? AND seq <= ? ORDER BY seq DESC LIMIT ?",
    [rollbackCutoff, m.seq, ROLLBACK_LIMIT],
  );
  const recent_rollbacks = rollbackRows.map((r): RecentRollback => {
    const payload = JSON.parse(r.payload) as { from_version?: number | null; to_version: number };
    return { seq: r.seq, ts: r.ts, workflow_id: r.workflow_id, workflow_name: names.get(r.workflow_id) ?? r.workflow_id, actor: r.actor, from_version: payload.from_version ?? null, to_version: payload.to_version };
  });
  const canaries: RunningCanary[] = state.workflows
    .flatMap((w) => (w.canary ? [{ ...w.canary, workflow_id: w.id, workflow_name: w.name }] : []))
    .sort((a, b) => (a.started_at < b.started_at ? 1 : -1));
  return { generated_at: m.ts, window_hours: FAILURE_WINDOW_HOURS, failing: await withDetails(q, failing, m.seq), recent_rollbacks, canaries };
}
