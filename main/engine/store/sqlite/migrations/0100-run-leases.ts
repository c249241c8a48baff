import type { Migration } from '../../migration.js';

/**
 * Run takeover: each runner holds a lease it renews (`lease_until`, an ISO timestamp) and names the
 * replica it belongs to (`replica`, for `run_taken_over`'s from_replica/to_replica). Null on rows of
 * runners that started before this migration: their heartbeat is judged by the old rule.
 */
export const migration0100: Migration = {
  version: 100,
  name: 'run-leases',
  up: `
    ALTER TABLE runners ADD COLUMN lease_until TEXT;
    ALTER TABLE runners ADD COLUMN replica TEXT;
  `,
};
