import type { RewindEvent } from '../../../preload/contract/entities.js';

/*
 * The one line a person reads in Slack for an event. Known types get a sentence; any other type
 * (including those of capabilities added later) a generic line built from its name and the usual
 * fields, so a new event type is never dropped or unreadable. Types are matched by name only.
 */

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const v = (n: number | null): string => (n === null ? 'v?' : `v${n}`);
const pct = (x: unknown): string | null => (num(x) === null ? null : `${Math.round(num(x)! * 1000) / 10}%`);

/** An actor of the form `policy:<name>` is the system acting by itself (a canary's automatic rollback). */
export function isAutomatic(actor: string): boolean {
  return actor.startsWith('policy:');
}

export function eventText(e: RewindEvent, workflowName?: string | null): string {
  const p = e.payload;
  const wf = workflowName ?? str(p.name) ?? e.workflow_id ?? '';
  const where = wf ? ` ${wf}` : '';
  const by = isAutomatic(e.actor) ? ` automatically (${e.actor})` : ` by ${e.actor}`;
  const reason = str(p.reason) ? `: ${str(p.reason)}` : '';
  const run = e.run_id ? ` ${e.run_id}` : '';
  const type = e.type;
  if (type === 'workflow_rollback') {
    return `${isAutomatic(e.actor) ? '⏪ Automatic rollback' : '⏪ Rollback'} of${where}: ${v(num(p.from_version))} → ${v(num(p.to_version))}${by}${reason}`;
  }
  if (type === 'run_failed' || type === 'run_interrupted') {
    const node = str(p.failed_node) ? ` at node ${str(p.failed_node)}` : '';
    const error = str(p.error) ? `: ${str(p.error)}` : '';
    return `❌ Run${run} of${where} ${type === 'run_failed' ? 'failed' : 'was interrupted'}${num(p.version) === null ? '' : ` (${v(num(p.version))})`}${node}${error}`;
  }
  if (type.startsWith('approval_')) {
    const node = str(p.node_id) ? ` at ${str(p.node_id)}` : '';
    if (type === 'approval_requested') return `✋ Approval wanted: run${run} of${where} waits${node}${str(p.prompt) ? `: “${str(p.prompt)}”` : ''}`;
    const decision = type === 'approval_denied' ? 'deny' : (str(p.decision) ?? 'answered');
    const comment = str(p.comment) ? ` (“${str(p.comment)}”)` : '';
    return `✋ Run${run} of${where}: ${decision === 'approve' ? 'approved' : decision === 'deny' ? 'denied' : decision}${by}${node}${comment}`;
  }
  if (type === 'run_denied') {
    const error = str(p.error) ? `: ${str(p.error)}` : '';
    return `🛑 Run${run} of${where} stopped: its approval was denied${num(p.version) === null ? '' : ` (${v(num(p.version))})`}${error}`;
  }
  if (type.startsWith('canary_')) {
    const version = v(num(p.version));
    const threshold = typeof p.threshold === 'number' ? pct(p.threshold) : str(p.threshold);
    const figures = [
      num(p.runs) === null ? null : `${num(p.runs)} runs`,
      pct(p.failure_rate) === null ? null : `failure rate ${pct(p.failure_rate)}`,
      threshold === null ? null : `threshold ${threshold}`,
    ].filter((x): x is string => x !== null);
    const tail = figures.length ? ` (${figures.join(', ')})` : '';
    if (type === 'canary_aborted') return `🐤 Canary ${version} of${where} aborted${by}${reason}${tail}`;
    if (type === 'canary_promoted') return `🐤 Canary ${version} of${where} promoted${by}${tail}`;
    if (type === 'canary_started') return `🐤 Canary ${version} of${where} started${by}${num(p.percent) === null ? '' : ` for ${num(p.percent)}% of new runs`}`;
  }
  if (type === 'version_published') return `🚀 Published ${v(num(p.version) ?? num(p.to_version))} of${where}${by}`;
  if (type === 'code_file_refused') {
    const at = `${str(p.file) ?? '?'}${num(p.line) === null ? '' : `:${num(p.line)}`}${str(p.field) ? ` ${str(p.field)}` : ''}`;
    return `⚠️ Code file ${at} refused: ${str(p.message) ?? 'invalid'} (the last good version stays active)`;
  }
  if (type === 'code_file_accepted') return `✅ Code file ${str(p.file) ?? '?'} ${p.removed === true ? 'removed' : 'fixed'}: no longer refused`;
  if (type === 'chain_broken') return `🚨 The audit log's hash chain is broken at event ${num(p.first_broken_seq) ?? '?'}${reason} (found by ${str(p.verified_by) ?? e.actor})`;
  if (type === 'webhook_dead_lettered') return `📭 Webhook ${str(p.webhook_id) ?? ''} gave up on event ${num(p.seq) ?? '?'} (${str(p.event_type) ?? '?'}) after ${num(p.attempts) ?? '?'} attempts${reason}`;
  if (type === 'runs_pruned') {
    const before = str(p.before)?.slice(0, 10) ?? '?';
    return `🧹 Retention removed the checkpoints of ${num(p.runs) ?? 0} runs that ended before ${before} (${num(p.checkpoints) ?? 0} checkpoints; events kept)`;
  }
  if (type.startsWith('incident_')) {
    const id = str(p.incident_id) ?? '?';
    const after = (x: unknown) => (num(x) === null ? '' : ` ${Math.round(num(x)!)} s after the first failure`);
    const rehearsal = p.rehearsal === true ? ' (rehearsal)' : '';
    if (type === 'incident_opened') return `🚨 Incident ${id} opened on${where}: ${v(num(p.version))} broke the failure-rate rule${rehearsal}`;
    if (type === 'incident_acknowledged') return `👀 Incident ${id} of${where} acknowledged by ${str(p.by) ?? e.actor},${after(p.time_to_acknowledge_s)}${rehearsal}`;
    if (type === 'incident_mitigated') return `🩹 Incident ${id} of${where} mitigated by the ${str(p.action) ?? 'action'} of ${str(p.by) ?? e.actor},${after(p.time_to_mitigate_s)}${rehearsal}`;
    if (type === 'incident_resolved') return `✅ Incident ${id} of${where} resolved by ${str(p.by) ?? e.actor},${after(p.time_to_resolve_s)}${str(p.note) ? `: ${str(p.note)}` : ''}${rehearsal}`;
  }
  // Generic: "Run succeeded: run_1 of wf by alice".
  const words = type.replace(/_/g, ' ');
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}${run ? `:${run}` : ''}${where ? ` of${where}` : ''}${by}${reason}`;
}
