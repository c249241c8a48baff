import type { Migration } from '../../migration.js';

/*
 * History at scale, as SQLite's 0140: the chain's verified head, the run counters, version figures
 * and open failures kept by a trigger on `runs` (in the transaction that writes the run), and the indexes of
 * the keyset-paged runs list, a run's events and the events of a type by time.
 */

/** A failed or interrupted run (not a replay) that no resume has followed. */
const OPEN_FAILURE = (r: string) =>
  `${r}.status IN ('failed', 'interrupted') AND ${r}.kind <> 'replay' AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_run_id = ${r}.run_id AND c.kind = 'resume')`;
const JUDGED = (r: string) => `${r}.status IN ('succeeded', 'failed', 'interrupted') AND ${r}.kind <> 'replay'`;
const DURATION = (r: string) =>
  `greatest(0, round(extract(epoch FROM (${r}.finished_at::timestamptz - ${r}.started_at::timestamptz)) * 1000))::bigint`;
const BUCKET = (d: string) => `CASE WHEN ${d} < 100 THEN ${d} ELSE 100 + floor(ln(${d}::float8 / 100) / ln(1.01::float8))::bigint END`;

export const migration0140: Migration = {
  version: 140,
  name: 'history-at-scale',
  up: `
    CREATE TABLE chain_verified (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq BIGINT NOT NULL,
      hash TEXT COLLATE "C" NOT NULL,
      verified_by TEXT COLLATE "C",
      verified_at TEXT COLLATE "C",
      full_seq BIGINT,
      full_at TEXT COLLATE "C",
      full_by TEXT COLLATE "C",
      broken_seq BIGINT,
      broken_reason TEXT COLLATE "C",
      broken_at TEXT COLLATE "C",
      broken_by TEXT COLLATE "C"
    );
    INSERT INTO chain_verified (id, seq, hash) VALUES (1, 0, repeat('0', 64));

    CREATE TABLE run_counts (
      workflow_id TEXT COLLATE "C" NOT NULL,
      status TEXT COLLATE "C" NOT NULL,
      n BIGINT NOT NULL,
      PRIMARY KEY (workflow_id, status)
    );
    CREATE TABLE run_version_stats (
      workflow_id TEXT COLLATE "C" NOT NULL,
      version BIGINT NOT NULL,
      runs BIGINT NOT NULL,
      succeeded BIGINT NOT NULL,
      failed BIGINT NOT NULL,
      PRIMARY KEY (workflow_id, version)
    );
    CREATE TABLE run_durations (
      workflow_id TEXT COLLATE "C" NOT NULL,
      version BIGINT NOT NULL,
      bucket BIGINT NOT NULL,
      runs BIGINT NOT NULL,
      max_ms BIGINT NOT NULL,
      PRIMARY KEY (workflow_id, version, bucket)
    );
    CREATE TABLE run_verdicts (
      workflow_id TEXT COLLATE "C" NOT NULL,
      version BIGINT NOT NULL,
      key TEXT COLLATE "C" NOT NULL,
      value TEXT COLLATE "C" NOT NULL,
      runs BIGINT NOT NULL,
      PRIMARY KEY (workflow_id, version, key, value)
    );

    CREATE TABLE open_failures (
      workflow_id TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      run_id TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (workflow_id, created_at, run_id)
    );
    CREATE UNIQUE INDEX open_failures_by_run ON open_failures (run_id);
    CREATE INDEX open_failures_by_time ON open_failures (created_at, run_id);

    INSERT INTO open_failures (workflow_id, created_at, run_id)
      SELECT r.workflow_id, r.created_at, r.run_id FROM runs r WHERE ${OPEN_FAILURE('r')};
    INSERT INTO run_counts (workflow_id, status, n) SELECT workflow_id, status, COUNT(*) FROM runs GROUP BY workflow_id, status;
    INSERT INTO run_version_stats (workflow_id, version, runs, succeeded, failed)
      SELECT workflow_id, version, COUNT(*), COUNT(*) FILTER (WHERE status = 'succeeded'), COUNT(*) FILTER (WHERE status <> 'succeeded')
      FROM runs r WHERE ${JUDGED('r')} GROUP BY workflow_id, version;
    INSERT INTO run_durations (workflow_id, version, bucket, runs, max_ms)
      SELECT workflow_id, version, ${BUCKET('d')} AS bucket, COUNT(*), MAX(d)
      FROM (SELECT workflow_id, version, ${DURATION('r')} AS d FROM runs r WHERE ${JUDGED('r')} AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL) judged
      GROUP BY workflow_id, version, bucket;
    INSERT INTO run_verdicts (workflow_id, version, key, value, runs)
      SELECT r.workflow_id, r.version, j.key, j.value #>> '{}', COUNT(*) FROM runs r, jsonb_each(r.verdicts::jsonb) j
      WHERE ${JUDGED('r')} AND r.verdicts IS NOT NULL AND jsonb_typeof(j.value) = 'string' GROUP BY r.workflow_id, r.version, j.key, j.value #>> '{}';

    -- The counters of one run row's change; a run is judged once, when it ends (its status never leaves the ended ones).
    CREATE FUNCTION runs_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        d BIGINT;
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          UPDATE run_counts SET n = n - 1 WHERE workflow_id = OLD.workflow_id AND status = OLD.status;
        END IF;
        IF TG_OP = 'DELETE' THEN
          DELETE FROM open_failures WHERE run_id = OLD.run_id;
          RETURN NULL;
        END IF;
        -- A resume follows the failure: it is no longer open (however the resume ends).
        IF TG_OP = 'INSERT' AND NEW.kind = 'resume' AND NEW.parent_run_id IS NOT NULL THEN
          DELETE FROM open_failures WHERE run_id = NEW.parent_run_id;
        END IF;
        IF ${OPEN_FAILURE('NEW')} AND (TG_OP = 'INSERT' OR OLD.status NOT IN ('failed', 'interrupted')) THEN
          INSERT INTO open_failures (workflow_id, created_at, run_id) VALUES (NEW.workflow_id, NEW.created_at, NEW.run_id) ON CONFLICT DO NOTHING;
        END IF;
        INSERT INTO run_counts AS c (workflow_id, status, n) VALUES (NEW.workflow_id, NEW.status, 1)
          ON CONFLICT (workflow_id, status) DO UPDATE SET n = c.n + 1;
        IF ${JUDGED('NEW')} AND (TG_OP = 'INSERT' OR OLD.status NOT IN ('succeeded', 'failed', 'interrupted', 'cancelled')) THEN
          INSERT INTO run_version_stats AS s (workflow_id, version, runs, succeeded, failed)
            VALUES (NEW.workflow_id, NEW.version, 1, (NEW.status = 'succeeded')::int, (NEW.status <> 'succeeded')::int)
            ON CONFLICT (workflow_id, version) DO UPDATE SET runs = s.runs + 1, succeeded = s.succeeded + excluded.succeeded, failed = s.failed + excluded.failed;
          IF NEW.started_at IS NOT NULL AND NEW.finished_at IS NOT NULL THEN
            d := ${DURATION('NEW')};
            INSERT INTO run_durations AS b (workflow_id, version, bucket, runs, max_ms) VALUES (NEW.workflow_id, NEW.version, ${BUCKET('d')}, 1, d)
              ON CONFLICT (workflow_id, version, bucket) DO UPDATE SET runs = b.runs + 1, max_ms = greatest(b.max_ms, excluded.max_ms);
          END IF;
          IF NEW.verdicts IS NOT NULL THEN
            INSERT INTO run_verdicts AS v (workflow_id, version, key, value, runs)
              SELECT NEW.workflow_id, NEW.version, j.key, j.value #>> '{}', 1 FROM jsonb_each(NEW.verdicts::jsonb) j WHERE jsonb_typeof(j.value) = 'string'
              ON CONFLICT (workflow_id, version, key, value) DO UPDATE SET runs = v.runs + 1;
          END IF;
        END IF;
        RETURN NULL;
      END;
    $$;
    CREATE TRIGGER runs_counted_insert AFTER INSERT ON runs FOR EACH ROW EXECUTE FUNCTION runs_counted();
    CREATE TRIGGER runs_counted_status AFTER UPDATE OF status ON runs FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION runs_counted();
    CREATE TRIGGER runs_counted_delete AFTER DELETE ON runs FOR EACH ROW EXECUTE FUNCTION runs_counted();

    DROP INDEX runs_by_workflow;
    DROP INDEX runs_by_status;
    CREATE INDEX runs_by_time ON runs (created_at, run_id);
    CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at, run_id);
    CREATE INDEX runs_by_status ON runs (status, created_at, run_id);
    CREATE INDEX runs_by_workflow_status ON runs (workflow_id, status, created_at, run_id);
    CREATE INDEX events_by_run ON events (run_id, seq);
    CREATE INDEX events_by_type_ts ON events (type, ts);
  `,
};
