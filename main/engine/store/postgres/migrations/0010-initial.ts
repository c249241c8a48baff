import type { Migration } from '../../migration.js';

/**
 * The data model of DESIGN.md, as SQLite's 0010 has it, in PostgreSQL: the same tables, columns and
 * constraints. Integers are BIGINT (SQLite's INTEGER is 64-bit; the adapter reads them as numbers);
 * timestamps stay TEXT in `toISOString()` form so hashes and comparisons match SQLite byte for byte.
 * Every TEXT column is `COLLATE "C"`: bytewise order as SQLite's BINARY, whatever locale the database
 * was created with (and `lower()` then folds ASCII only, as SQLite's NOCASE).
 * Added here: `chain_head`, the one row every appending transaction locks (see the port's `lockHead`).
 */
export const migration0010: Migration = {
  version: 10,
  name: 'initial',
  up: `
    CREATE TABLE workflows (
      id TEXT COLLATE "C" PRIMARY KEY,
      name TEXT COLLATE "C" NOT NULL,
      description TEXT COLLATE "C" NOT NULL DEFAULT '',
      source_type TEXT COLLATE "C" NOT NULL CHECK (source_type IN ('MANUAL', 'CODE')),
      status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'paused', 'overridden')),
      schedule TEXT COLLATE "C",
      active_version BIGINT,
      revision BIGINT NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      updated_at TEXT COLLATE "C" NOT NULL
    );
    CREATE UNIQUE INDEX workflows_name_source ON workflows (name, source_type);

    CREATE TABLE workflow_versions (
      version_id TEXT COLLATE "C" PRIMARY KEY,
      workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id),
      version BIGINT NOT NULL,
      dsl_definition TEXT COLLATE "C" NOT NULL,
      change_log TEXT COLLATE "C" NOT NULL DEFAULT '',
      status TEXT COLLATE "C" NOT NULL CHECK (status IN ('draft', 'active', 'deprecated', 'archived')),
      created_by TEXT COLLATE "C" NOT NULL,
      published_at TEXT COLLATE "C",
      created_at TEXT COLLATE "C" NOT NULL,
      UNIQUE (workflow_id, version)
    );
    -- Invariant 1 held by the database as well as the code: at most one active version per workflow.
    CREATE UNIQUE INDEX workflow_versions_one_active ON workflow_versions (workflow_id) WHERE status = 'active';

    CREATE TABLE runs (
      run_id TEXT COLLATE "C" PRIMARY KEY,
      workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id),
      version BIGINT NOT NULL,
      status TEXT COLLATE "C" NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
      kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('start', 'resume', 'replay')),
      params TEXT COLLATE "C" NOT NULL,
      seed BIGINT NOT NULL,
      faults TEXT COLLATE "C" NOT NULL,
      parent_run_id TEXT COLLATE "C" REFERENCES runs (run_id),
      resumed_from_seq BIGINT,
      started_at TEXT COLLATE "C",
      finished_at TEXT COLLATE "C",
      error TEXT COLLATE "C",
      failed_node TEXT COLLATE "C",
      -- The engine process executing the run (runners.runner_id); a run whose runner is gone is interrupted.
      runner_id TEXT COLLATE "C",
      created_by TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
    );
    CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at DESC);
    CREATE INDEX runs_by_status ON runs (status);
    CREATE INDEX runs_by_parent ON runs (parent_run_id);

    CREATE TABLE checkpoints (
      run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
      seq BIGINT NOT NULL,
      node_id TEXT COLLATE "C" NOT NULL,
      status TEXT COLLATE "C" NOT NULL CHECK (status IN ('succeeded', 'failed', 'restored')),
      state TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (run_id, seq)
    );

    CREATE TABLE events (
      seq BIGINT PRIMARY KEY,
      ts TEXT COLLATE "C" NOT NULL,
      type TEXT COLLATE "C" NOT NULL,
      workflow_id TEXT COLLATE "C",
      run_id TEXT COLLATE "C",
      actor TEXT COLLATE "C" NOT NULL,
      payload TEXT COLLATE "C" NOT NULL,
      prev_hash TEXT COLLATE "C" NOT NULL,
      hash TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX events_by_workflow ON events (workflow_id, seq);
    CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only';
      END;
    $$;
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
      FOR EACH ROW EXECUTE FUNCTION events_append_only();
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_append_only();
    -- TRUNCATE skips row triggers; SQLite has no TRUNCATE, so refusing it keeps the two stores alike.
    CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

    -- The last link of the chain: seq 0 and the genesis hash until the first event.
    CREATE TABLE chain_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq BIGINT NOT NULL,
      hash TEXT COLLATE "C" NOT NULL
    );
    INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

    -- A retried mutation with the same key answers the stored response and applies nothing twice.
    CREATE TABLE idempotency_keys (
      key TEXT COLLATE "C" PRIMARY KEY,
      method TEXT COLLATE "C" NOT NULL,
      request_hash TEXT COLLATE "C" NOT NULL,
      response TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL
    );

    -- Engine processes that use this database and may be executing runs (the server's replicas).
    CREATE TABLE runners (
      runner_id TEXT COLLATE "C" PRIMARY KEY,
      pid BIGINT NOT NULL,
      host TEXT COLLATE "C" NOT NULL,
      started_at TEXT COLLATE "C" NOT NULL,
      heartbeat_at TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE meta (
      key TEXT COLLATE "C" PRIMARY KEY,
      value TEXT COLLATE "C" NOT NULL
    );
  `,
};
