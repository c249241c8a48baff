import type { Migration } from '../../migration.js';

/** The audit log's filter indexes: as SQLite's 0160 (the filter, then the seq for backward keyset reads, then the columns the other filters check). */
export const migration0160: Migration = {
  version: 160,
  name: 'audit-filters',
  up: `
    CREATE INDEX events_audit_by_type ON events (type, seq, workflow_id, actor, ts);
    CREATE INDEX events_audit_by_actor ON events (actor, seq, workflow_id, type, ts);
    CREATE INDEX events_audit_by_ts ON events (ts, seq);
  `,
};
