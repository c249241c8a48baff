import type { Migration } from '../../migration.js';

/**
 * The bearer tokens of a workflow server and their roles, as SQLite's 0020: only a token's sha256 is
 * stored; revoked tokens stay, for the record; a name is unique among live tokens.
 */
export const migration0020: Migration = {
  version: 20,
  name: 'tokens',
  up: `
    CREATE TABLE tokens (
      id TEXT COLLATE "C" PRIMARY KEY,
      name TEXT COLLATE "C" NOT NULL,
      role TEXT COLLATE "C" NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
      created_by TEXT COLLATE "C" NOT NULL,
      created_at TEXT COLLATE "C" NOT NULL,
      revoked_at TEXT COLLATE "C"
    );
    CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
  `,
};
