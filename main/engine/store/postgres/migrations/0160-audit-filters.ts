import type { Migration } from '../../migration.js';

/** The audit log's filter indexes: as SQLite's 0160 (each ends with the seq, for backward keyset reads). */
export const migration0160: Migration = {
  version: 160,
  name: 'audit-filters',
  up: `
    CREATE INDEX events_audit_by_type ON events (type, seq);
    CREATE INDEX events_audit_by_actor ON events (actor, seq);
    CREATE INDEX events_audit_by_ts ON events (ts, seq);
  `,
};
