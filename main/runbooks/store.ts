import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { RewindError } from '../engine/errors.js';
import type { RehearsalRecord } from './rehearsal.js';
import { type Runbook, runbookSchema, validateRunbook } from './schema.js';

/*
 * Runbooks and rehearsals in the engine's database (migration 0030). A runbook is stored validated
 * and read back through its schema, so a hand-edited row cannot reach a rehearsal unchecked.
 */

export interface StoredRunbook {
  id: string;
  name: string;
  level: Runbook['level'] | null;
  runbook: Runbook;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface StoredRehearsal extends RehearsalRecord {
  id: string;
  runbook_id: string;
  created_by: string;
}

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
}

const toRunbook = (row: RunbookRow): StoredRunbook => ({
  id: row.id,
  name: row.name,
  level: row.level,
  runbook: runbookSchema.parse(JSON.parse(row.definition)),
  created_by: row.created_by,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

const toRehearsal = (row: RehearsalRow): StoredRehearsal => ({
  id: row.id,
  runbook_id: row.runbook_id,
  runbook_name: (JSON.parse(row.runbook_definition) as Runbook).name,
  scenario: row.scenario,
  started_at: row.started_at,
  finished_at: row.finished_at,
  total_ms: row.total_ms,
  passed: row.passed === 1,
  steps: JSON.parse(row.steps) as StoredRehearsal['steps'],
  rollbacks: JSON.parse(row.rollbacks) as StoredRehearsal['rollbacks'],
  created_by: row.created_by,
});

export class RunbookStore {
  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Saves a runbook under its name: a new one, or a new definition for the one of that name. */
  saveRunbook(runbook: Runbook, actor: string): StoredRunbook {
    const valid = validateRunbook(runbook);
    const now = this.clock().toISOString();
    this.db
      .prepare(
        `INSERT INTO runbooks (id, name, level, definition, created_by, created_at, updated_at)
         VALUES (@id, @name, @level, @definition, @actor, @now, @now)
         ON CONFLICT (name) DO UPDATE SET level = excluded.level, definition = excluded.definition, updated_at = excluded.updated_at`,
      )
      .run({ id: randomUUID(), name: valid.name, level: valid.level ?? null, definition: JSON.stringify(valid), actor, now });
    return this.getRunbook(valid.name);
  }

  listRunbooks(): StoredRunbook[] {
    return (this.db.prepare('SELECT * FROM runbooks ORDER BY name').all() as RunbookRow[]).map(toRunbook);
  }

  /** By id or by name. */
  getRunbook(idOrName: string): StoredRunbook {
    const row = this.db.prepare('SELECT * FROM runbooks WHERE id = ? OR name = ?').get(idOrName, idOrName) as RunbookRow | undefined;
    if (!row) throw new RewindError('RUNBOOK_NOT_FOUND', `No runbook "${idOrName}" here.`, 'Import it, or pick one from the runbook list.', { runbook: idOrName });
    return toRunbook(row);
  }

  deleteRunbook(idOrName: string): void {
    const { id } = this.getRunbook(idOrName);
    this.db.prepare('DELETE FROM runbooks WHERE id = ?').run(id);
  }

  /** Keeps a rehearsal with the runbook as it was rehearsed. */
  saveRehearsal(runbookIdOrName: string, record: RehearsalRecord, actor: string): StoredRehearsal {
    const stored = this.getRunbook(runbookIdOrName);
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO rehearsals (id, runbook_id, runbook_definition, scenario, started_at, finished_at, total_ms, passed, steps, rollbacks, created_by)
         VALUES (@id, @runbook_id, @definition, @scenario, @started_at, @finished_at, @total_ms, @passed, @steps, @rollbacks, @actor)`,
      )
      .run({
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
      });
    return this.getRehearsal(id);
  }

  /** A runbook's rehearsals, newest first: its recovery-time history. */
  listRehearsals(runbookIdOrName: string, limit = 100): StoredRehearsal[] {
    const { id } = this.getRunbook(runbookIdOrName);
    return (this.db.prepare('SELECT * FROM rehearsals WHERE runbook_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all(id, limit) as RehearsalRow[]).map(toRehearsal);
  }

  getRehearsal(id: string): StoredRehearsal {
    const row = this.db.prepare('SELECT * FROM rehearsals WHERE id = ?').get(id) as RehearsalRow | undefined;
    if (!row) throw new RewindError('REHEARSAL_NOT_FOUND', `No rehearsal "${id}" here.`, "Pick one from the runbook's rehearsal history.", { rehearsal: id });
    return toRehearsal(row);
  }
}
