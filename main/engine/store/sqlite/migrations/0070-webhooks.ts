import type { Migration } from '../../migration.js';

/**
 * Webhooks and their outbox. `webhook_deliveries` is both: a row is written in the same transaction
 * as the event it announces (so a committed event always has its deliveries, and a rolled-back one
 * none), and it stays as the delivery log once delivered or dead-lettered. Ordered per webhook by the
 * event's seq. The secret is sealed (AES-256-GCM under the server's webhook key), never stored plain.
 */
export const migration0070: Migration = {
  version: 70,
  name: 'webhooks',
  up: `
    CREATE TABLE webhooks (
      id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      secret_sealed TEXT NOT NULL,
      -- Which key sealed the secret (a fingerprint, not the key): a server with another key says so.
      key_id TEXT NOT NULL,
      -- JSON arrays; NULL means every event type / every workflow.
      event_types TEXT,
      workflow_ids TEXT,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      deleted_at TEXT
    );
    CREATE TABLE webhook_deliveries (
      webhook_id TEXT NOT NULL REFERENCES webhooks (id),
      seq INTEGER NOT NULL,
      event_type TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'cancelled')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TEXT NOT NULL,
      -- The replica delivering it now, and until when: a replica that dies mid-delivery leaves a lease that expires.
      lease_owner TEXT,
      lease_until TEXT,
      last_status INTEGER,
      last_error TEXT,
      created_at TEXT NOT NULL,
      finished_at TEXT,
      PRIMARY KEY (webhook_id, seq)
    );
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) WHERE state = 'pending';
  `,
};
