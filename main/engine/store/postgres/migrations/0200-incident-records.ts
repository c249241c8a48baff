import type { Migration } from '../../migration.js';

/** As SQLite's 0200: incident records, at most one open per workflow. */
export const migration0200: Migration = {
  version: 200,
  name: 'incident-records',
  up: `
    CREATE TABLE incidents (
      incident_id TEXT COLLATE "C" PRIMARY KEY,
      workflow_id TEXT COLLATE "C" NOT NULL,
      version BIGINT NOT NULL,
      rehearsal BIGINT NOT NULL DEFAULT 0,
      opened_seq BIGINT NOT NULL,
      opened_at TEXT NOT NULL,
      first_failure_at TEXT NOT NULL,
      first_run_id TEXT,
      acknowledged_by TEXT,
      acknowledged_at TEXT,
      acknowledged_seq BIGINT,
      mitigated_by TEXT,
      mitigated_action TEXT,
      mitigated_at TEXT,
      mitigated_seq BIGINT,
      candidate_by TEXT,
      candidate_at TEXT,
      candidate_seq BIGINT,
      resolved_by TEXT,
      resolved_at TEXT,
      resolved_seq BIGINT,
      resolved_note TEXT,
      report TEXT,
      report_revision BIGINT NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX incidents_one_open ON incidents (workflow_id) WHERE resolved_at IS NULL;
    CREATE INDEX incidents_by_opened ON incidents (opened_seq DESC);
  `,
};
