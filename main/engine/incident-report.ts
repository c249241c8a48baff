import type { IncidentRecord, IncidentReport, IncidentReportFields, RollbackPlan } from '../../preload/contract/incident-records.js';
import type { DslDiff, RewindEvent, RollbackPreview } from '../../preload/contract/entities.js';
import { formatDuration, levelTargetText } from '../../preload/contract/runbooks.js';
import type { EngineCore } from './core.js';
import type { IncidentRecordService } from './incident-records.js';
import { storedReport } from './incident-records.js';
import { BAD_FAILURE_RATE } from './incidents.js';
import type { RunService } from './runs.js';
import type { VersionService } from './versions.js';
import type { WorkflowService } from './workflows.js';

/*
 * Seed 003's two templates, written by the log: the post-incident report (롤백 사후 분석 보고서) with
 * every field the events know filled — when, how long, who, the impact, the bad version with its
 * publisher and its diff against the last good one, the response timeline in "+mm:ss" from the first
 * failure, the figures — and the rollback plan (롤백 계획서) from the rollback preview. What only people
 * know (root cause, prevention, lessons) comes from the report's saved fields.
 */

/** The timeline shows at most this many lines (a long incident's runs are summarized past it). */
const TIMELINE_LIMIT = 200;
/** The events a response timeline is made of. */
const TIMELINE_TYPES = new Set([
  'run_failed',
  'run_interrupted',
  'run_cancelled',
  'workflow_rollback',
  'workflow_paused',
  'workflow_unpaused',
  'version_published',
  'canary_started',
  'canary_aborted',
  'canary_promoted',
  'incident_opened',
  'incident_acknowledged',
  'incident_mitigated',
  'incident_resolved',
]);

export interface TimelineLine {
  seq: number;
  ts: string;
  actor: string;
  /** From the first failure: `+mm:ss` (`+h:mm:ss` past an hour). */
  offset: string;
  text: string;
}

export interface ReportData {
  record: IncidentRecord;
  /** The end of the window the report covers: resolution, or now for an open incident. */
  until: string;
  failedRuns: number;
  failedByVersion: Array<{ version: number; failed: number }>;
  badPublishedBy: string | null;
  badPublishedAt: string | null;
  lastGood: number | null;
  diff: DslDiff | null;
  recoveredVersion: number | null;
  timeline: TimelineLine[];
  timelineOmitted: number;
  people: string[];
  fields: IncidentReportFields;
}

/** `+03:07`, `+1:02:09`. */
export function offsetText(fromIso: string, toIso: string): string {
  const s = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `+${h}:${String(m).padStart(2, '0')}:${ss}` : `+${String(m).padStart(2, '0')}:${ss}`;
}

const secondsText = (s: number | null) => (s === null ? '—' : formatDuration(s * 1000));
/** Actors that are the product acting by itself, not people: the engine, schedules, policies, a rehearsal's scenario. */
const isPerson = (actor: string) => !['rewind', 'scheduler', 'system', 'scenario'].includes(actor) && !actor.startsWith('policy:');

