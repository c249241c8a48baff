import { randomUUID } from 'node:crypto';
import type { IncidentPage, IncidentRecord, IncidentReportFields, MitigationAction } from '../../preload/contract/incident-records.js';
import type { RewindEvent } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { RewindError } from './errors.js';
import { BAD_FAILURE_RATE, FAILURE_WINDOW_HOURS } from './incidents.js';

/*
 * Incidents as records. The engine follows its own log as it is written (an append observer, inside
 * the appending mutation and so under the chain-head lock): a failed run whose version's failure rate
 * breaks the incident home's rule (seed 003's 20 %) opens an incident for its workflow, unless one is
 * open; a rollback away from the bad version or a pause mitigates it at once; a cancel of a run of the
 * bad version mitigates it once the next run after it succeeds with no failure between (the cancel
 * stopped new failures); the first successful run started after the mitigation resolves it. A person
 * acknowledges or closes it. Replicas serialize on the head lock, so two racing failures open one
 * incident; a partial unique index (one open incident per workflow) backs that rule in the schema.
 */

/** Who ran a rehearsal's scenario (main/runbooks/scenarios.ts): its incidents are rehearsals. */
export const SCENARIO_ACTOR = 'scenario';

interface IncidentRow {
  incident_id: string;
  workflow_id: string;
  version: number;
  rehearsal: number;
  opened_seq: number;
  opened_at: string;
  first_failure_at: string;
  first_run_id: string | null;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  acknowledged_seq: number | null;
  mitigated_by: string | null;
  mitigated_action: MitigationAction | null;
  mitigated_at: string | null;
  mitigated_seq: number | null;
  candidate_by: string | null;
  candidate_at: string | null;
  candidate_seq: number | null;
  resolved_by: string | null;
  resolved_at: string | null;
  resolved_seq: number | null;
  resolved_note: string | null;
  report: string | null;
  report_revision: number;
}

export interface StoredReport {
  fields: IncidentReportFields;
  revision: number;
  edited_by: string | null;
  edited_at: string | null;
}

const COLUMNS = 'i.*, w.name AS workflow_name';
const FROM = 'FROM incidents i LEFT JOIN workflows w ON w.id = i.workflow_id';
const SELECT_ONE = `SELECT ${COLUMNS} ${FROM} WHERE i.incident_id = ?`;
const SELECT_OPEN = 'SELECT * FROM incidents WHERE workflow_id = ? AND resolved_at IS NULL';
// The version's judged runs from the counters the runs table keeps (migration 0140), not a count of its runs: read on every failed run.
const VERSION_HEALTH = 'SELECT runs, failed FROM run_version_stats WHERE workflow_id = ? AND version = ?';
/** The version's first failure no resume has followed, in the home's window and after the workflow's last incident ended: where the clock starts. */
const FIRST_FAILURE = `SELECT r.run_id, COALESCE(r.finished_at, r.created_at) AS at FROM runs r
  WHERE r.workflow_id = ? AND r.version = ? AND r.status IN ('failed', 'interrupted') AND r.kind <> 'replay' AND r.created_at > ? AND COALESCE(r.finished_at, r.created_at) > ?
    AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_run_id = r.run_id AND c.kind = 'resume')
  ORDER BY COALESCE(r.finished_at, r.created_at), r.run_id LIMIT 1`;
