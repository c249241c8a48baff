import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import type { IncidentRecord } from '../../preload/contract/incident-records.js';
import { formatDuration } from '../../preload/contract/runbooks.js';
import { table } from './format.js';

/** What `rewind incidents …` needs of the session. */
export interface IncidentVerbContext {
  backend: Backend;
  json: boolean;
  out: (text: string) => void;
  resolveWorkflow: (ref: string) => Promise<string>;
}

export interface IncidentVerbOptions {
  status?: string | undefined;
  workflow?: string | undefined;
  limit?: number | undefined;
  note?: string | undefined;
  version?: number | undefined;
}

const USAGE =
  'incidents [list] [--status open|resolved|all] [--workflow W] [--limit N] | incidents show ID | incidents ack ID | incidents resolve ID [--note TEXT] | incidents report ID | incidents plan ID [--version N]';
const usage = (message: string) => new RewindError('VALIDATION_FAILED', message, USAGE);

const short = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);
const took = (s: number | null) => (s === null ? null : formatDuration(s * 1000));

/** Its state at a glance: open, acknowledged, mitigated or resolved. */
const stage = (r: IncidentRecord) => (r.resolved ? 'resolved' : r.mitigated ? 'mitigated' : r.acknowledged ? 'acknowledged' : 'open');

function detail(r: IncidentRecord): string {
  return [
    `incident ${r.incident_id}: ${r.workflow_name} v${r.version} — ${stage(r)}${r.rehearsal ? ' (rehearsal: kept out of the figures)' : ''}`,
    `  first failure   ${short(r.first_failure_at)}${r.first_run_id ? ` (run ${r.first_run_id})` : ''}`,
    `  acknowledged    ${r.acknowledged ? `${short(r.acknowledged.at)} by ${r.acknowledged.by} (+${took(r.time_to_acknowledge_s)})` : '-'}`,
    `  mitigated       ${r.mitigated ? `${short(r.mitigated.at)} by ${r.mitigated.by}: ${r.mitigated.action} (event ${r.mitigated.seq}, +${took(r.time_to_mitigate_s)})` : '-'}`,
    `  resolved        ${r.resolved ? `${short(r.resolved.at)} by ${r.resolved.by} (+${took(r.time_to_resolve_s)})${r.resolved.note ? `: ${r.resolved.note}` : ''}` : '-'}`,
  ].join('\n');
}

/** `rewind incidents list|show|ack|resolve|report|plan`: incident records and their times, the report, the rollback plan. */
export async function incidentsVerb(ctx: IncidentVerbContext, args: string[], options: IncidentVerbOptions): Promise<number> {
  const print = (value: unknown, human: () => string) => ctx.out(ctx.json ? JSON.stringify(value, null, 2) : human());
  const [sub = 'list', id] = args;
  const needId = () => {
    if (!id) throw usage(`incidents ${sub} needs the incident id.`);
    return id;
  };
  switch (sub) {
    case 'list': {
      const status = options.status ?? 'all';
      if (status !== 'open' && status !== 'resolved' && status !== 'all') throw usage(`--status is open, resolved or all, not "${status}".`);
      const out = await ctx.backend.call('incidents:records', {
        status,
        ...(options.workflow === undefined ? {} : { workflow_id: await ctx.resolveWorkflow(options.workflow) }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      });
      print(out, () =>
        out.records.length === 0
          ? 'No incidents.'
          : table(
              ['ID', 'WORKFLOW', 'VERSION', 'STATE', 'FIRST FAILURE', 'ACK', 'MITIGATE', 'RESOLVE'],
              out.records.map((r) => [r.incident_id, r.workflow_name, `v${r.version}`, `${stage(r)}${r.rehearsal ? ' (rehearsal)' : ''}`, short(r.first_failure_at), took(r.time_to_acknowledge_s), took(r.time_to_mitigate_s), took(r.time_to_resolve_s)]),
            ) + (out.next_before === null ? '' : `\n(more: the next page starts before event ${out.next_before})`),
      );
      return 0;
    }
    case 'show': {
      const out = await ctx.backend.call('incidents:record', { incident_id: needId() });
      print(out, () => detail(out));
      return 0;
    }
    case 'ack': {
      const out = await ctx.backend.call('incidents:acknowledge', { incident_id: needId() });
      print(out, () => `Acknowledged by ${out.acknowledged?.by ?? '?'}.\n${detail(out)}`);
      return 0;
    }
    case 'resolve': {
      const out = await ctx.backend.call('incidents:resolve', { incident_id: needId(), ...(options.note === undefined ? {} : { note: options.note }) });
      print(out, () => `Resolved.\n${detail(out)}`);
      return 0;
    }
    case 'report': {
      const out = await ctx.backend.call('incidents:report', { incident_id: needId() });
      print(out, () => out.markdown);
      return 0;
    }
    case 'plan': {
      const out = await ctx.backend.call('incidents:rollbackPlan', { incident_id: needId(), ...(options.version === undefined ? {} : { to_version: options.version }) });
      print(out, () => out.markdown);
      return 0;
    }
    default:
      throw usage(`"incidents ${sub}" is not a command.`);
  }
}
