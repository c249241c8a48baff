import type { Migration } from '../../migration.js';

/*
 * History at scale: nothing at start or on a console's open reads the whole history.
 *
 * `chain_verified` is the hash chain's verified head (seq and hash, who verified it and when), kept
 * by the process that verified it: a start verifies only the events after it. It also records the
 * last whole-chain pass and a break found by one (`broken_*`), so a break found in the background
 * is still known at the next start, whose own check reads only the tail.
 *
 * `run_counts` (runs per workflow and status) and `run_version_stats`, `run_durations`,
 * `run_verdicts` (the judged finished runs of each version: counts, a duration histogram, verdict
 * counts) are kept by triggers on `runs`, in the transaction that inserts a run or changes its
 * status — whichever code writes it (the run service, a snapshot, a bulk import). Health per
 * version, the incident summary and the runs list's totals read them instead of every run.
 * A duration is exact below 100 ms; above, buckets grow by 1 % (`max_ms` is the largest duration
 * seen in the bucket, so a percentile read from it is a real duration, at most 1 % above the exact one).
 *
 * `open_failures` holds the failed and interrupted runs (not replays) that no resume has followed,
 * kept by triggers too: the workflows' 24-hour failure badge, the incident summary and the rollback
 * preview's resumable runs read it through its own small index instead of every recent run.
 *
 * Indexes for the keyset-paged runs list (by time, by workflow, by status, by both), a run's events
 * and the events of a type by time. The runs indexes replace the older (workflow, created_at) and
 * (status) ones: run_id ends each, so a page boundary of one millisecond is exact.
 */

/** Judged runs: ended, and not replays (experiments, not traffic); cancelled runs say nothing about a version. */
const JUDGED = (r: string) => `${r}.status IN ('succeeded', 'failed', 'interrupted') AND ${r}.kind <> 'replay'`;
const DURATION = (r: string) => `max(0, CAST(round((unixepoch(${r}.finished_at, 'subsec') - unixepoch(${r}.started_at, 'subsec')) * 1000) AS INTEGER))`;
const BUCKET = (d: string) => `CASE WHEN ${d} < 100 THEN ${d} ELSE 100 + CAST(floor(ln(${d} / 100.0) / ln(1.01)) AS INTEGER) END`;

/** The statements that add one judged run `r` to the version figures (trigger bodies use NEW). */
const addJudged = (r: string) => `
    INSERT INTO run_version_stats (workflow_id, version, runs, succeeded, failed)
      VALUES (${r}.workflow_id, ${r}.version, 1, ${r}.status = 'succeeded', ${r}.status <> 'succeeded')
      ON CONFLICT (workflow_id, version) DO UPDATE SET runs = runs + 1, succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed;
    INSERT INTO run_durations (workflow_id, version, bucket, runs, max_ms)
      SELECT ${r}.workflow_id, ${r}.version, ${BUCKET('d')}, 1, d FROM (SELECT ${DURATION(r)} AS d) WHERE ${r}.started_at IS NOT NULL AND ${r}.finished_at IS NOT NULL
      ON CONFLICT (workflow_id, version, bucket) DO UPDATE SET runs = runs + 1, max_ms = max(max_ms, excluded.max_ms);
    INSERT INTO run_verdicts (workflow_id, version, key, value, runs)
      SELECT ${r}.workflow_id, ${r}.version, j.key, j.value, 1 FROM json_each(${r}.verdicts) j WHERE ${r}.verdicts IS NOT NULL AND j.type = 'text'
      ON CONFLICT (workflow_id, version, key, value) DO UPDATE SET runs = runs + 1;`;

/** A failed or interrupted run (not a replay) that no resume has followed. */
const OPEN_FAILURE = (r: string) =>
  `${r}.status IN ('failed', 'interrupted') AND ${r}.kind <> 'replay' AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_run_id = ${r}.run_id AND c.kind = 'resume')`;
const openFailure = `
    INSERT INTO open_failures (workflow_id, created_at, run_id) VALUES (NEW.workflow_id, NEW.created_at, NEW.run_id) ON CONFLICT DO NOTHING;`;

const countNew = `
    INSERT INTO run_counts (workflow_id, status, n) VALUES (NEW.workflow_id, NEW.status, 1)
      ON CONFLICT (workflow_id, status) DO UPDATE SET n = n + 1;`;
const uncountOld = `
    UPDATE run_counts SET n = n - 1 WHERE workflow_id = OLD.workflow_id AND status = OLD.status;`;

