import { randomUUID } from 'node:crypto';
import { RewindError } from '../errors.js';
import {
  type RehearsalRecord,
  type Runbook,
  type StoredRehearsal,
  type StoredRunbook,
  runbookSchema,
  storedRehearsalSchema,
  storedRunbookSchema,
  validateRunbook,
} from './format.js';
import type { Queryable } from '../store/port.js';

/*
 * Runbooks and rehearsals in the engine's store (migration 0030), through the storage port like the engine's own tables. Rows are read back through the
 * contract's schemas, so a hand-edited row cannot reach a rehearsal (or the console) unchecked.
 * The store appends no events: its callers run it inside `engine.mutate` with the audit event.
 */

interface RunbookRow {
  id: string;
  name: string;
  level: Runbook['level'] | null;
  definition: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

interface RehearsalRow {
  id: string;
  runbook_id: string;
  runbook_definition: string;
  scenario: string | null;
  started_at: string;
  finished_at: string;
  total_ms: number;
  passed: number;
  steps: string;
  rollbacks: string;
  created_by: string;
  time_scale: number | null;
  auto_executed: number | null;
  scratch_copy: number | null;
  pace: 'paced' | 'automatic' | null;
}

const flag = (v: boolean | null | undefined): number | null => (v === null || v === undefined ? null : v ? 1 : 0);
const unflag = (v: number | null): boolean | null => (v === null ? null : v === 1);

const toRunbook = (row: RunbookRow): StoredRunbook => storedRunbookSchema.parse({ ...row, runbook: JSON.parse(row.definition) });

const toRehearsal = (row: RehearsalRow): StoredRehearsal =>
  storedRehearsalSchema.parse({
    ...row,
    runbook_name: runbookSchema.parse(JSON.parse(row.runbook_definition)).name,
    passed: row.passed === 1,
    steps: JSON.parse(row.steps),
    rollbacks: JSON.parse(row.rollbacks),
    // Rows from before the conditions were kept have none: left out rather than invented.
    time_scale: row.time_scale ?? undefined,
    auto_executed: unflag(row.auto_executed) ?? undefined,
    scratch_copy: unflag(row.scratch_copy) ?? undefined,
    pace: row.pace ?? undefined,
  });

const notFound = (ref: string) => new RewindError('RUNBOOK_NOT_FOUND', `No runbook "${ref}" here.`, 'Import it, or pick one from the runbook list.', { runbook: ref });

const UPSERT = `INSERT INTO runbooks (id, name, level, definition, created_by, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET level = excluded.level, definition = excluded.definition, updated_at = excluded.updated_at`;
const ALL = 'SELECT * FROM runbooks ORDER BY name';
// An id wins over a name, should a runbook be named like another's id.
const BY_REF = 'SELECT * FROM runbooks WHERE id = ? OR name = ? ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1';
const REMOVE_REHEARSALS = 'DELETE FROM rehearsals WHERE runbook_id = ?';
const REMOVE = 'DELETE FROM runbooks WHERE id = ?';
const COUNT_REHEARSALS = 'SELECT COUNT(*) AS n FROM rehearsals WHERE runbook_id = ?';
const INSERT_REHEARSAL = `INSERT INTO rehearsals (id, runbook_id, runbook_definition, scenario, started_at, finished_at, total_ms, passed, steps, rollbacks, created_by, time_scale, auto_executed, scratch_copy, pace)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
// finished_at then id break ties of one started_at: a stable order on both stores.
const REHEARSALS_OF = 'SELECT * FROM rehearsals WHERE runbook_id = ? ORDER BY started_at DESC, finished_at DESC, id DESC LIMIT ?';
const REHEARSAL = 'SELECT * FROM rehearsals WHERE id = ?';

export class RunbookStore {
  constructor(
    /** Where statements go: the open mutation's transaction, or committed data outside one. */
    private readonly q: () => Queryable,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Saves a runbook under its name: a new one, or a new definition for the one of that name. */
  async saveRunbook(runbook: Runbook, actor: string): Promise<StoredRunbook> {
    const valid = validateRunbook(runbook);
    const now = this.clock().toISOString();
    await this.q().run(UPSERT, [randomUUID(), valid.name, valid.level ?? null, JSON.stringify(valid), actor, now, now]);
    return this.getRunbook(valid.name);
  }

  async listRunbooks(): Promise<StoredRunbook[]> {
    return (await this.q().all<RunbookRow>(ALL)).map(toRunbook);
  }

  /** By id or by name; null when there is none. */
  async findRunbook(idOrName: string): Promise<StoredRunbook | null> {
    const row = await this.q().get<RunbookRow>(BY_REF, [idOrName, idOrName, idOrName]);
    return row ? toRunbook(row) : null;
  }

  /** By id or by name. */
  async getRunbook(idOrName: string): Promise<StoredRunbook> {
    const found = await this.findRunbook(idOrName);
    if (!found) throw notFound(idOrName);
    return found;
  }

  /** Deletes a runbook and its rehearsals; null when there was none. */
  async deleteRunbook(idOrName: string): Promise<{ runbook: StoredRunbook; rehearsals: number } | null> {
    const runbook = await this.findRunbook(idOrName);
    if (!runbook) return null;
    const { n } = (await this.q().get<{ n: number }>(COUNT_REHEARSALS, [runbook.id]))!;
    // Said outright rather than left to ON DELETE CASCADE, which needs SQLite's foreign_keys pragma.
    await this.q().run(REMOVE_REHEARSALS, [runbook.id]);
    await this.q().run(REMOVE, [runbook.id]);
    return { runbook, rehearsals: n };
  }

  /** Keeps a rehearsal with the runbook as it was rehearsed. */
  async saveRehearsal(runbookIdOrName: string, record: RehearsalRecord, actor: string): Promise<StoredRehearsal> {
    const stored = await this.getRunbook(runbookIdOrName);
    if (record.runbook_name !== stored.name) {
      throw new RewindError('VALIDATION_FAILED', `The record is of runbook "${record.runbook_name}", not "${stored.name}".`, 'Record a rehearsal under the runbook it rehearsed.', {
        runbook: stored.name,
        record_runbook: record.runbook_name,
      });
    }
    const id = randomUUID();
    await this.q().run(INSERT_REHEARSAL, [
      id,
      stored.id,
      JSON.stringify(stored.runbook),
      record.scenario,
      record.started_at,
      record.finished_at,
      Math.round(record.total_ms),
      record.passed ? 1 : 0,
      JSON.stringify(record.steps),
      JSON.stringify(record.rollbacks),
      actor,
      record.time_scale ?? null,
      flag(record.auto_executed),
      flag(record.scratch_copy),
      record.pace ?? null,
    ]);
    return this.getRehearsal(id);
  }

  /** A runbook's rehearsals, newest first: its recovery-time history. */
  async listRehearsals(runbookIdOrName: string, limit = 100): Promise<StoredRehearsal[]> {
    const { id } = await this.getRunbook(runbookIdOrName);
    return (await this.q().all<RehearsalRow>(REHEARSALS_OF, [id, limit])).map(toRehearsal);
  }

  async getRehearsal(id: string): Promise<StoredRehearsal> {
    return toRehearsal(await this.rehearsalRow(id));
  }

  /** The runbook as it was when this rehearsal ran: its report describes that procedure, not a later edit. */
  async rehearsedRunbook(id: string): Promise<Runbook> {
    return runbookSchema.parse(JSON.parse((await this.rehearsalRow(id)).runbook_definition));
  }

  private async rehearsalRow(id: string): Promise<RehearsalRow> {
    const row = await this.q().get<RehearsalRow>(REHEARSAL, [id]);
    if (!row) throw new RewindError('REHEARSAL_NOT_FOUND', `No rehearsal "${id}" here.`, "Pick one from the runbook's rehearsal history.", { rehearsal: id });
    return row;
  }
}
