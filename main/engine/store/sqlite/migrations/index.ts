import { migration0010 } from './0010-initial.js';
import { migration0020 } from './0020-tokens.js';
import { migration0030 } from './0030-runbooks.js';
import { migration0040 } from './0040-rehearsal-conditions.js';
import { migration0050 } from './0050-waiting-runs.js';
import { migration0060 } from './0060-canaries.js';
import { migration0070 } from './0070-webhooks.js';
import { migration0080 } from './0080-schedules.js';
import { migration0090 } from './0090-unregister-code-templates.js';
import { migration0100 } from './0100-run-leases.js';
import { migration0110 } from './0110-backfill-limits-code-refusals.js';
import { migration0140 } from './0140-history-at-scale.js';
import { migration0150 } from './0150-retention-delta-checkpoints.js';
import { migration0160 } from './0160-audit-filters.js';
import { migration0180 } from './0180-denied-runs-server-id-pace.js';
import { migration0200 } from './0200-incident-records.js';
import { migration0210 } from './0210-review-requests.js';
import type Database from 'better-sqlite3';
import { RewindError } from '../../../errors.js';
import type { SqliteMigration } from './sqlite-migration.js';

export type { Migration } from '../../migration.js';
export type { SqliteMigration } from './sqlite-migration.js';

/** The ordered registry. Append only; never edit a migration that has shipped. */
export const migrations: readonly SqliteMigration[] = [migration0010, migration0020, migration0030, migration0040, migration0050, migration0060, migration0070, migration0080, migration0090, migration0100, migration0110, migration0140, migration0150, migration0160, migration0180, migration0200, migration0210];

export const latestSchemaVersion = migrations[migrations.length - 1]!.version;

/** A database from the future (written by a newer Rewind) is refused, before anything touches it. */
export function refuseFutureSchema(found: number, latest: number): void {
  if (found <= latest) return;
  throw new RewindError(
    'SCHEMA_TOO_NEW',
    `This database has schema version ${found}; this Rewind knows up to ${latest}.`,
    'Open it with a newer Rewind, or pick another file. The file was not changed.',
    { schema_version: found, supported: latest },
  );
}

/**
 * Brings a database up to the latest schema in one transaction. A database from the future
 * (written by a newer Rewind) is refused and left untouched.
 */
export function migrate(db: Database.Database, registry: readonly SqliteMigration[] = migrations): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = registry[registry.length - 1]!.version;
  refuseFutureSchema(from, latest);
  const pending = registry.filter((m) => m.version > from);
  if (pending.length === 0) return { from, to: from };
  db.transaction(() => {
    for (const m of pending) {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
    }
    db.pragma(`user_version = ${pending[pending.length - 1]!.version}`);
  }).immediate();
  return { from, to: pending[pending.length - 1]!.version };
}
