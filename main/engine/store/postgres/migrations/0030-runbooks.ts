import type { Migration } from '../../migration.js';

/**
 * Runbooks and the timed record of every rehearsal, as SQLite's 0030: a runbook is validated JSON
 * (its name unique per database); a rehearsal keeps its steps as JSON and the runbook as it was then.
 * `passed` stays 0/1 (the port binds booleans as numbers on both stores).
 */
export const migration0030: Migration = {
  version: 30,
  name: 'runbooks',
  up: `
    CREATE TABLE runbooks (
      id TEXT COLLATE "C" PRIMARY KEY,
      name TEXT COLLATE "C" NOT NULL UNIQUE,
      level TEXT COLLATE "C" CHECK (level IS NULL OR level IN ('application', 'configuration', 'database', 'full-system')),
      definition TEXT COLLATE "C" NOT NULL,
      created_by TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      updated_at TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE rehearsals (
      id TEXT COLLATE "C" PRIMARY KEY,
      runbook_id TEXT COLLATE "C" NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
      runbook_definition TEXT COLLATE "C" NOT NULL,
      scenario TEXT COLLATE "C",
      started_at TEXT COLLATE "C" NOT NULL,
      finished_at TEXT COLLATE "C" NOT NULL,
      total_ms BIGINT NOT NULL,
      passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
      steps TEXT COLLATE "C" NOT NULL,
      rollbacks TEXT COLLATE "C" NOT NULL,
      created_by TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX rehearsals_by_runbook ON rehearsals (runbook_id, started_at DESC);
  `,
};