export const migration0140: Migration = {
  version: 140,
  name: 'history-at-scale',
  up: `
    CREATE TABLE chain_verified (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq INTEGER NOT NULL,
      hash TEXT NOT NULL,
      verified_by TEXT,
      verified_at TEXT,
      full_seq INTEGER,
      full_at TEXT,
      full_by TEXT,
      broken_seq INTEGER,
      broken_reason TEXT,
      broken_at TEXT,
      broken_by TEXT
    );
    INSERT INTO chain_verified (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');

    CREATE TABLE run_counts (
      workflow_id TEXT NOT NULL,
      status TEXT NOT NULL,
      n INTEGER NOT NULL,
      PRIMARY KEY (workflow_id, status)
    ) WITHOUT ROWID;
    CREATE TABLE run_version_stats (
      workflow_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      runs INTEGER NOT NULL,
      succeeded INTEGER NOT NULL,
      failed INTEGER NOT NULL,
      PRIMARY KEY (workflow_id, version)
    ) WITHOUT ROWID;
    CREATE TABLE run_durations (
      workflow_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      bucket INTEGER NOT NULL,
      runs INTEGER NOT NULL,
      max_ms INTEGER NOT NULL,
      PRIMARY KEY (workflow_id, version, bucket)
    ) WITHOUT ROWID;
    CREATE TABLE run_verdicts (
      workflow_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      runs INTEGER NOT NULL,
      PRIMARY KEY (workflow_id, version, key, value)
    ) WITHOUT ROWID;

    CREATE TABLE open_failures (
      workflow_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      run_id TEXT NOT NULL,
      PRIMARY KEY (workflow_id, created_at, run_id)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX open_failures_by_run ON open_failures (run_id);
    CREATE INDEX open_failures_by_time ON open_failures (created_at, run_id);

    INSERT INTO open_failures (workflow_id, created_at, run_id)
      SELECT r.workflow_id, r.created_at, r.run_id FROM runs r WHERE ${OPEN_FAILURE('r')};
    INSERT INTO run_counts (workflow_id, status, n) SELECT workflow_id, status, COUNT(*) FROM runs GROUP BY workflow_id, status;
    INSERT INTO run_version_stats (workflow_id, version, runs, succeeded, failed)
      SELECT workflow_id, version, COUNT(*), SUM(status = 'succeeded'), SUM(status <> 'succeeded') FROM runs r WHERE ${JUDGED('r')} GROUP BY workflow_id, version;
    INSERT INTO run_durations (workflow_id, version, bucket, runs, max_ms)
      SELECT workflow_id, version, ${BUCKET('d')} AS bucket, COUNT(*), MAX(d)
      FROM (SELECT workflow_id, version, ${DURATION('r')} AS d FROM runs r WHERE ${JUDGED('r')} AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL)
      GROUP BY workflow_id, version, bucket;
    INSERT INTO run_verdicts (workflow_id, version, key, value, runs)
      SELECT r.workflow_id, r.version, j.key, j.value, COUNT(*) FROM runs r, json_each(r.verdicts) j
      WHERE ${JUDGED('r')} AND r.verdicts IS NOT NULL AND j.type = 'text' GROUP BY r.workflow_id, r.version, j.key, j.value;

    CREATE TRIGGER runs_counted_insert AFTER INSERT ON runs BEGIN ${countNew}
    END;
    CREATE TRIGGER runs_judged_insert AFTER INSERT ON runs WHEN ${JUDGED('NEW')} BEGIN ${addJudged('NEW')}
    END;
    CREATE TRIGGER runs_counted_status AFTER UPDATE OF status ON runs WHEN OLD.status <> NEW.status BEGIN ${uncountOld} ${countNew}
    END;
    -- A run is judged once: when it ends (its status never leaves the ended ones).
    CREATE TRIGGER runs_judged_end AFTER UPDATE OF status ON runs
      WHEN ${JUDGED('NEW')} AND OLD.status NOT IN ('succeeded', 'failed', 'interrupted', 'cancelled') BEGIN ${addJudged('NEW')}
    END;
    CREATE TRIGGER runs_counted_delete AFTER DELETE ON runs BEGIN ${uncountOld}
      DELETE FROM open_failures WHERE run_id = OLD.run_id;
    END;
    CREATE TRIGGER runs_failure_open_insert AFTER INSERT ON runs WHEN ${OPEN_FAILURE('NEW')} BEGIN ${openFailure}
    END;
    CREATE TRIGGER runs_failure_open_end AFTER UPDATE OF status ON runs
      WHEN ${OPEN_FAILURE('NEW')} AND OLD.status NOT IN ('failed', 'interrupted') BEGIN ${openFailure}
    END;
    -- A resume follows the failure: it is no longer open (however the resume ends).
    CREATE TRIGGER runs_failure_resumed AFTER INSERT ON runs WHEN NEW.kind = 'resume' AND NEW.parent_run_id IS NOT NULL BEGIN
      DELETE FROM open_failures WHERE run_id = NEW.parent_run_id;
    END;

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
