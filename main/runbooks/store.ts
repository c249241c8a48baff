import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { RewindError } from '../engine/errors.js';
import {
  type RehearsalRecord,
  type Runbook,
  type StoredRehearsal,
  type StoredRunbook,
  runbookSchema,
  storedRehearsalSchema,
  storedRunbookSchema,
  validateRunbook,
} from './schema.js';

/*
 * Runbooks and rehearsals in the engine's database (migration 0030). Rows are read back through the
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
  });

const notFound = (ref: string) => new RewindError('RUNBOOK_NOT_FOUND', `No runbook "${ref}" here.`, 'Import it, or pick one from the runbook list.', { runbook: ref });

export class RunbookStore {
  private readonly sql: Record<'upsert' | 'all' | 'byRef' | 'remove' | 'countRehearsals' | 'insertRehearsal' | 'rehearsalsOf' | 'rehearsal', Database.Statement>;

  constructor(
    db: Database.Database,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.sql = {
      upsert: db.prepare(
        `INSERT INTO runbooks (id, name, level, definition, created_by, created_at, updated_at)
         VALUES (@id, @name, @level, @definition, @actor, @now, @now)
         ON CONFLICT (name) DO UPDATE SET level = excluded.level, definition = excluded.definition, updated_at = excluded.updated_at`,
      ),
      all: db.prepare('SELECT * FROM runbooks ORDER BY name'),
      // An id wins over a name, should a runbook be named like another's id.
      byRef: db.prepare('SELECT * FROM runbooks WHERE id = @ref OR name = @ref ORDER BY id = @ref DESC LIMIT 1'),
      remove: db.prepare('DELETE FROM runbooks WHERE id = ?'),
      countRehearsals: db.prepare('SELECT COUNT(*) AS n FROM rehearsals WHERE runbook_id = ?'),
      insertRehearsal: db.prepare(
        `INSERT INTO rehearsals (id, runbook_id, runbook_definition, scenario, started_at, finished_at, total_ms, passed, steps, rollbacks, created_by, time_scale, auto_executed, scratch_copy)
         VALUES (@id, @runbook_id, @definition, @scenario, @started_at, @finished_at, @total_ms, @passed, @steps, @rollbacks, @actor, @time_scale, @auto_executed, @scratch_copy)`,
      ),
      rehearsalsOf: db.prepare('SELECT * FROM rehearsals WHERE runbook_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?'),
      rehearsal: db.prepare('SELECT * FROM rehearsals WHERE id = ?'),
    };
  }

  /** Saves a runbook under its name: a new one, or a new definition for the one of that name. */
  saveRunbook(runbook: Runbook, actor: string): StoredRunbook {
    const valid = validateRunbook(runbook);
    const now = this.clock().toISOString();
    this.sql.upsert.run({ id: randomUUID(), name: valid.name, level: valid.level ?? null, definition: JSON.stringify(valid), actor, now });
    return this.getRunbook(valid.name);
  }

  listRunbooks(): StoredRunbook[] {
    return (this.sql.all.all() as RunbookRow[]).map(toRunbook);
  }

  /** By id or by name; null when there is none. */
  findRunbook(idOrName: string): StoredRunbook | null {
    const row = this.sql.byRef.get({ ref: idOrName }) as RunbookRow | undefined;
    return row ? toRunbook(row) : null;
  }

  /** By id or by name. */
  getRunbook(idOrName: string): StoredRunbook {
    const found = this.findRunbook(idOrName);
    if (!found) throw notFound(idOrName);
    return found;
  }

  /** Deletes a runbook and its rehearsals; null when there was none. */
  deleteRunbook(idOrName: string): { runbook: StoredRunbook; rehearsals: number } | null {
    const runbook = this.findRunbook(idOrName);
    if (!runbook) return null;
    const { n } = this.sql.countRehearsals.get(runbook.id) as { n: number };
    this.sql.remove.run(runbook.id);
    return { runbook, rehearsals: n };
  }

  /** Keeps a rehearsal with the runbook as it was rehearsed. */
  saveRehearsal(runbookIdOrName: string, record: RehearsalRecord, actor: string): StoredRehearsal {
    const stored = this.getRunbook(runbookIdOrName);
    if (record.runbook_name !== stored.name) {
      throw new RewindError('VALIDATION_FAILED', `The record is of runbook "${record.runbook_name}", not "${stored.name}".`, 'Record a rehearsal under the runbook it rehearsed.', {
        runbook: stored.name,
        record_runbook: record.runbook_name,
      });
    }
    const id = randomUUID();
    this.sql.insertRehearsal.run({
      id,
      runbook_id: stored.id,
      definition: JSON.stringify(stored.runbook),
      scenario: record.scenario,
      started_at: record.started_at,
      finished_at: record.finished_at,
      total_ms: Math.round(record.total_ms),
      passed: record.passed ? 1 : 0,
      steps: JSON.stringify(record.steps),
      rollbacks: JSON.stringify(record.rollbacks),
      actor,
      time_scale: record.time_scale ?? null,
      auto_executed: flag(record.auto_executed),
      scratch_copy: flag(record.scratch_copy),
    });
    return this.getRehearsal(id);
  }

  /** A runbook's rehearsals, newest first: its recovery-time history. */
  listRehearsals(runbookIdOrName: string, limit = 100): StoredRehearsal[] {
    const { id } = this.getRunbook(runbookIdOrName);
    return (this.sql.rehearsalsOf.all(id, limit) as RehearsalRow[]).map(toRehearsal);
  }

  getRehearsal(id: string): StoredRehearsal {
    return toRehearsal(this.rehearsalRow(id));
  }

  /** The runbook as it was when this rehearsal ran: its report describes that procedure, not a later edit. */
  rehearsedRunbook(id: string): Runbook {
    return runbookSchema.parse(JSON.parse(this.rehearsalRow(id).runbook_definition));
  }

  private rehearsalRow(id: string): RehearsalRow {
    const row = this.sql.rehearsal.get(id) as RehearsalRow | undefined;
    if (!row) throw new RewindError('REHEARSAL_NOT_FOUND', `No rehearsal "${id}" here.`, "Pick one from the runbook's rehearsal history.", { rehearsal: id });
    return row;
  }
}
