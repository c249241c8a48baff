import type { DeadLetter, FailingWorkflow, IncidentSummary, RecentRollback, Role, RunningCanary } from '../../preload/contract/index.js';

/*
 * The incident home's model: sections of what is wrong now, worst first. A section exists only for a
 * kind that has items — nothing is drawn for what this connection does not have. A new kind (runs
 * awaiting approval, running canaries, dead-lettered webhooks) adds a variant here and its renderer.
 */
export type HomeSection =
  | { kind: 'failing'; title: string; items: FailingWorkflow[] }
  | { kind: 'rolled-back'; title: string; items: FailingWorkflow[] }
  | { kind: 'canaries'; title: string; items: RunningCanary[] }
  | { kind: 'rollbacks'; title: string; items: RecentRollback[] }
  | { kind: 'dead-letters'; title: string; items: DeadLetter[] };

export function homeSections(summary: IncidentSummary | null): HomeSection[] {
  if (!summary) return [];
  const out: HomeSection[] = [];
  // A workflow a policy already rolled back is no longer failing now: it is listed with what the policy did.
  const failing = summary.failing.filter((f) => !f.policy_rollback);
  const rolledBack = summary.failing.filter((f) => f.policy_rollback);
  if (failing.length > 0) out.push({ kind: 'failing', title: 'Failing now', items: failing });
  if (rolledBack.length > 0) out.push({ kind: 'rolled-back', title: 'Recently rolled back', items: rolledBack });
  if (summary.canaries?.length) out.push({ kind: 'canaries', title: 'Running canaries', items: summary.canaries });
  if (summary.recent_rollbacks.length > 0) out.push({ kind: 'rollbacks', title: 'Recent rollbacks', items: summary.recent_rollbacks });
  if (summary.dead_letters?.length) out.push({ kind: 'dead-letters', title: 'Webhook deliveries given up', items: summary.dead_letters });
  return out;
}

/*
 * suggested action: the bad version is active → roll back to the last good one;
 *                   rolled back (or nothing to roll back to) → resume the newest failed run, or open it.
 */
export type SuggestedAction =
  | { kind: 'rollback'; workflowId: string; version: number; label: string }
  | { kind: 'resume'; runId: string; version: number; label: string }
  | { kind: 'open-run'; runId: string; label: string };

export function suggestedAction(f: FailingWorkflow): SuggestedAction {
  // Rolled back by a policy: its failed runs were the canary's, not work to finish on the old version.
  if (f.policy_rollback) return { kind: 'open-run', runId: f.latest_failed_run_id, label: 'Open the failing run' };
  if (f.last_good !== null && f.active_version !== f.last_good && f.bad_since !== null && (f.active_version ?? 0) >= f.bad_since) {
    return { kind: 'rollback', workflowId: f.workflow_id, version: f.last_good, label: `Roll back to v${f.last_good} (last good)` };
  }
  if (f.active_version !== null && f.active_version !== f.latest_failed_version && f.active_version === f.last_good) {
    return { kind: 'resume', runId: f.latest_failed_run_id, version: f.active_version, label: `Resume ${f.latest_failed_run_id} on v${f.active_version}` };
  }
  return { kind: 'open-run', runId: f.latest_failed_run_id, label: 'Open the failing run' };
}

/** "bad since v4 (failing 3/3)": the failures over the whole bad streak. */
export function badLabel(f: FailingWorkflow): string | null {
  if (f.bad_since === null) return null;
  const streak = f.by_version.filter((h) => h.version >= f.bad_since!);
  const failed = streak.reduce((n, h) => n + h.failed, 0);
  const runs = streak.reduce((n, h) => n + h.runs, 0);
  return `bad since v${f.bad_since} (failing ${failed}/${runs})`;
}

export type VersionMark = 'bad' | 'last-good';

/** The timeline's marks for one workflow: every version of the bad streak, and the last good one. */
export function versionMarks(f: FailingWorkflow | null): ReadonlyMap<number, VersionMark> {
  const marks = new Map<number, VersionMark>();
  if (!f) return marks;
  if (f.bad_since !== null) for (const h of f.by_version) if (h.version >= f.bad_since) marks.set(h.version, 'bad');
  if (f.last_good !== null) marks.set(f.last_good, 'last-good');
  return marks;
}

/**
 * "12 min ago", "3 h ago", "2 d ago": the on-call reading of a time; the absolute one goes in a tooltip.
 * In a snapshot the reference is the moment it was taken, not the wall clock: "12 min before the snapshot".
 */
export function relativeTime(iso: string, now: number, anchor: 'now' | 'snapshot' = 'now'): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  if (ms < 60_000) return anchor === 'snapshot' ? 'at the snapshot' : 'just now';
  const ago = anchor === 'snapshot' ? 'before the snapshot' : 'ago';
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min ${ago}`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${ago}`;
  return `${Math.floor(h / 24)} d ${ago}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Built once per zone: constructing a formatter costs far more than formatting with one. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
    formatters.set(timeZone, f);
  }
  return f;
}
let localZone: string | null = null;

/** The absolute time with its time zone, for a tooltip: `2026-12-02 14:31:05 (Europe/Paris, UTC+01:00)`. */
export function absoluteTime(iso: string, timeZone?: string): string {
  const zone = timeZone ?? (localZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone);
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = formatterFor(zone).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const offset = get('timeZoneName').replace('GMT', 'UTC') || 'UTC';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} (${zone}, ${offset === 'UTC' ? 'UTC+00:00' : offset})`;
}

/*
 * What a role may do (the server's least roles: roll back, pause, resume and approve are operator's). The
 * console disables what would be refused instead of letting the operator type a confirmation for it.
 */
export type GuardedAction = 'rollback' | 'pause' | 'resume' | 'approve' | 'backfill' | 'start' | 'replay' | 'promote' | 'abort' | 'acknowledge';
/** What each action is called in a refusal: "it may read, not promote a canary". */
const ACTION_WORDS: Record<GuardedAction, string> = {
  rollback: 'roll back',
  pause: 'pause or unpause',
  resume: 'resume runs',
  approve: 'approve or deny',
  backfill: 'backfill',
  start: 'start runs',
  replay: 'replay runs',
  promote: 'promote a canary',
  abort: 'abort a canary',
  acknowledge: 'acknowledge incidents',
};
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function permission(role: Role | null | undefined, action: GuardedAction): { allowed: true } | { allowed: false; reason: string } {
  // Not known yet (the server has not said): allow; the server still refuses what the token may not do.
  if (!role || RANK[role] >= RANK.operator) return { allowed: true };
  return { allowed: false, reason: `Your token is a ${role}'s: it may read, not ${ACTION_WORDS[action]}. Ask an operator, or replace the token.` };
}

/** "v4 published by ana, 2 h ago" needs the clock; the parts: who put the blamed version forward, and when. */
export function publishedBy(f: FailingWorkflow): { version: number; by: string; at: string | null } | null {
  if (f.bad_version === undefined || !f.bad_published_by) return null;
  return { version: f.bad_version, by: f.bad_published_by, at: f.bad_published_at ?? null };
}

/** What a policy's rollback did, in one line: "policy:canary rolled v4 back to v2: failure rate 40 % over 20 runs broke the limit of 5 %". */
export function policyLine(f: FailingWorkflow): string | null {
  const p = f.policy_rollback;
  if (!p) return null;
  return `${p.actor} rolled v${p.from_version ?? '?'} back to v${p.to_version}${p.reason ? `: ${p.reason}` : ''}`;
}
