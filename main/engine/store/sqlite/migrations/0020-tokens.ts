import type { Migration } from '../../migration.js';

/**
 * Server only: the bearer tokens of a workflow server and their roles. Only a token's sha256 is
 * stored, never the token. Revoked tokens stay, for the record; a name is unique among live tokens.
 */
export const migration0020: Migration = {
  version: 20,
  name: 'tokens',
  up: `
    CREATE TABLE tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      token_hash TEXT NOT NULL UNIQUE,
      created_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    );
    CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
  `,
};
