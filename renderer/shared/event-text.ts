import type { RewindEvent } from '../../preload/contract/index.js';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The versions an event speaks of: a rollback's from/to, or the one version a publish or draft names. */
export function eventVersions(e: RewindEvent): { from: number | null; to: number | null } {
  const p = e.payload;
  return { from: num(p.from_version), to: num(p.to_version) ?? num(p.version) };
}

/** One line an operator reads at a glance; unknown types are shown generically. */
export function describeEvent(e: RewindEvent): string {
  const { from, to } = eventVersions(e);
  const v = (n: number | null) => (n === null ? '?' : `v${n}`);
  const run = e.run_id ? ` ${e.run_id}` : '';
  switch (e.type) {
    case 'workflow_created':
      return str(e.payload.name) ? `Created workflow ${str(e.payload.name)}` : 'Created the workflow';
    case 'version_created':
      return `Created draft ${v(to)}`;
    case 'version_published':
      return from === null ? `Published ${v(to)}` : `Published ${v(to)} (was ${v(from)})`;
    case 'workflow_rollback':
      return e.actor.startsWith('policy:') ? `Automatic rollback ${v(from)} → ${v(to)}` : `Rolled back ${v(from)} → ${v(to)}`;
    case 'canary_started':
      return `Canary ${v(to)} started for ${num(e.payload.percent) ?? '?'} % of new runs`;
    case 'canary_promoted':
      return `Canary ${v(to)} promoted`;
    case 'canary_aborted':
      return `Canary ${v(to)} aborted${str(e.payload.reason) ? `: ${str(e.payload.reason)}` : ''}`;
    case 'version_archived':
      return `Archived ${v(to)}`;
    case 'workflow_paused':
      return 'Paused the workflow';
    case 'workflow_unpaused':
      return 'Unpaused the workflow';
    case 'workflow_unregistered':
      return `Unregistered ${str(e.payload.name) ?? 'the workflow'}${Array.isArray(e.payload.cancelled_runs) && e.payload.cancelled_runs.length ? `, cancelling ${e.payload.cancelled_runs.length} run(s)` : ''}`;
    case 'workflow_reactivated':
      return `Control back from the CODE workflow: ${str(e.payload.status) ?? 'active'} again`;
    case 'workflow_described':
      return `Description updated from ${str(e.payload.code_file) ?? 'the code folder'}`;
    case 'run_started':
      return `Run${run} started on ${v(to)}`;
    case 'run_succeeded':
      return `Run${run} succeeded`;
    case 'run_failed':
      return `Run${run} failed${str(e.payload.error) ? `: ${str(e.payload.error)}` : ''}`;
    case 'run_cancelled':
      return `Run${run} cancelled`;
    case 'run_interrupted':
      return `Run${run} interrupted`;
    case 'run_denied':
      return `Run${run} ended denied`;
    case 'approval_requested':
      return `Approval wanted${str(e.payload.node_id) ? ` at ${str(e.payload.node_id)}` : ''}${str(e.payload.prompt) ? `: “${str(e.payload.prompt)}”` : ''}`;
    case 'approval_given':
      return `Approved${str(e.payload.node_id) ? ` at ${str(e.payload.node_id)}` : ''}${str(e.payload.comment) ? ` (“${str(e.payload.comment)}”)` : ''}`;
    case 'approval_denied':
      return `Denied${str(e.payload.node_id) ? ` at ${str(e.payload.node_id)}` : ''}${str(e.payload.comment) ? ` (“${str(e.payload.comment)}”)` : ''}`;
    case 'review_requested':
      return `Asked for review: ${str(e.payload.action) ?? '?'} ${v(to)}${str(e.payload.expires_at) ? ` (until ${str(e.payload.expires_at)})` : ''}`;
    case 'review_answered':
      return `Review ${e.payload.answer === 'approved' ? 'approved' : 'declined'}: ${str(e.payload.action) ?? '?'} ${v(to)} asked by ${str(e.payload.requested_by) ?? '?'}${str(e.payload.note) ? ` (“${str(e.payload.note)}”)` : ''}`;
    case 'review_expired':
      return `Review request expired unanswered: ${str(e.payload.action) ?? '?'} ${v(to)} asked by ${str(e.payload.requested_by) ?? '?'}`;
    case 'sandbox_reset':
      return `Sandbox reset to the demo (the old log, to event ${num((e.payload.previous_head as { seq?: unknown } | undefined)?.seq) ?? '?'}, kept as ${str(e.payload.kept_as) ?? 'a copy'})`;
    case 'run_taken_over':
      return `Run${run} taken over by ${str(e.payload.to_replica) ?? '?'} from ${str(e.payload.from_replica) ?? '?'}, after checkpoint #${num(e.payload.after_seq) ?? 0}`;
    case 'mutation_refused':
      return `Refused ${str(e.payload.method) ?? 'a change'}${targetText(e.payload.target)}: ${str(e.payload.code) ?? '?'}${str(e.payload.message) ? ` — ${str(e.payload.message)}` : ''}`;
    default:
      return e.type.replace(/_/g, ' ');
  }
}

/** A refused request's target, as " (workflow_id v2)". */
function targetText(target: unknown): string {
  if (typeof target !== 'object' || target === null) return '';
  const parts = Object.entries(target as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => (k === 'version' ? `v${String(v)}` : String(v)));
  return parts.length ? ` (${parts.join(' ')})` : '';
}

/** Run progress is too frequent for a toast; everything else another operator does is worth one. */
export function isToastWorthy(e: RewindEvent): boolean {
  if (e.type === 'run_failed' || e.type === 'run_interrupted') return true;
  return !e.type.startsWith('run_') && !e.type.startsWith('checkpoint');
}
