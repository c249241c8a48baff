import type { SqliteMigration } from './sqlite-migration.js';

/**
 * Incidents as records (issue 22 items 4–6): one row per incident, derived from its incident_* events
 * (which carry every field, so a snapshot rebuilds the rows from the log). At most one open incident
 * per workflow: the partial unique index backs the rule the head lock already serializes. The report's
 * human fields and the attached rollback plan live in `report` (JSON) under their own revision.
 */
export const migration0200: SqliteMigration = {
  version: 200,
  name: 'incident-records',
  up: `
    CREATE TABLE incidents (
      incident_id TEXT PRIMARY KEY,
      workflow_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      rehearsal INTEGER NOT NULL DEFAULT 0,
      opened_seq INTEGER NOT NULL,
      opened_at TEXT NOT NULL,
      first_failure_at TEXT NOT NULL,
      first_run_id TEXT,
      acknowledged_by TEXT,
      acknowledged_at TEXT,
      acknowledged_seq INTEGER,
      mitigated_by TEXT,
      mitigated_action TEXT,
      mitigated_at TEXT,
      mitigated_seq INTEGER,
      candidate_by TEXT,
      candidate_at TEXT,
      candidate_seq INTEGER,
      resolved_by TEXT,
      resolved_at TEXT,
      resolved_seq INTEGER,
      resolved_note TEXT,
      report TEXT,
      report_revision INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX incidents_one_open ON incidents (workflow_id) WHERE resolved_at IS NULL;
    CREATE INDEX incidents_by_opened ON incidents (opened_seq DESC);
  `,
};
