import type { Migration } from '../../migration.js';

/**
 * Review requests (--require-review): a reviewed publish, promote or rollback waits here, with the
 * action's input as asked, until another person approves or declines it or it expires. The answer is
 * written once: every answer runs under the chain-head lock and checks `status = 'pending'` first.
 */
export const migration0210: Migration = {
  version: 210,
  name: 'review-requests',
  up: `
    CREATE TABLE review_requests (
      review_id TEXT PRIMARY KEY,
      action TEXT NOT NULL CHECK (action IN ('publish', 'promote', 'rollback')),
      workflow_id TEXT NOT NULL REFERENCES workflows (id),
      version INTEGER NOT NULL,
      from_version INTEGER,
      canary_percent DOUBLE PRECISION,
      input TEXT NOT NULL,
      revision INTEGER NOT NULL,
      requested_by TEXT NOT NULL,
      requested_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'expired')),
      answered_by TEXT,
      answered_at TEXT,
      note TEXT,
      result_seq BIGINT
    );
    CREATE INDEX review_requests_by_status ON review_requests (status, requested_at);
  `,
};
