import type { Migration } from '../../migration.js';

/**
 * Retention and smaller checkpoints: as SQLite's 0150. Adding a column with a constant default
 * rewrites no row on PostgreSQL 11+. Pruning leaves dead checkpoint rows for autovacuum to reclaim:
 * the checkpoints table is vacuumed at 5 % dead rows instead of 20 %, so a pass's space is reused by
 * the next days' checkpoints rather than the table growing.
 */
export const migration0150: Migration = {
  version: 150,
  name: 'retention-delta-checkpoints',
  up: `
    ALTER TABLE checkpoints ADD COLUMN format TEXT COLLATE "C" NOT NULL DEFAULT 'full' CHECK (format IN ('full', 'delta'));
    ALTER TABLE checkpoints SET (autovacuum_vacuum_scale_factor = 0.05);

    ALTER TABLE runs ADD COLUMN pruned_at TEXT COLLATE "C";
    ALTER TABLE runs ADD COLUMN pruned_after TEXT COLLATE "C";
    CREATE INDEX runs_unpruned_by_finish ON runs (finished_at, run_id) WHERE pruned_at IS NULL AND finished_at IS NOT NULL;
    CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
    CREATE INDEX schedule_ticks_by_claim ON schedule_ticks (claimed_at) WHERE pending = 0;
    CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (created_at) WHERE state <> 'pending';

    CREATE TABLE retention_lease (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      holder TEXT COLLATE "C",
      replica TEXT COLLATE "C",
      lease_until TEXT COLLATE "C",
      pass_before TEXT COLLATE "C",
      pass_after TEXT COLLATE "C",
      pass_runs BIGINT NOT NULL DEFAULT 0,
      pass_checkpoints BIGINT NOT NULL DEFAULT 0,
      pass_idempotency_keys BIGINT NOT NULL DEFAULT 0,
      pass_schedule_ticks BIGINT NOT NULL DEFAULT 0,
      pass_webhook_deliveries BIGINT NOT NULL DEFAULT 0
    );
    INSERT INTO retention_lease (id) VALUES (1);
  `,
};