const INSERT = `INSERT INTO incidents (incident_id, workflow_id, version, rehearsal, opened_seq, opened_at, first_failure_at, first_run_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

const seconds = (from: string, to: string | null): number | null => (to === null ? null : Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000));

const emptyFields = (): IncidentReportFields => ({ root_cause: '', prevention: '', lessons: '', rollback_plan: '' });

export function toRecord(row: IncidentRow & { workflow_name?: string | null }): IncidentRecord {
  const step = (by: string | null, at: string | null, seq: number | null) => (by !== null && at !== null && seq !== null ? { by, at, seq: Number(seq) } : null);
  const ack = step(row.acknowledged_by, row.acknowledged_at, row.acknowledged_seq);
  const mit = step(row.mitigated_by, row.mitigated_at, row.mitigated_seq);
  const res = step(row.resolved_by, row.resolved_at, row.resolved_seq);
  return {
    incident_id: row.incident_id,
    workflow_id: row.workflow_id,
    workflow_name: row.workflow_name ?? row.workflow_id,
    version: Number(row.version),
    status: row.resolved_at === null ? 'open' : 'resolved',
    rehearsal: Number(row.rehearsal) === 1,
    opened_at: row.opened_at,
    opened_seq: Number(row.opened_seq),
    first_failure_at: row.first_failure_at,
    first_run_id: row.first_run_id,
    acknowledged: ack,
    mitigated: mit && row.mitigated_action ? { ...mit, action: row.mitigated_action } : null,
    resolved: res ? { ...res, note: row.resolved_note } : null,
    time_to_acknowledge_s: seconds(row.first_failure_at, row.acknowledged_at),
    time_to_mitigate_s: seconds(row.first_failure_at, row.mitigated_at),
    time_to_resolve_s: seconds(row.first_failure_at, row.resolved_at),
    report_revision: Number(row.report_revision),
  };
}

export function storedReport(row: Pick<IncidentRow, 'report' | 'report_revision'>): StoredReport {
  const saved = row.report ? (JSON.parse(row.report) as { fields?: Partial<IncidentReportFields>; edited_by?: string; edited_at?: string }) : {};
  return { fields: { ...emptyFields(), ...saved.fields }, revision: Number(row.report_revision), edited_by: saved.edited_by ?? null, edited_at: saved.edited_at ?? null };
}

export class IncidentRecordService {
  constructor(
    private readonly core: EngineCore,
    private readonly systemActor: string,
    opening: boolean,
  ) {
    if (opening) core.observeAppends((e) => this.observe(e));
  }

  async list(input: { status: 'open' | 'resolved' | 'all'; workflow_id?: string | undefined; before?: number | undefined; limit: number }): Promise<IncidentPage> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (input.status === 'open') where.push('i.resolved_at IS NULL');
    if (input.status === 'resolved') where.push('i.resolved_at IS NOT NULL');
    if (input.workflow_id !== undefined) {
      where.push('i.workflow_id = ?');
      params.push(input.workflow_id);
    }
    if (input.before !== undefined) {
      where.push('i.opened_seq < ?');
      params.push(input.before);
    }
    const rows = await this.core.q().all<IncidentRow & { workflow_name: string | null }>(
      `SELECT ${COLUMNS} ${FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY i.opened_seq DESC LIMIT ?`,
      [...params, input.limit + 1],
    );
    const page = rows.slice(0, input.limit).map(toRecord);
    return { records: page, next_before: rows.length > input.limit ? page[page.length - 1]!.opened_seq : null };
  }

  async get(incidentId: string): Promise<IncidentRecord> {
    return toRecord(await this.row(incidentId));
  }

  async row(incidentId: string): Promise<IncidentRow & { workflow_name: string | null }> {
    const row = await this.core.q().get<IncidentRow & { workflow_name: string | null }>(SELECT_ONE, [incidentId]);
    if (!row) throw new RewindError('INCIDENT_NOT_FOUND', `There is no incident "${incidentId}".`, 'List the incidents with `rewind incidents list` (or GET /api/v1/incidents/records) and use one of their ids.', { incident_id: incidentId });
    return row;
  }

  /** A person's "I'm on it". The first acknowledgement stands: a second answers the record naming who was first. */
  acknowledge(incidentId: string, actor: string): Promise<IncidentRecord> {
    return this.core.mutate(async () => {
      const row = await this.open(incidentId, 'acknowledge');
      if (row.acknowledged_at === null) {
        const ts = this.core.now();
        const e = await this.core.append({
          type: 'incident_acknowledged',
          workflow_id: row.workflow_id,
          actor,
          ts,
          payload: { incident_id: row.incident_id, by: actor, time_to_acknowledge_s: seconds(row.first_failure_at, ts), rehearsal: Number(row.rehearsal) === 1 },
        });
        await this.core.q().run('UPDATE incidents SET acknowledged_by = ?, acknowledged_at = ?, acknowledged_seq = ? WHERE incident_id = ?', [actor, ts, e.seq, row.incident_id]);
      }
      return this.get(incidentId);
    });
  }

  /** A person closes the incident (fixed forward, a false alarm, or resolved outside the runs). */
  resolve(incidentId: string, actor: string, note: string | undefined): Promise<IncidentRecord> {
    return this.core.mutate(async () => {
      const row = await this.open(incidentId, 'close');
      await this.resolveRow(row, actor, this.core.now(), note?.trim() ? note.trim() : null);
      return this.get(incidentId);
    });
  }

  /** Saves the report's human fields over the revision the editor saw; a stale revision is refused with the current text. */
  saveReport(incidentId: string, actor: string, expectedRevision: number, fields: Partial<IncidentReportFields>): Promise<StoredReport> {
    return this.core.mutate(async () => {
      const row = await this.row(incidentId);
      const current = storedReport(row);
      if (current.revision !== expectedRevision) {
        throw new RewindError(
          'STALE_REVISION',
          `The report of incident ${incidentId} was changed${current.edited_by ? ` by ${current.edited_by}` : ''} since you opened it (revision ${current.revision}, yours ${expectedRevision}).`,
          'Reload the report, merge your text into theirs, and save again.',
          { incident_id: incidentId, current_revision: current.revision, current: current.fields, edited_by: current.edited_by },
        );
      }
      const ts = this.core.now();
      const next: StoredReport = { fields: { ...current.fields, ...definedOnly(fields) }, revision: current.revision + 1, edited_by: actor, edited_at: ts };
      await this.core.append({
        type: 'incident_report_saved',
        workflow_id: row.workflow_id,
        actor,
        ts,
        payload: { incident_id: incidentId, revision: next.revision, fields: next.fields },
      });
      await this.core.q().run('UPDATE incidents SET report = ?, report_revision = ? WHERE incident_id = ?', [
        JSON.stringify({ fields: next.fields, edited_by: actor, edited_at: ts }),
        next.revision,
        incidentId,
      ]);
      return next;
    });
  }

  private async open(incidentId: string, what: string): Promise<IncidentRow> {
    const row = await this.row(incidentId);
    if (row.resolved_at !== null) {
      throw new RewindError('INCIDENT_RESOLVED', `Incident ${incidentId} was resolved by ${row.resolved_by ?? 'someone'} at ${row.resolved_at}; there is nothing to ${what}.`, 'Read its report, or act on the open incident of the workflow, if any.', {
        incident_id: incidentId,
        resolved_by: row.resolved_by,
        resolved_at: row.resolved_at,
      });
    }
    return row;
  }

  /** The rule, run inside the mutation that appended `e`. */
  private async observe(e: RewindEvent): Promise<void> {
    if (e.workflow_id === null || e.type.startsWith('incident_')) return;
    const q = this.core.q();
    const relevant = ['run_failed', 'run_succeeded', 'run_cancelled', 'workflow_rollback', 'workflow_paused'];
    if (!relevant.includes(e.type)) return;
    if ((e.type === 'run_failed' || e.type === 'run_succeeded') && e.payload.kind === 'replay') return;
    const open = await q.get<IncidentRow>(SELECT_OPEN, [e.workflow_id]);
    if (!open) {
      if (e.type === 'run_failed') await this.maybeOpen(e);
      return;
    }
    const mitigated = open.mitigated_at !== null;
    switch (e.type) {
      case 'run_failed':
        // The cancel did not stop the failures.
        if (!mitigated && open.candidate_seq !== null) await q.run('UPDATE incidents SET candidate_by = NULL, candidate_at = NULL, candidate_seq = NULL WHERE incident_id = ?', [open.incident_id]);
        return;
      case 'workflow_rollback':
        if (!mitigated && e.payload.to_version !== Number(open.version)) await this.mitigate(open, e.actor, 'rollback', e.ts, e.seq);
        return;
      case 'workflow_paused':
        if (!mitigated) await this.mitigate(open, e.actor, 'pause', e.ts, e.seq);
        return;
      case 'run_cancelled':
        if (!mitigated && open.candidate_seq === null && e.payload.version === Number(open.version)) {
          await q.run('UPDATE incidents SET candidate_by = ?, candidate_at = ?, candidate_seq = ? WHERE incident_id = ?', [e.actor, e.ts, e.seq, open.incident_id]);
        }
        return;
      case 'run_succeeded': {
        const run = await q.get<{ created_at: string }>('SELECT created_at FROM runs WHERE run_id = ?', [e.run_id]);
        let row = open;
        if (!mitigated) {
          if (open.candidate_seq === null || open.candidate_at === null || open.candidate_by === null || !run || run.created_at < open.candidate_at) return;
          row = await this.mitigate(open, open.candidate_by, 'cancel', open.candidate_at, Number(open.candidate_seq));
        }
        if (!run || run.created_at < row.mitigated_at!) return;
        await this.resolveRow(row, this.systemActor, e.ts, `Run ${e.run_id ?? '?'} (v${String(e.payload.version)}) succeeded after the ${row.mitigated_action ?? 'mitigation'}.`);
        return;
      }
    }
  }

  private async maybeOpen(e: RewindEvent): Promise<void> {
    const q = this.core.q();
    const version = Number(e.payload.version);
    const health = await q.get<{ runs: number; failed: number | null }>(VERSION_HEALTH, [e.workflow_id, version]);
    const runs = Number(health?.runs ?? 0);
    if (runs === 0 || Number(health?.failed ?? 0) / runs <= BAD_FAILURE_RATE) return;
    const cutoff = new Date(Date.parse(e.ts) - FAILURE_WINDOW_HOURS * 3_600_000).toISOString();
    const previous = await q.get<{ at: string | null }>('SELECT MAX(resolved_at) AS at FROM incidents WHERE workflow_id = ?', [e.workflow_id]);
    const first = await q.get<{ run_id: string; at: string }>(FIRST_FAILURE, [e.workflow_id, version, cutoff, previous?.at ?? '']);
    const run = await q.get<{ created_by: string }>('SELECT created_by FROM runs WHERE run_id = ?', [e.run_id]);
    const published = await q.get<{ created_by: string }>('SELECT created_by FROM workflow_versions WHERE workflow_id = ? AND version = ?', [e.workflow_id, version]);
    const rehearsal = run?.created_by === SCENARIO_ACTOR || published?.created_by === SCENARIO_ACTOR;
    const incidentId = `inc-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const firstAt = first?.at ?? e.ts;
    const opened = await this.core.append({
      type: 'incident_opened',
      workflow_id: e.workflow_id,
      run_id: e.run_id,
      actor: this.systemActor,
      ts: e.ts,
      payload: { incident_id: incidentId, workflow_id: e.workflow_id, version, first_failure_at: firstAt, first_run_id: first?.run_id ?? e.run_id, rehearsal },
    });
    await q.run(INSERT, [incidentId, e.workflow_id!, version, rehearsal ? 1 : 0, opened.seq, e.ts, firstAt, first?.run_id ?? e.run_id]);
  }

  private async mitigate(row: IncidentRow, by: string, action: MitigationAction, at: string, seq: number): Promise<IncidentRow> {
    await this.core.append({
      type: 'incident_mitigated',
      workflow_id: row.workflow_id,
      actor: by,
      ts: this.core.now(),
      payload: { incident_id: row.incident_id, by, action, seq, at, time_to_mitigate_s: seconds(row.first_failure_at, at), rehearsal: Number(row.rehearsal) === 1 },
    });
    await this.core.q().run(
      'UPDATE incidents SET mitigated_by = ?, mitigated_action = ?, mitigated_at = ?, mitigated_seq = ?, candidate_by = NULL, candidate_at = NULL, candidate_seq = NULL WHERE incident_id = ?',
      [by, action, at, seq, row.incident_id],
    );
    return { ...row, mitigated_by: by, mitigated_action: action, mitigated_at: at, mitigated_seq: seq };
  }

  private async resolveRow(row: IncidentRow, by: string, ts: string, note: string | null): Promise<void> {
    const e = await this.core.append({
      type: 'incident_resolved',
      workflow_id: row.workflow_id,
      actor: by,
      ts,
      payload: { incident_id: row.incident_id, by, note, time_to_resolve_s: seconds(row.first_failure_at, ts), rehearsal: Number(row.rehearsal) === 1 },
    });
    await this.core.q().run('UPDATE incidents SET resolved_by = ?, resolved_at = ?, resolved_seq = ?, resolved_note = ? WHERE incident_id = ?', [by, ts, e.seq, note, row.incident_id]);
  }
}

