import type { Migration } from '../../migration.js';

/**
 * Unregister, workflows as code, templates. A workflow unregistered leaves every list but stays for
 * the record (`unregistered_at`), so a name is unique among registered workflows only. A CODE
 * workflow remembers the file that defines it; a workflow made from a template, the template and
 * its version.
 */
export const migration0090: Migration = {
  version: 90,
  name: 'unregister-code-templates',
  up: `
    ALTER TABLE workflows ADD COLUMN unregistered_at TEXT;
    ALTER TABLE workflows ADD COLUMN code_file TEXT;
    ALTER TABLE workflows ADD COLUMN template_name TEXT;
    ALTER TABLE workflows ADD COLUMN template_version INTEGER;
    DROP INDEX workflows_name_source;
    CREATE UNIQUE INDEX workflows_name_source ON workflows (name, source_type) WHERE unregistered_at IS NULL;
  `,
};
