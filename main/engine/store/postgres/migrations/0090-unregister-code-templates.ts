import type { Migration } from '../../migration.js';

/** Unregister, workflows as code, templates: as SQLite's 0090. */
export const migration0090: Migration = {
  version: 90,
  name: 'unregister-code-templates',
  up: `
    ALTER TABLE workflows ADD COLUMN unregistered_at TEXT COLLATE "C";
    ALTER TABLE workflows ADD COLUMN code_file TEXT COLLATE "C";
    ALTER TABLE workflows ADD COLUMN template_name TEXT COLLATE "C";
    ALTER TABLE workflows ADD COLUMN template_version BIGINT;
    DROP INDEX workflows_name_source;
    CREATE UNIQUE INDEX workflows_name_source ON workflows (name, source_type) WHERE unregistered_at IS NULL;
  `,
};
