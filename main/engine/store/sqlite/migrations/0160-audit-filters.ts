import type { Migration } from '../../migration.js';

/**
 * The audit log reads pages backwards from the head, filtered on the server (`events:list` with
 * `before`, `type`, `actor`, `since`/`until`). Each filter gets an index whose second column is the
 * seq, so "the newest N of this type (or actor) before seq S" is one index range read backwards, at
 * any log size; a workflow's events already have `events_by_workflow (workflow_id, seq)`. The type
 * and actor indexes carry the other filters' columns after the seq, so a combined filter is checked
 * on the index and only the rows that match are read. The time index turns a time range into a seq
 * window (see `event-query.ts`).
 */
export const migration0160: Migration = {
  version: 160,
  name: 'audit-filters',
  up: `
    CREATE INDEX events_audit_by_type ON events (type, seq, workflow_id, actor, ts);
    CREATE INDEX events_audit_by_actor ON events (actor, seq, workflow_id, type, ts);
    CREATE INDEX events_audit_by_ts ON events (ts, seq);
  `,
};
