import type { Migration } from '../../migration.js';

/**
 * Runs may wait for an approval: status `waiting`. SQLite cannot alter a CHECK constraint, so the
 * runs table is rebuilt with its rows, indexes and references — and checkpoints with it: foreign keys
 * stay on (the check deferred to the commit), and dropping a parent table that still has children
 * would leave violations counted that no rename clears. Children first, then the parents.
 */
export const migration0050: Migration = {
  version: 50,
  name: 'waiting-runs',
  up: `
    PRAGMA defer_foreign_keys = ON;
    CREATE TABLE runs_0050 (
      run_id TEXT PRIMARY KEY,
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      version INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted')),
      kind TEXT NOT NULL CHECK (kind IN ('start', 'resume', 'replay')),
      params TEXT NOT NULL,
      seed INTEGER NOT NULL,
      faults TEXT NOT NULL,
      parent_run_id TEXT REFERENCES runs_0050 (run_id),
      resumed_from_seq INTEGER,
      started_at TEXT,
      finished_at TEXT,
      error TEXT,
      failed_node TEXT,
      -- The engine process executing the run (runners.runner_id); a run whose runner is gone is interrupted.
      runner_id TEXT,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
    );
    CREATE TABLE checkpoints_0050 (
      run_id TEXT NOT NULL REFERENCES runs_0050 (run_id),
      seq INTEGER NOT NULL,
      node_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'restored')),
      state TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    INSERT INTO runs_0050 (rowid, run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, resumed_from_seq,
      started_at, finished_at, error, failed_node, runner_id, created_by, created_at)
    SELECT rowid, run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, resumed_from_seq,
      started_at, finished_at, error, failed_node, runner_id, created_by, created_at FROM runs;
    INSERT INTO checkpoints_0050 SELECT run_id, seq, node_id, status, state, created_at FROM checkpoints;
    DROP TABLE checkpoints;
    DROP TABLE runs;
    ALTER TABLE runs_0050 RENAME TO runs;
    ALTER TABLE checkpoints_0050 RENAME TO checkpoints;
    CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at DESC);
    CREATE INDEX runs_by_status ON runs (status);
    CREATE INDEX runs_by_parent ON runs (parent_run_id);
  `,
};
