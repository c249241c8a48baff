import type { Migration } from '../../migration.js';

/**
 * Runbooks and the timed record of every rehearsal. A runbook is kept as validated JSON (its name is
 * unique per database); a rehearsal keeps its step records as JSON and the runbook it rehearsed,
 * as it was then, so a later edit does not rewrite history.
 */
export const migration0030: Migration = {
  version: 30,
  name: 'runbooks',
  up: `
    CREATE TABLE runbooks (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      level TEXT CHECK (level IS NULL OR level IN ('application', 'configuration', 'database', 'full-system')),
      definition TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE rehearsals (
      id TEXT PRIMARY KEY,
      runbook_id TEXT NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
      runbook_definition TEXT NOT NULL,
      scenario TEXT,
      started_at TEXT NOT NULL,
      finished_at TEXT NOT NULL,
      total_ms INTEGER NOT NULL,
      passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
      steps TEXT NOT NULL,
      rollbacks TEXT NOT NULL,
      created_by TEXT NOT NULL
    );
    CREATE INDEX rehearsals_by_runbook ON rehearsals (runbook_id, started_at DESC);
  `,
};
