import type { Migration } from '../../migration.js';

/**
 * Run takeover, as SQLite's 0100: each runner's lease (`lease_until`, an ISO timestamp it renews) and
 * the replica it belongs to. Null on rows of runners that started before this migration.
 */
export const migration0100: Migration = {
  version: 100,
  name: 'run-leases',
  up: `
    ALTER TABLE runners ADD COLUMN lease_until TEXT COLLATE "C";
    ALTER TABLE runners ADD COLUMN replica TEXT COLLATE "C";
  `,
};
