import type { Migration } from '../../migration.js';

/** Schedules that fire: as SQLite's 0080 (run triggers and logical dates, schedule state, tick claims). */
export const migration0080: Migration = {
  version: 80,
  name: 'schedules',
  up: `
    ALTER TABLE runs ADD COLUMN trigger TEXT COLLATE "C" NOT NULL DEFAULT 'manual'
      CHECK (trigger IN ('manual', 'schedule', 'backfill', 'resume', 'replay', 'api'));
    ALTER TABLE runs ADD COLUMN logical_date TEXT COLLATE "C";
    UPDATE runs SET trigger = kind WHERE kind IN ('resume', 'replay');

    CREATE TABLE schedules (
      workflow_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workflows (id),
      expression TEXT NOT NULL,
      catchup TEXT COLLATE "C" NOT NULL DEFAULT 'skip' CHECK (catchup IN ('skip', 'latest', 'all')),
      max_concurrent BIGINT,
      last_tick TEXT COLLATE "C" NOT NULL,
      next_due TEXT COLLATE "C",
      updated_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX schedules_by_next_due ON schedules (next_due);

    CREATE TABLE schedule_ticks (
      workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id),
      logical_date TEXT COLLATE "C" NOT NULL,
      trigger TEXT COLLATE "C" NOT NULL CHECK (trigger IN ('schedule', 'backfill')),
      run_id TEXT COLLATE "C" REFERENCES runs (run_id),
      claimed_at TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (workflow_id, logical_date)
    );
  `,
};
