import type { FailingWorkflow, IncidentSummary, RecentRollback, VersionHealth } from '../../preload/contract/incidents.js';
import type { WorkflowStatus } from '../../preload/contract/entities.js';
import type { Queryable, SqlValue } from './store/port.js';
import { withDetails } from './incident-details.js';

/*
 * The incident home's summary: what is wrong now, worst first. Written once against the storage
 * port's reader in portable SQL (`?` placeholders, no SQLite-only functions: the cutoffs are computed
 * here and bound as ISO text), so it runs on SQLite and PostgreSQL alike. A fixed handful of
 * aggregate queries whatever the number of workflows or runs: the failures are grouped per workflow
 * in SQL over the window's index range, each version's figures come from the run counters
 * (`run_version_stats`), and per-workflow lists are bounded by `IN` chunks.
 */

/** The window failures are counted in: the same 24 hours as the workflows' `failed_runs` badge. */
export const FAILURE_WINDOW_HOURS = 24;
/** How far back "recent rollbacks" reach, and how many are shown. */
export const ROLLBACK_WINDOW_DAYS = 7;
export const ROLLBACK_LIMIT = 10;
/** Seed 003's trigger: a failure rate above 20 % calls for a rollback. */
export const BAD_FAILURE_RATE = 0.2;
/** Keeps `IN (…)` lists well under every store's bound-parameter limit. */
const CHUNK = 500;

const HOUR_MS = 3_600_000;

/** A failing workflow's open failures in the window, with its newest one. */
interface OpenFailureRow {
  workflow_id: string;
  run_id: string;
  version: number;
  open_failures: number;
  first_at: string;
  last_at: string;
}
interface HealthRow {
  workflow_id: string;
  version: number;
  runs: number;
  failed: number;
  succeeded: number;
}
interface VersionRow {
  workflow_id: string;
  version: number;
  status: string;
}
interface WorkflowRow {
  id: string;
  name: string;
  status: WorkflowStatus;
  active_version: number | null;
  revision: number;
}
interface RollbackRow {
  seq: number;
  ts: string;
  workflow_id: string;
  actor: string;
  payload: string;
  name: string | null;
}


async function chunked<T>(ids: readonly string[], query: (placeholders: string, ids: SqlValue[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    out.push(...(await query(part.map(() => '?').join(', '), part)));
  }
  return out;
}

/** Rows by workflow, each list built once (never copied per row). */
function groupBy<T extends { workflow_id: string }>(rows: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const list = m.get(r.workflow_id);
    if (list) list.push(r);
    else m.set(r.workflow_id, [r]);
  }
  return m;
}

const isBad = (h: VersionHealth) => h.runs > 0 && h.failed / h.runs > BAD_FAILURE_RATE;
const isGood = (h: VersionHealth) => h.succeeded > 0 && h.failed / h.runs <= BAD_FAILURE_RATE;

/**
 * The bad streak and the last good version from the failure rate by version (newest first) and the
 * versions a rollback could go to (published, not archived).
 */
export function judgeVersions(byVersion: readonly VersionHealth[], rollbackTargets: ReadonlySet<number>): { bad_since: number | null; last_good: number | null } {
  let badSince: number | null = null;
  for (const h of byVersion) {
    if (!isBad(h)) break;
    badSince = h.version;
  }
  const below = badSince ?? Number.POSITIVE_INFINITY;
  const good = byVersion.find((h) => h.version < below && isGood(h) && rollbackTargets.has(h.version));
  return { bad_since: badSince, last_good: good?.version ?? null };
}

/** Worst first: still broken (the bad version is active) before already rolled back; then more failures; then the most recent. */
export function worstFirst(a: FailingWorkflow, b: FailingWorkflow): number {
  const live = (f: FailingWorkflow) => (f.bad_since !== null && f.active_version !== null && f.active_version >= f.bad_since ? 1 : 0);
  return live(b) - live(a) || b.open_failures - a.open_failures || b.last_failure_at.localeCompare(a.last_failure_at) || a.workflow_name.localeCompare(b.workflow_name);
}

