import { type ActionResult, type Checkpoint, type Review, type ReviewAnswer, type RewindEvent, type Run, type VersionListItem, type VersionMetrics, type WaitingApproval, type Workflow, isReviewRequested } from '../../preload/contract/index.js';

/**
 * What the CLI writes never carries a raw control character (ESC above all), whatever a name or an
 * error message holds: human output shows them as \xNN (line breaks and tabs stay), JSON output as \uNNNN.
 */
// eslint-disable-next-line no-control-regex
const unsafeHuman = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// JSON.stringify already escapes C0 inside strings; DEL, C1 and bidi overrides it leaves raw.
const unsafeJson = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string, json = false): string {
  if (json) return text.replace(unsafeJson, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.replace(unsafeHuman, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Human output: aligned columns, no colour (it goes to logs and pipes as often as to terminals). */
export function table(headers: string[], rows: Array<Array<string | number | null>>): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n');
}

const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);

export function workflowsTable(workflows: Workflow[]): string {
  return table(
    ['ID', 'NAME', 'SOURCE', 'STATUS', 'ACTIVE', 'REV', 'FAILED', 'SCHEDULE'],
    workflows.map((w) => [w.id, w.name, w.source_type, w.status, w.active_version === null ? null : `v${w.active_version}`, w.revision, w.failed_runs, w.schedule]),
  );
}

export function workflowDetail(w: Workflow): string {
  return [
    `${w.name} (${w.id})`,
    `  source ${w.source_type}, status ${w.status}, active ${w.active_version === null ? 'none' : `v${w.active_version}`}, revision ${w.revision}`,
    `  schedule ${w.schedule ?? 'none'}, failed runs ${w.failed_runs}`,
    w.canary
      ? `  canary v${w.canary.version} (${w.canary.state}): ${w.canary.percent} % of new runs; ${w.canary.runs} runs, failure rate ${percent(w.canary.failure_rate)} (limit ${percent(w.canary.policy.max_failure_rate)}), promote ${w.canary.policy.promote}`
      : '',
    w.description ? `  ${w.description}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function versionsTable(versions: VersionListItem[]): string {
  return table(
    ['VERSION', 'STATUS', 'NODES', 'BY', 'PUBLISHED', 'CHANGE'],
    versions.map((v) => [`v${v.version}`, v.status, v.dsl_definition?.nodes.length ?? '–', v.created_by, shortTime(v.published_at), v.change_log]),
  );
}

export function runsTable(runs: Run[]): string {
  return table(
    ['RUN', 'WORKFLOW', 'VERSION', 'KIND', 'STATUS', 'STARTED', 'FAILED NODE'],
    runs.map((r) => [r.run_id, r.workflow_id, `v${r.version}`, r.kind, r.pruned_at ? `${r.status} (pruned)` : r.status, shortTime(r.started_at), r.failed_node]),
  );
}

export function runDetail(r: Run): string {
  return [
    `run ${r.run_id}: ${r.status} (${r.kind} of workflow ${r.workflow_id} v${r.version})`,
    r.parent_run_id ? `  parent ${r.parent_run_id}${r.resumed_from_seq === null ? '' : `, resumed after checkpoint ${r.resumed_from_seq}`}` : '',
    `  started ${shortTime(r.started_at) ?? '-'}, finished ${shortTime(r.finished_at) ?? '-'}`,
    r.drawn_reason ? `  version: ${r.drawn_reason}` : '',
    r.logical_date ? `  ${r.trigger} run for the tick ${shortTime(r.logical_date)}` : '',
    r.error ? `  error${r.failed_node ? ` at ${r.failed_node}` : ''}: ${r.error}` : '',
    r.pruned_at ? `  ${prunedNote(r)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** What a pruned run says instead of its checkpoints. */
export function prunedNote(r: Pick<Run, 'pruned_at' | 'pruned_after'>): string {
  return `checkpoints removed after ${r.pruned_after ?? 'the retention window'} (on ${shortTime(r.pruned_at ?? null) ?? '?'})`;
}

/** Each waiting approval as an approver reads it: the prompt, who asks, what the run has done. */
export function approvalsList(approvals: WaitingApproval[]): string {
  return approvals
    .map((a) =>
      [
        `${a.run.run_id} (${a.workflow_name} v${a.run.version}, ${a.run.trigger} run by ${a.run.created_by}) waits at ${a.node_id ?? '?'} since ${shortTime(a.requested_at) ?? '-'}`,
        `  “${a.prompt ?? 'no prompt'}”`,
        `  done ${a.done.length} of ${a.nodes_total} nodes${a.done.length ? `: ${a.done.join(', ')}` : ''}${a.timeout_ms === null ? '' : `; times out after ${a.timeout_ms} ms`}`,
      ].join('\n'),
    )
    .join('\n');
}

export function checkpointsTable(checkpoints: Checkpoint[]): string {
  return table(
    ['SEQ', 'NODE', 'STATUS', 'AT'],
    checkpoints.map((c) => [c.seq, c.node_id, c.status, shortTime(c.created_at)]),
  );
}

export function eventLine(e: RewindEvent): string {
  const p = e.payload;
  const move = typeof p.to_version === 'number' ? ` v${String(p.from_version ?? '-')} → v${p.to_version}` : '';
  return `${String(e.seq).padStart(6)}  ${shortTime(e.ts) ?? ''}  ${e.type}${move}  ${e.workflow_id ?? ''}${e.run_id ? ` run ${e.run_id}` : ''}  by ${e.actor}`;
}

const percent = (r: number) => `${(r * 100).toFixed(1)} %`;

export function healthTable(versions: VersionMetrics[]): string {
  return table(
    ['VERSION', 'RUNS', 'FAILED', 'FAILURE RATE', 'P50 MS', 'P95 MS', 'VERDICTS'],
    versions.map((v) => [
      `v${v.version}`,
      v.runs,
      v.failed,
      percent(v.failure_rate),
      v.p50_ms,
      v.p95_ms,
      Object.entries(v.verdicts)
        .flatMap(([key, counts]) => Object.entries(counts).map(([value, n]) => `${key}=${value}:${n}`))
        .join(' ') || null,
    ]),
  );
}

/** A publish, promote or rollback: what it did, or that it waits for review and how another person answers it. */
export function actionText(out: ActionResult): string {
  if (!isReviewRequested(out)) return `${out.message} (event ${out.seq}, revision ${out.revision})`;
  return `${out.message}\n  review ${out.review.review_id}: another person approves it with \`rewind review approve ${out.review.review_id}\` (or declines it).`;
}

function reviewWhat(r: Review): string {
  const canary = r.canary_percent === null ? '' : ` as a ${r.canary_percent} % canary`;
  const from = r.from_version === null ? '' : ` (from v${r.from_version})`;
  return `${r.action} v${r.version}${canary}${from}`;
}

/** How long ago / until, in the largest whole unit (s, min, h). */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function reviewsTable(reviews: Review[], now: Date): string {
  return table(
    ['ID', 'STATUS', 'WORKFLOW', 'WHAT', 'ASKED BY', 'ASKED', 'EXPIRES / ANSWER'],
    reviews.map((r) => [
      r.review_id,
      r.status,
      terminalSafe(r.workflow_name),
      reviewWhat(r),
      terminalSafe(r.requested_by),
      `${span(now.getTime() - Date.parse(r.requested_at))} ago`,
      r.status === 'pending'
        ? `in ${span(Date.parse(r.expires_at) - now.getTime())}`
        : r.status === 'expired'
          ? `expired ${shortTime(r.expires_at)}`
          : `${r.status} by ${terminalSafe(r.answered_by ?? '?')}${r.note ? ` (“${terminalSafe(r.note)}”)` : ''}`,
    ]),
  );
}

export function reviewAnswerText(out: ReviewAnswer): string {
  const r = out.review;
  const head = `${r.status === 'approved' ? 'Approved' : 'Declined'} ${r.review_id}: ${reviewWhat(r)} of ${terminalSafe(r.workflow_name)}, asked by ${terminalSafe(r.requested_by)}.`;
  return out.result ? `${head}\n${out.result.message} (event ${out.result.seq}, revision ${out.result.revision}; recorded as ${terminalSafe(r.requested_by)}'s, approved by ${terminalSafe(r.answered_by ?? '?')})` : `${head}\nNothing was changed.`;
}
