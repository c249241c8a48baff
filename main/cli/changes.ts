import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import type { Changes, WorkflowChanges } from '../../preload/contract/changes.js';

/*
 * `rewind changes --from 02:00 --to 03:00 [--workflow WF]`: what changed between two moments. A moment
 * is an event seq, an RFC 3339 time, or a local time (`02:00`, `02:00:30`, `2026-12-07 02:00`) read in
 * this machine's zone — a bare clock time is today's, or yesterday's when today's is still ahead — and
 * shown back with that zone, so "02:00" is never silently UTC.
 */

export interface ChangesVerbContext {
  backend: Backend;
  json: boolean;
  out: (text: string) => void;
  resolveWorkflow: (ref: string) => Promise<string>;
  now: Date;
}

const usage = (message: string) =>
  new RewindError('VALIDATION_FAILED', message, 'changes --from T --to T [--workflow WF]: T is an event seq, an RFC 3339 time, or a local time such as 02:00 or "2026-12-07 02:00".');

const pad = (n: number) => String(n).padStart(2, '0');

/** `+01:00` for a local time's offset from UTC. */
function offsetOf(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/** This machine's zone, as people name it (`Europe/Paris`) and as an offset at `d`. */
export function zoneOf(d: Date): string {
  return `${Intl.DateTimeFormat().resolvedOptions().timeZone}, UTC${offsetOf(d)}`;
}

/** A moment as the API takes it: a seq as is, any time as RFC 3339 with its offset. */
export function momentArg(value: string | undefined, now: Date, flag: string): string {
  if (value === undefined) throw usage(`${flag} is required.`);
  const v = value.trim();
  if (/^\d+$/.test(v)) return v;
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(v) && /^\d{4}-\d{2}-\d{2}T/i.test(v)) {
    if (!Number.isFinite(Date.parse(v))) throw usage(`${flag} is not a time: "${value}".`);
    return v;
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  const dated = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  let local: Date;
  if (clock) {
    local = new Date(now.getFullYear(), now.getMonth(), now.getDate(), Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0));
    if (local.getTime() > now.getTime()) local.setDate(local.getDate() - 1);
  } else if (dated) {
    local = new Date(Number(dated[1]), Number(dated[2]) - 1, Number(dated[3]), Number(dated[4]), Number(dated[5]), Number(dated[6] ?? 0));
  } else {
    throw usage(`${flag} must be an event seq, an RFC 3339 time or a local time such as 02:00; got "${value}".`);
  }
  if (!Number.isFinite(local.getTime())) throw usage(`${flag} is not a time: "${value}".`);
  return `${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}T${pad(local.getHours())}:${pad(local.getMinutes())}:${pad(local.getSeconds())}${offsetOf(local)}`;
}

/** An event's time in this machine's zone: `2026-12-07 02:14:05`. */
function localTime(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function workflowLines(c: WorkflowChanges): string[] {
  const active = c.active_before === c.active_after ? `v${c.active_after ?? '–'} active throughout` : `active v${c.active_before ?? '–'} → v${c.active_after ?? '–'}`;
  const lines = [`${c.workflow_name} (${c.workflow_id}): ${active}; runs ${c.runs.started} started, ${c.runs.failed} failed, ${c.runs.succeeded} succeeded`];
  const at = (e: { seq: number; ts: string; actor: string }) => `${localTime(e.ts)} #${e.seq} by ${e.actor}`;
  for (const p of c.published) lines.push(`  published v${p.version}  ${at(p)}`);
  for (const r of c.rollbacks) lines.push(`  rolled back v${r.from_version ?? '–'} → v${r.to_version}${r.by_policy ? ' (policy)' : ''}  ${at(r)}`);
  for (const p of c.pauses) lines.push(`  ${p.type.replace('workflow_', '')} (now ${p.status})  ${at(p)}`);
  for (const s of c.schedule_changes) lines.push(`  schedule ${s.schedule ?? 'removed'}  ${at(s)}`);
  for (const k of c.canary_changes) lines.push(`  ${k.type.replace('_', ' ')} v${k.version ?? '–'}${k.reason ? ` (${k.reason})` : ''}  ${at(k)}`);
  return lines;
}

export function changesText(out: Changes, now: Date): string {
  const end = (seq: number, ts: string | null) => (ts === null ? `before the first event` : `${localTime(ts)} (event ${seq})`);
  const head = `Changes from ${end(out.from_seq, out.from_ts)} to ${end(out.to_seq, out.to_ts)}, times in ${zoneOf(now)}`;
  if (out.workflows.length === 0) return `${head}\nNothing changed.`;
  return [head, ...out.workflows.flatMap(workflowLines)].join('\n');
}

export async function changesVerb(ctx: ChangesVerbContext, o: { from?: string | undefined; to?: string | undefined; workflow?: string | undefined }): Promise<number> {
  const from = momentArg(o.from, ctx.now, '--from');
  const to = momentArg(o.to, ctx.now, '--to');
  const out = await ctx.backend.call('changes:list', { from, to, ...(o.workflow === undefined ? {} : { workflow_id: await ctx.resolveWorkflow(o.workflow) }) });
  ctx.out(ctx.json ? JSON.stringify(out, null, 2) : changesText(out, ctx.now));
  return 0;
}