export async function incidentSummary(db: Queryable, now: Date): Promise<IncidentSummary> {
  const failureCutoff = new Date(now.getTime() - FAILURE_WINDOW_HOURS * HOUR_MS).toISOString();
  const rollbackCutoff = new Date(now.getTime() - ROLLBACK_WINDOW_DAYS * 24 * HOUR_MS).toISOString();

  // Per workflow, in SQL over the open failures of the window (failed or interrupted runs, not
  // replays, that no resume has followed: the open_failures index by time): how many, when the first
  // and the last, and the newest one (rank 1; run_id breaks a tie of one millisecond).
  const open = await db.all<OpenFailureRow>(
    `SELECT workflow_id, run_id, version, open_failures, first_at, last_at FROM (
       SELECT r.workflow_id, r.run_id, r.version,
         COUNT(*) OVER (PARTITION BY r.workflow_id) AS open_failures,
         MIN(COALESCE(r.finished_at, r.created_at)) OVER (PARTITION BY r.workflow_id) AS first_at,
         MAX(COALESCE(r.finished_at, r.created_at)) OVER (PARTITION BY r.workflow_id) AS last_at,
         ROW_NUMBER() OVER (PARTITION BY r.workflow_id ORDER BY r.created_at DESC, r.run_id) AS newest
       FROM open_failures f JOIN runs r ON r.run_id = f.run_id WHERE f.created_at > ?
     ) failures WHERE newest = 1`,
    [failureCutoff],
  );
  const failingIds = open.map((r) => r.workflow_id);

  const [health, versions, workflows] = await Promise.all([
    // Each version's judged runs, from the counters the run's end keeps (never a scan of the runs).
    chunked(failingIds, (ph, ids) => db.all<HealthRow>(`SELECT workflow_id, version, runs, failed, succeeded FROM run_version_stats WHERE workflow_id IN (${ph})`, ids)),
    chunked(failingIds, (ph, ids) =>
      db.all<VersionRow>(
        `SELECT workflow_id, version, status FROM workflow_versions
         WHERE workflow_id IN (${ph}) AND published_at IS NOT NULL AND status IN ('active', 'deprecated')`,
        ids,
      ),
    ),
    chunked(failingIds, (ph, ids) => db.all<WorkflowRow>(`SELECT id, name, status, active_version, revision FROM workflows WHERE id IN (${ph}) AND unregistered_at IS NULL`, ids)),
  ]);

  const openBy = new Map(open.map((r) => [r.workflow_id, r]));
  const healthBy = groupBy(health);
  const targetsBy = groupBy(versions);

  const failing: FailingWorkflow[] = [];
  for (const w of workflows) {
    const latest = openBy.get(w.id);
    if (!latest) continue;
    const byVersion = (healthBy.get(w.id) ?? [])
      .map((h): VersionHealth => ({ version: Number(h.version), runs: Number(h.runs), failed: Number(h.failed), succeeded: Number(h.succeeded) }))
      .sort((a, b) => b.version - a.version);
    const targets = new Set((targetsBy.get(w.id) ?? []).map((v) => Number(v.version)));
    failing.push({
      workflow_id: w.id,
      workflow_name: w.name,
      status: w.status,
      active_version: w.active_version,
      revision: w.revision,
      open_failures: Number(latest.open_failures),
      first_failure_at: latest.first_at,
      last_failure_at: latest.last_at,
      latest_failed_run_id: latest.run_id,
      latest_failed_version: Number(latest.version),
      by_version: byVersion,
      ...judgeVersions(byVersion, targets),
    });
  }
  failing.sort(worstFirst);
  const detailed = await withDetails(db, failing);

  const rollbackRows = await db.all<RollbackRow>(
    `SELECT e.seq, e.ts, e.workflow_id, e.actor, e.payload, w.name
     FROM events e LEFT JOIN workflows w ON w.id = e.workflow_id
     WHERE e.type = 'workflow_rollback' AND e.ts > ? ORDER BY e.seq DESC LIMIT ?`,
    [rollbackCutoff, ROLLBACK_LIMIT],
  );
  const recent_rollbacks = rollbackRows.map((r): RecentRollback => {
    const payload = JSON.parse(r.payload) as { from_version?: number | null; to_version: number };
    return {
      seq: r.seq,
      ts: r.ts,
      workflow_id: r.workflow_id,
      workflow_name: r.name ?? r.workflow_id,
      actor: r.actor,
      from_version: payload.from_version ?? null,
      to_version: payload.to_version,
    };
  });

  return { generated_at: now.toISOString(), window_hours: FAILURE_WINDOW_HOURS, failing: detailed, recent_rollbacks };
}
