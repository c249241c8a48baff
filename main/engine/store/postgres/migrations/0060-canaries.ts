import type { Migration } from '../../migration.js';

/**
 * Canary publishes: a run records why it got its version (`drawn_reason`) and its judgment verdicts
 * at the end (`verdicts`, JSON), which health per version counts. `canaries` holds each canary and its
 * policy; the partial unique index lets a workflow run at most one canary at a time, whatever races.
 */
export const migration0060: Migration = {
  version: 60,
  name: 'canaries',
  up: `
    ALTER TABLE runs ADD COLUMN drawn_reason TEXT;
    ALTER TABLE runs ADD COLUMN verdicts TEXT;
    CREATE INDEX runs_by_version ON runs (workflow_id, version, finished_at);
    CREATE TABLE canaries (
      canary_id TEXT PRIMARY KEY,
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      version INTEGER NOT NULL,
      stable_version INTEGER NOT NULL,
      percent INTEGER NOT NULL,
      policy TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('running', 'healthy', 'promoted', 'aborted')),
      reason TEXT,
      started_at TEXT NOT NULL,
      started_by TEXT NOT NULL,
      ended_at TEXT,
      FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
    );
    CREATE INDEX canaries_by_workflow ON canaries (workflow_id, started_at);
    CREATE UNIQUE INDEX canaries_one_open ON canaries (workflow_id) WHERE state IN ('running', 'healthy');
  `,
};
