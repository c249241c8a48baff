import type { FailingWorkflow, PolicyRollback } from '../../preload/contract/incidents.js';
import type { Queryable } from './store/port.js';

/*
 * What an incident card needs beyond the counts: the newest failure's error line, who published the
 * bad version and when, and — when a canary policy already rolled the workflow back from the failing
 * version — what the policy did. Read per failing workflow from its newest events of those kinds
 * (bounded: a workflow's last publishes and rollbacks, through the events-by-workflow index).
 */

const ERROR = 'SELECT error, failed_node FROM runs WHERE run_id = ?';
// Each bounded by `seq <= ?`: the head for a read of now, the moment for an as-of read (issue 22).
const PUBLISHES = "SELECT actor, ts, type, payload FROM events WHERE workflow_id = ? AND type IN ('version_published', 'canary_started') AND seq <= ? ORDER BY seq DESC LIMIT 100";
const LAST_ROLLBACK = "SELECT seq, ts, actor, payload FROM events WHERE workflow_id = ? AND type = 'workflow_rollback' AND seq <= ? ORDER BY seq DESC LIMIT 1";
const CANARY_ABORT = "SELECT payload FROM events WHERE workflow_id = ? AND type = 'canary_aborted' AND seq > ? AND seq <= ? ORDER BY seq LIMIT 1";

interface EventRow {
  seq: number;
  ts: string;
  actor: string;
  type: string;
  payload: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The version a publish or a canary start put forward. */
function publishedVersion(e: Pick<EventRow, 'type' | 'payload'>): number | null {
  const p = JSON.parse(e.payload) as Record<string, unknown>;
  return e.type === 'canary_started' ? num(p.version) : num(p.to_version);
}

async function policyRollback(db: Queryable, f: FailingWorkflow, untilSeq: number): Promise<PolicyRollback | null> {
  const last = await db.get<Omit<EventRow, 'type'>>(LAST_ROLLBACK, [f.workflow_id, untilSeq]);
  if (!last || !last.actor.startsWith('policy:')) return null;
  const p = JSON.parse(last.payload) as Record<string, unknown>;
  const from = num(p.from_version);
  const to = num(p.to_version);
  // Only while the policy's rollback stands and the newest failure is on the version it rolled back from.
  if (to === null || to !== f.active_version || from !== f.latest_failed_version) return null;
  const abort = await db.get<{ payload: string }>(CANARY_ABORT, [f.workflow_id, last.seq, untilSeq]);
  const a = abort ? (JSON.parse(abort.payload) as Record<string, unknown>) : {};
  return {
    seq: last.seq,
    ts: last.ts,
    actor: last.actor,
    from_version: from,
    to_version: to,
    reason: str(a.reason),
    runs: num(a.runs),
    failures: num(a.failures),
    failure_rate: num(a.failure_rate),
  };
}

/** `untilSeq`: the last event the details may come from (the moment of an as-of read; by default all of them). */
export async function withDetails(db: Queryable, failing: FailingWorkflow[], untilSeq = Number.MAX_SAFE_INTEGER): Promise<FailingWorkflow[]> {
  return Promise.all(
    failing.map(async (f) => {
      const error = await db.get<{ error: string | null; failed_node: string | null }>(ERROR, [f.latest_failed_run_id]);
      const bad = f.bad_since ?? f.latest_failed_version;
      const publish = (await db.all<EventRow>(PUBLISHES, [f.workflow_id, untilSeq])).find((e) => publishedVersion(e) === bad);
      return {
        ...f,
        latest_error: error?.error ?? null,
        latest_failed_node: error?.failed_node ?? null,
        bad_version: bad,
        bad_published_by: publish?.actor ?? null,
        bad_published_at: publish?.ts ?? null,
        policy_rollback: await policyRollback(db, f, untilSeq),
      };
    }),
  );
}