function describe(e: RewindEvent): string {
  const p = e.payload;
  const v = (x: unknown) => (typeof x === 'number' ? `v${x}` : '?');
  switch (e.type) {
    case 'run_failed':
      return `Run ${e.run_id ?? '?'} failed on ${v(p.version)}${typeof p.failed_node === 'string' ? ` at ${p.failed_node}` : ''}${typeof p.error === 'string' ? `: ${p.error}` : ''}`;
    case 'run_interrupted':
      return `Run ${e.run_id ?? '?'} interrupted on ${v(p.version)}`;
    case 'run_cancelled':
      return `Run ${e.run_id ?? '?'} cancelled (${v(p.version)})`;
    case 'workflow_rollback':
      return `Rolled back ${v(p.from_version)} → ${v(p.to_version)}`;
    case 'workflow_paused':
      return 'Paused the workflow';
    case 'workflow_unpaused':
      return 'Unpaused the workflow';
    case 'version_published':
      return `Published ${v(p.to_version)}`;
    case 'canary_started':
      return `Started ${v(p.version)} as a canary`;
    case 'canary_aborted':
      return `Canary ${v(p.version)} aborted${typeof p.reason === 'string' ? `: ${p.reason}` : ''}`;
    case 'canary_promoted':
      return `Canary ${v(p.version)} promoted`;
    case 'incident_opened':
      return `Incident opened: ${v(p.version)} broke the failure-rate rule`;
    case 'incident_acknowledged':
      return 'Acknowledged ("I\'m on it")';
    case 'incident_mitigated':
      return `Mitigated by the ${String(p.action)} (event ${String(p.seq)})`;
    case 'incident_resolved':
      return `Resolved${typeof p.note === 'string' ? `: ${p.note}` : ''}`;
    default:
      return e.type;
  }
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const orPrompt = (text: string, prompt: string) => (text.trim() ? text.trim() : prompt);

function diffLines(diff: DslDiff | null, lastGood: number | null, bad: number): string[] {
  if (lastGood === null) return ['- Diff against the last good version: no earlier healthy version to compare with.'];
  if (!diff) return [`- Diff v${lastGood} → v${bad}: not available.`];
  if (diff.identical) return [`- Diff v${lastGood} → v${bad}: the definitions are identical (look outside the workflow: data, services, configuration).`];
  return [
    `- Diff v${lastGood} → v${bad}:`,
    ...diff.added.map((n) => `  - node \`${n}\` added`),
    ...diff.removed.map((n) => `  - node \`${n}\` removed`),
    ...diff.changed.flatMap((c) => c.changes.map((ch) => `  - \`${c.node_id}.${ch.path}\`: ${JSON.stringify(ch.before)} → ${JSON.stringify(ch.after)}`)),
    ...diff.defaults_changed.map((ch) => `  - defaults \`${ch.path}\`: ${JSON.stringify(ch.before)} → ${JSON.stringify(ch.after)}`),
    ...(diff.params_changed ?? []).map((ch) => `  - param \`${ch.path}\`: ${JSON.stringify(ch.before)} → ${JSON.stringify(ch.after)}`),
  ];
}

/** The post-incident report as Markdown: seed 003's sections, log-known fields filled, people's fields as written (or their prompts). */
export function reportMarkdown(d: ReportData): string {
  const r = d.record;
  const duration = r.resolved ? formatDuration(Date.parse(r.resolved.at) - Date.parse(r.first_failure_at)) : `ongoing (${formatDuration(Date.parse(d.until) - Date.parse(r.first_failure_at))} so far)`;
  const reason = `failure rate of v${r.version} above ${Math.round(BAD_FAILURE_RATE * 100)} % (seed 003's trigger)`;
  const lines = [
    `# Post-incident report: ${r.workflow_name} v${r.version}${r.rehearsal ? ' (rehearsal)' : ''}`,
    '',
    `Incident \`${r.incident_id}\` · ${r.status}${r.rehearsal ? ' · rehearsal: kept out of the figures' : ''}`,
    '',
    '## Basic information',
    '',
    `- First failure: ${r.first_failure_at}${r.first_run_id ? ` (run ${r.first_run_id})` : ''}`,
    `- Incident opened: ${r.opened_at} (event ${r.opened_seq})`,
    `- Rollback time: ${r.mitigated ? `${r.mitigated.at} — ${r.mitigated.action} by ${r.mitigated.by} (event ${r.mitigated.seq})` : 'no rollback, pause or cancel yet'}`,
    `- Resolved: ${r.resolved ? `${r.resolved.at} by ${r.resolved.by}${r.resolved.note ? ` — ${r.resolved.note}` : ''}` : 'not yet'}`,
    `- Duration: ${duration}`,
    `- Rollback reason: ${reason}`,
    `- Affected version: v${r.version}`,
    `- Recovered version: ${d.recoveredVersion === null ? '—' : `v${d.recoveredVersion}`}`,
    `- People involved: ${d.people.length ? d.people.join(', ') : '—'}`,
    '',
    '## Figures',
    '',
    '| Time to | From the first failure |',
    '| --- | --- |',
    `| acknowledge | ${secondsText(r.time_to_acknowledge_s)} |`,
    `| mitigate | ${secondsText(r.time_to_mitigate_s)} |`,
    `| resolve | ${secondsText(r.time_to_resolve_s)} |`,
    '',
    '## Cause',
    '',
    `1. **Root cause**: ${orPrompt(d.fields.root_cause, '[what broke — to be written by the team]')}`,
    `2. **Trigger**: ${reason}; v${r.version} was put forward by ${d.badPublishedBy ?? 'unknown'}${d.badPublishedAt ? ` at ${d.badPublishedAt}` : ''}.`,
    ...diffLines(d.diff, d.lastGood, r.version).map((l) => `   ${l}`),
    `3. **Impact**: ${d.failedRuns} failed or interrupted run${d.failedRuns === 1 ? '' : 's'} of 1 workflow (${r.workflow_name})${d.failedByVersion.length ? ` — ${d.failedByVersion.map((f) => `v${f.version}: ${f.failed}`).join(', ')}` : ''}.`,
    '',
    '## Response timeline',
    '',
    '| Since first failure | Time | Actor | What | Event |',
    '| --- | --- | --- | --- | --- |',
    ...d.timeline.map((t) => `| ${t.offset} | ${t.ts} | ${cell(t.actor)} | ${cell(t.text)} | ${t.seq} |`),
    ...(d.timelineOmitted > 0 ? ['', `(${d.timelineOmitted} more events of the workflow in this window are not listed.)`] : []),
    '',
    '## Preventing a recurrence',
    '',
    orPrompt(d.fields.prevention, ['1. [ ] Add test cases', '2. [ ] Improve the CI/CD pipeline', '3. [ ] Add monitoring alerts', '4. [ ] Update the pre-deploy checklist'].join('\n')),
    '',
    '## Lessons learned',
    '',
    orPrompt(d.fields.lessons, '- [what to keep, what to change]'),
    '',
  ];
  if (d.fields.rollback_plan.trim()) lines.push('## Attached: rollback plan', '', d.fields.rollback_plan.trim().replace(/^# /m, '### '), '');
  return lines.join('\n');
}

export interface PlanData {
  record: IncidentRecord;
  preview: RollbackPreview | null;
  owner: string;
  lastGood: number | null;
}

/** Seed 003's rollback plan (롤백 계획서) from the rollback preview and the incident. */
export function rollbackPlanMarkdown(d: PlanData): string {
  const r = d.record;
  const p = d.preview;
  const resumable = p?.resumable.filter((x) => x.compatibility.compatible) ?? [];
  const blocked = p?.resumable.filter((x) => !x.compatibility.compatible) ?? [];
  const target = p?.to_version ?? null;
  const lines = [
    `# Rollback plan: ${r.workflow_name}`,
    '',
    '## Basic information',
    '',
    `- Rollback reason: failure rate of v${r.version} above ${Math.round(BAD_FAILURE_RATE * 100)} % since ${r.first_failure_at} (incident \`${r.incident_id}\`)`,
    `- Current version: ${p?.from_version === null || p?.from_version === undefined ? '—' : `v${p.from_version}`}`,
    `- Target version: ${target === null ? 'none — no earlier healthy version to roll back to' : `v${target}${target === d.lastGood ? ' (the last good version)' : ''}`}`,
    `- Owner: ${d.owner}`,
    `- Expected time: seconds for the version switch (one transaction); seed 003's configuration level targets ${levelTargetText('configuration')}${resumable.length ? `, plus resuming ${resumable.length} run${resumable.length === 1 ? '' : 's'}` : ''}`,
    `- Impact: new runs of ${r.workflow_name} use ${target === null ? 'the target' : `v${target}`}; ${p?.in_flight.length ?? 0} run${p?.in_flight.length === 1 ? '' : 's'} in flight finish on their pinned version`,
    ...(p?.refusal ? [`- **Refused now**: ${p.refusal.message} ${p.refusal.hint}`] : []),
    '',
    '## Rollback scope',
    '',
    `- [x] Workflow definition (DSL v${p?.from_version ?? r.version} → ${target === null ? '?' : `v${target}`})`,
    `- [${p?.in_flight.length ? 'x' : ' '}] Runs in flight (${p?.in_flight.length ?? 0})`,
    `- [${resumable.length ? 'x' : ' '}] Failed runs to resume from their checkpoints (${resumable.length})`,
    '- [ ] Database schema (a version switch touches none)',
    '- [ ] Environment configuration and external services (outside Rewind)',
    '',
    '## Risks',
    '',
    ...(p?.in_flight.length ? p.in_flight.map((run) => `- Run ${run.run_id} (v${run.version}, ${run.status}) keeps running on its pinned version; cancel it, or cancel and resume it on the target.`) : ['- No run is in flight.']),
    ...blocked.map((x) => `- Run ${x.run.run_id} cannot resume on v${target ?? '?'}: ${x.compatibility.missing_nodes.length ? `missing nodes ${x.compatibility.missing_nodes.join(', ')}` : 'incompatible checkpoints'}.`),
    ...(p?.diff && !p.diff.identical ? [`- The target differs from the current version in ${p.diff.added.length + p.diff.removed.length + p.diff.changed.length} node(s); runs started after the switch take the target's behaviour.`] : []),
    '',
    '## Recovery plan',
    '',
    ...resumable.map((x) => `- Resume run ${x.run.run_id} from its checkpoint on v${target ?? '?'}.`),
    '- If the rollback fails: pause the workflow (no new runs start), then roll back to an older healthy version or publish a hotfix.',
    `- If the target misbehaves too: roll forward again to v${r.version} only after its fix; the log keeps both switches.`,
    '',
  ];
  return lines.join('\n');
}

interface Deps {
  core: EngineCore;
  records: IncidentRecordService;
  workflows: WorkflowService;
  versions: VersionService;
  runs: RunService;
}

/** Reads what the report and the plan need from the log and the tables. */
export class IncidentReports {
  constructor(private readonly d: Deps) {}

  async report(incidentId: string): Promise<IncidentReport> {
    const row = await this.d.records.row(incidentId);
    const stored = storedReport(row);
    const data = await this.data(incidentId, stored.fields);
    return { incident_id: incidentId, markdown: reportMarkdown(data), fields: stored.fields, revision: stored.revision, edited_by: stored.edited_by, edited_at: stored.edited_at };
  }

  async plan(incidentId: string, actor: string, toVersion?: number): Promise<RollbackPlan> {
    const record = await this.d.records.get(incidentId);
    const lastGood = await this.lastGood(record);
    const target = toVersion ?? lastGood;
    const preview = target === null ? null : await this.d.runs.rollbackPreview(record.workflow_id, target);
    const owner = record.acknowledged?.by ?? actor;
    const wf = await this.d.workflows.get(record.workflow_id);
    return {
      incident_id: incidentId,
      workflow_id: record.workflow_id,
      current_version: wf.active_version,
      target_version: target,
      markdown: rollbackPlanMarkdown({ record, preview, owner, lastGood }),
    };
  }

  /** The newest published version older than the bad one whose runs were healthy (the home's "last good"). */
  private async lastGood(record: IncidentRecord): Promise<number | null> {
    const rows = await this.d.core.q().all<{ version: number; runs: number; failed: number | null; succeeded: number | null }>(
      `SELECT v.version, COUNT(r.run_id) AS runs,
         SUM(CASE WHEN r.status IN ('failed', 'interrupted') THEN 1 ELSE 0 END) AS failed,
         SUM(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded
       FROM workflow_versions v LEFT JOIN runs r ON r.workflow_id = v.workflow_id AND r.version = v.version AND r.kind <> 'replay' AND r.status IN ('succeeded', 'failed', 'interrupted')
       WHERE v.workflow_id = ? AND v.version < ? AND v.published_at IS NOT NULL AND v.status IN ('active', 'deprecated')
       GROUP BY v.version ORDER BY v.version DESC`,
      [record.workflow_id, record.version],
    );
    const good = rows.find((h) => Number(h.succeeded ?? 0) > 0 && Number(h.failed ?? 0) / Number(h.runs) <= BAD_FAILURE_RATE);
    return good ? Number(good.version) : null;
  }

  private async data(incidentId: string, fields: IncidentReportFields): Promise<ReportData> {
    const record = await this.d.records.get(incidentId);
    const q = this.d.core.q();
    const until = record.resolved?.at ?? this.d.core.now();
    const failed = await q.all<{ version: number; failed: number }>(
      `SELECT version, COUNT(*) AS failed FROM runs WHERE workflow_id = ? AND status IN ('failed', 'interrupted') AND kind <> 'replay'
         AND COALESCE(finished_at, created_at) >= ? AND COALESCE(finished_at, created_at) <= ? GROUP BY version ORDER BY version DESC`,
      [record.workflow_id, record.first_failure_at, until],
    );
    // The bad version's publish or canary start, among the workflow's newest (bounded by the events-by-workflow index).
    const publishes = await q.all<{ actor: string; ts: string; type: string; payload: string }>(
      "SELECT actor, ts, type, payload FROM events WHERE workflow_id = ? AND type IN ('version_published', 'canary_started') ORDER BY seq DESC LIMIT 100",
      [record.workflow_id],
    );
    const publish = publishes.find((e) => {
      const p = JSON.parse(e.payload) as Record<string, unknown>;
      return (e.type === 'canary_started' ? p.version : p.to_version) === record.version;
    });
    const lastGood = await this.lastGood(record);
    const diff = lastGood === null ? null : (await this.d.versions.diff({ workflow_id: record.workflow_id, from: lastGood, to: record.version })).diff;
    const events = await q.all<Omit<RewindEvent, 'payload'> & { payload: string }>(
      `SELECT * FROM events WHERE workflow_id = ? AND ts >= ? AND ts <= ? ORDER BY seq LIMIT ?`,
      [record.workflow_id, record.first_failure_at, until, 5000],
    );
    const shown = events.map((e) => ({ ...e, payload: JSON.parse(e.payload) as Record<string, unknown> })).filter((e) => TIMELINE_TYPES.has(e.type) && eventOfIncident(e, incidentId));
    const timeline = shown.slice(0, TIMELINE_LIMIT).map((e) => ({ seq: e.seq, ts: e.ts, actor: e.actor, offset: offsetText(record.first_failure_at, e.ts), text: describe(e) }));
    const rollback = record.mitigated?.action === 'rollback' ? shown.find((e) => e.seq === record.mitigated!.seq) : undefined;
    const wf = await this.d.workflows.get(record.workflow_id);
    return {
      record,
      until,
      failedRuns: failed.reduce((n, f) => n + Number(f.failed), 0),
      failedByVersion: failed.map((f) => ({ version: Number(f.version), failed: Number(f.failed) })),
      badPublishedBy: publish?.actor ?? null,
      badPublishedAt: publish?.ts ?? null,
      lastGood,
      diff,
      recoveredVersion: rollback && typeof rollback.payload.to_version === 'number' ? rollback.payload.to_version : record.mitigated ? wf.active_version : null,
      timeline,
      timelineOmitted: shown.length - timeline.length,
      // Who published the bad version and who responded; runs are started by clients and schedules, not the response.
      people: [...new Set([...(publish ? [publish.actor] : []), ...shown.filter((e) => !e.type.startsWith('run_')).map((e) => e.actor)].filter(isPerson))],
      fields,
    };
  }
}

/** Incident events of other incidents of the same workflow (an earlier one resolved in the window) stay out. */
function eventOfIncident(e: RewindEvent, incidentId: string): boolean {
  return !e.type.startsWith('incident_') || e.payload.incident_id === incidentId;
}
