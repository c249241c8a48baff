import type { Migration } from '../../migration.js';

/** The data model of DESIGN.md: workflows, versions, runs, checkpoints and the hash-chained event log. */
export const migration0010: Migration = {
  version: 10,
  name: 'initial',
  up: `
    CREATE TABLE workflows (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      source_type TEXT NOT NULL CHECK (source_type IN ('MANUAL', 'CODE')),
      status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'overridden')),
      schedule TEXT,
      active_version INTEGER,
      revision INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX workflows_name_source ON workflows (name, source_type);

    CREATE TABLE workflow_versions (
      version_id TEXT PRIMARY KEY,
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      version INTEGER NOT NULL,
      dsl_definition TEXT NOT NULL,
      change_log TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'deprecated', 'archived')),
      created_by TEXT NOT NULL,
      published_at TEXT,
      created_at TEXT NOT NULL,
      UNIQUE (workflow_id, version)
    );
    -- Invariant 1 held by the database as well as the code: at most one active version per workflow.
    CREATE UNIQUE INDEX workflow_versions_one_active ON workflow_versions (workflow_id) WHERE status = 'active';

    CREATE TABLE runs (
      run_id TEXT PRIMARY KEY,
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      version INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
      kind TEXT NOT NULL CHECK (kind IN ('start', 'resume', 'replay')),
      params TEXT NOT NULL,
      seed INTEGER NOT NULL,
      faults TEXT NOT NULL,
      parent_run_id TEXT REFERENCES runs (run_id),
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
    CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at DESC);
    CREATE INDEX runs_by_status ON runs (status);
    CREATE INDEX runs_by_parent ON runs (parent_run_id);

    CREATE TABLE checkpoints (
      run_id TEXT NOT NULL REFERENCES runs (run_id),
      seq INTEGER NOT NULL,
      node_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'restored')),
      state TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE events (
      seq INTEGER PRIMARY KEY,
      ts TEXT NOT NULL,
      type TEXT NOT NULL,
      workflow_id TEXT,
      run_id TEXT,
      actor TEXT NOT NULL,
      payload TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    CREATE INDEX events_by_workflow ON events (workflow_id, seq);
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

    -- A retried mutation with the same key answers the stored response and applies nothing twice.
    CREATE TABLE idempotency_keys (
      key TEXT PRIMARY KEY,
      method TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      response TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    -- Engine processes that have this file open and may be executing runs (the console, a CLI beside it).
    CREATE TABLE runners (
      runner_id TEXT PRIMARY KEY,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      started_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL
    );

    CREATE TABLE meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `,
};
