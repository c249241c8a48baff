import type { Migration } from '../../migration.js';

/**
 * A backfill with a concurrency limit claims every tick at once but starts only that many runs: the
 * rest wait as `pending` claims (no run yet) of their `backfills` row, which keeps the limit and who
 * asked, and are started as the backfill's runs end — by whichever engine ends one, or the next
 * scheduler pass. `code_file_refusals` holds the code-folder files refused now, with the hash of the
 * content refused: a refusal is recorded once per content, across replicas, and removed when fixed.
 */
export const migration0110: Migration = {
  version: 110,
  name: 'backfill-limits-code-refusals',
  up: `
    CREATE TABLE backfills (
      backfill_id TEXT PRIMARY KEY,
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      max_concurrent INTEGER NOT NULL CHECK (max_concurrent > 0),
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    ALTER TABLE schedule_ticks ADD COLUMN backfill_id TEXT REFERENCES backfills (backfill_id);
    -- 1: claimed, its run not started yet (the backfill's limit was reached).
    ALTER TABLE schedule_ticks ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));
    CREATE INDEX schedule_ticks_pending ON schedule_ticks (backfill_id, logical_date) WHERE pending = 1;
    CREATE INDEX schedule_ticks_by_backfill ON schedule_ticks (backfill_id) WHERE backfill_id IS NOT NULL;

    CREATE TABLE code_file_refusals (
      file TEXT PRIMARY KEY,
      hash TEXT NOT NULL,
      refused_at TEXT NOT NULL
    ) WITHOUT ROWID;
  `,
};
