import type { Migration } from '../../migration.js';

/**
 * As SQLite's 0180: runs may end `denied` (an approval answered with deny: an outcome, not a
 * failure); the database's stable server id (`server_identity`, one row), which every replica reads, so each answers the same
 * one in /health; and the pace of a rehearsal (paced or automatic). The wider check is added NOT
 * VALID and then validated: every existing row satisfies it, and validating does not block writes.
 */
export const migration0180: Migration = {
  version: 180,
  name: 'denied-runs-server-id-pace',
  up: `
    ALTER TABLE runs DROP CONSTRAINT runs_status_check;
    ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted', 'denied')) NOT VALID;
    ALTER TABLE runs VALIDATE CONSTRAINT runs_status_check;
    CREATE TABLE server_identity (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL);
    INSERT INTO server_identity (id, created_at) VALUES (replace(gen_random_uuid()::text, '-', ''), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
    ALTER TABLE rehearsals ADD COLUMN pace TEXT CHECK (pace IS NULL OR pace IN ('paced', 'automatic'));
  `,
};
