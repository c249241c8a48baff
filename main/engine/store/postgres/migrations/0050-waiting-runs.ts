import type { Migration } from '../../migration.js';

/**
 * Runs may wait for an approval: status `waiting`, as SQLite's 0050. PostgreSQL alters the CHECK in
 * place (no rebuild): 0010 left it unnamed, so it carries the default name `runs_status_check`.
 */
export const migration0050: Migration = {
  version: 50,
  name: 'waiting-runs',
  up: `
    ALTER TABLE runs DROP CONSTRAINT runs_status_check;
    ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted'));
  `,
};
