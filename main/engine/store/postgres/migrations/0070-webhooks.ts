import type { Migration } from '../../migration.js';

/** Webhooks and their outbox, as SQLite's 0070 (see there for why one table is both outbox and log). */
export const migration0070: Migration = {
  version: 70,
  name: 'webhooks',
  up: `
    CREATE TABLE webhooks (
      id TEXT COLLATE "C" PRIMARY KEY,
      url TEXT COLLATE "C" NOT NULL,
      secret_sealed TEXT COLLATE "C" NOT NULL,
      key_id TEXT COLLATE "C" NOT NULL,
      event_types TEXT COLLATE "C",
      workflow_ids TEXT COLLATE "C",
      created_by TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      deleted_at TEXT COLLATE "C"
    );
    CREATE TABLE webhook_deliveries (
      webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id),
      seq BIGINT NOT NULL,
      event_type TEXT COLLATE "C" NOT NULL,
      state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'cancelled')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TEXT COLLATE "C" NOT NULL,
      lease_owner TEXT COLLATE "C",
      lease_until TEXT COLLATE "C",
      last_status INTEGER,
      last_error TEXT COLLATE "C",
      created_at TEXT COLLATE "C" NOT NULL,
      finished_at TEXT COLLATE "C",
      PRIMARY KEY (webhook_id, seq)
    );
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) WHERE state = 'pending';
  `,
};
