import type { Migration } from '../../migration.js';

/** Backfill limits (pending tick claims) and refused code-folder files: as SQLite's 0110. */
export const migration0110: Migration = {
  version: 110,
  name: 'backfill-limits-code-refusals',
  up: `
    CREATE TABLE backfills (
      backfill_id TEXT COLLATE "C" PRIMARY KEY,
      workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id),
      max_concurrent BIGINT NOT NULL CHECK (max_concurrent > 0),
      created_by TEXT NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL
    );
    ALTER TABLE schedule_ticks ADD COLUMN backfill_id TEXT COLLATE "C" REFERENCES backfills (backfill_id);
    ALTER TABLE schedule_ticks ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));
    CREATE INDEX schedule_ticks_pending ON schedule_ticks (backfill_id, logical_date) WHERE pending = 1;
    CREATE INDEX schedule_ticks_by_backfill ON schedule_ticks (backfill_id) WHERE backfill_id IS NOT NULL;

    CREATE TABLE code_file_refusals (
      file TEXT COLLATE "C" PRIMARY KEY,
      hash TEXT COLLATE "C" NOT NULL,
      refused_at TEXT COLLATE "C" NOT NULL
    );
  `,
};