function definedOnly(fields: Partial<IncidentReportFields>): Partial<IncidentReportFields> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<IncidentReportFields>;
}

/** The rows of `incidents` as the log says they are: a snapshot (which copies events) rebuilds them from it. */
export function rebuildIncidents(events: Iterable<RewindEvent>): IncidentRow[] {
  const rows = new Map<string, IncidentRow>();
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  for (const e of events) {
    if (!e.type.startsWith('incident_')) continue;
    const p = e.payload;
    const id = String(p.incident_id);
    if (e.type === 'incident_opened') {
      rows.set(id, {
        incident_id: id,
        workflow_id: String(p.workflow_id),
        version: Number(p.version),
        rehearsal: p.rehearsal === true ? 1 : 0,
        opened_seq: e.seq,
        opened_at: e.ts,
        first_failure_at: String(p.first_failure_at),
        first_run_id: str(p.first_run_id),
        acknowledged_by: null,
        acknowledged_at: null,
        acknowledged_seq: null,
        mitigated_by: null,
        mitigated_action: null,
        mitigated_at: null,
        mitigated_seq: null,
        candidate_by: null,
        candidate_at: null,
        candidate_seq: null,
        resolved_by: null,
        resolved_at: null,
        resolved_seq: null,
        resolved_note: null,
        report: null,
        report_revision: 0,
      });
      continue;
    }
    const row = rows.get(id);
    if (!row) continue;
    if (e.type === 'incident_acknowledged') Object.assign(row, { acknowledged_by: str(p.by), acknowledged_at: e.ts, acknowledged_seq: e.seq });
    if (e.type === 'incident_mitigated') Object.assign(row, { mitigated_by: str(p.by), mitigated_action: str(p.action), mitigated_at: str(p.at) ?? e.ts, mitigated_seq: Number(p.seq) });
    if (e.type === 'incident_resolved') Object.assign(row, { resolved_by: str(p.by), resolved_at: e.ts, resolved_seq: e.seq, resolved_note: str(p.note) });
    if (e.type === 'incident_report_saved') Object.assign(row, { report: JSON.stringify({ fields: p.fields, edited_by: e.actor, edited_at: e.ts }), report_revision: Number(p.revision) });
  }
  return [...rows.values()];
}

export type { IncidentRow };
