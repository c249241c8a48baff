import type { Migration } from '../../migration.js';

/**
 * Retention and smaller checkpoints.
 *
 * `checkpoints.format` says how a row stores its state (main/engine/checkpoint-state.ts): every row
 * written before this migration holds a full copy and keeps it ('full', the default — no row is
 * rewritten); new rows hold only what their node changed ('delta').
 *
 * `runs.pruned_at` / `pruned_after`: when a finished run's checkpoints were removed by retention, and
 * after how long a window ("90 days"), so every reader says so instead of showing an empty run. The
 * partial indexes serve the pruning pass and the archive export (finished runs not pruned yet, by end
 * time) and the deletion of old idempotency keys, schedule ticks and webhook deliveries.
 *
 * `retention_lease` is the one row a pruning pass holds (one replica at a time) and where a pass
 * counts what its committed batches removed, so a pass cut short by a crash is still recorded
 * (`runs_pruned`) by the next one.
 */
export const migration0150: Migration = {
  version: 150,
  name: 'retention-delta-checkpoints',
  up: `
    ALTER TABLE checkpoints ADD COLUMN format TEXT NOT NULL DEFAULT 'full' CHECK (format IN ('full', 'delta'));

    ALTER TABLE runs ADD COLUMN pruned_at TEXT;
    ALTER TABLE runs ADD COLUMN pruned_after TEXT;
    CREATE INDEX runs_unpruned_by_finish ON runs (finished_at, run_id) WHERE pruned_at IS NULL AND finished_at IS NOT NULL;
    CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
    CREATE INDEX schedule_ticks_by_claim ON schedule_ticks (claimed_at) WHERE pending = 0;
    CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (created_at) WHERE state <> 'pending';

    CREATE TABLE retention_lease (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      -- The runner (runners.runner_id) pruning now, its replica, and until when its lease holds.
      holder TEXT,
      replica TEXT,
      lease_until TEXT,
      -- The pass in progress: its cutoff, and what its committed batches removed so far.
      pass_before TEXT,
      pass_after TEXT,
      pass_runs INTEGER NOT NULL DEFAULT 0,
      pass_checkpoints INTEGER NOT NULL DEFAULT 0,
      pass_idempotency_keys INTEGER NOT NULL DEFAULT 0,
      pass_schedule_ticks INTEGER NOT NULL DEFAULT 0,
      pass_webhook_deliveries INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO retention_lease (id) VALUES (1);
  `,
};
