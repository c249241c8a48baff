import type { Migration } from '../../migration.js';

/**
 * Schedules that fire. Runs say what started them (`trigger`) and, when a schedule or a backfill did,
 * which tick they stand for (`logical_date`); runs from before keep their kind as their trigger
 * (resume, replay) or count as manual. `schedules` holds each scheduled workflow's catch-up policy,
 * concurrency limit and how far its ticks have been handled; `schedule_ticks` claims each tick once —
 * its primary key is what keeps two engines on one database from firing a tick twice.
 */
export const migration0080: Migration = {
  version: 80,
  name: 'schedules',
  up: `
    ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual'
      CHECK (trigger IN ('manual', 'schedule', 'backfill', 'resume', 'replay', 'api'));
    ALTER TABLE runs ADD COLUMN logical_date TEXT;
    UPDATE runs SET trigger = kind WHERE kind IN ('resume', 'replay');

    CREATE TABLE schedules (
      workflow_id TEXT PRIMARY KEY REFERENCES workflows (id),
      -- The cron expression next_due was computed for: a schedule changed by any path is noticed.
      expression TEXT NOT NULL,
      catchup TEXT NOT NULL DEFAULT 'skip' CHECK (catchup IN ('skip', 'latest', 'all')),
      max_concurrent INTEGER,
      -- Ticks at or before it are handled (fired, or skipped by the catch-up policy or a pause).
      last_tick TEXT NOT NULL,
      -- The first tick after last_tick: the scan reads only schedules due by now.
      next_due TEXT,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX schedules_by_next_due ON schedules (next_due);

    CREATE TABLE schedule_ticks (
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      logical_date TEXT NOT NULL,
      trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'backfill')),
      run_id TEXT REFERENCES runs (run_id),
      claimed_at TEXT NOT NULL,
      PRIMARY KEY (workflow_id, logical_date)
    ) WITHOUT ROWID;
  `,
};
