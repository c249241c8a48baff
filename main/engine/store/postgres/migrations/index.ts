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
import type pg from 'pg';
import { RewindError } from '../../../errors.js';
import type { Migration } from '../../migration.js';

export type { Migration } from '../../migration.js';

/** The ordered registry. Append only; never edit a migration that has shipped. */
export const migrations: readonly Migration[] = [migration0010, migration0020, migration0030, migration0040, migration0050, migration0060, migration0070, migration0080, migration0090, migration0100, migration0110, migration0140, migration0150, migration0160, migration0180, migration0200, migration0210];

export const latestSchemaVersion = migrations[migrations.length - 1]!.version;

/** One key for every Rewind replica: whoever holds it migrates, the others wait and then find nothing to do. */
const LOCK = "hashtext('rewind:migrations')";

/**
 * Brings the database up to the latest schema, each migration in its own transaction together with
 * its row in `schema_migrations`. Replicas starting at once serialize on a transaction-level
 * advisory lock and re-read the version under it. A database from a newer Rewind is refused before
 * anything is written (the transaction that looked is rolled back).
 */
export async function migrate(client: pg.ClientBase, registry: readonly Migration[] = migrations): Promise<{ from: number; to: number }> {
  const latest = registry[registry.length - 1]!.version;
  let from: number | undefined;
  let current = 0;
  for (const m of registry) {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      current = await versionOf(client);
      from ??= current;
      if (current > latest) {
        throw new RewindError(
          'SCHEMA_TOO_NEW',
          `This database has schema version ${current}; this Rewind knows up to ${latest}.`,
          'Run a newer Rewind against it, or point --db at another database. The database was not changed.',
          { schema_version: current, supported: latest },
        );
      }
      if (m.version <= current) {
        await client.query('ROLLBACK');
        continue;
      }
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version INTEGER PRIMARY KEY,
           name TEXT NOT NULL,
           applied_at TEXT NOT NULL
         )`,
      );
      await client.query(m.up);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
      await client.query('COMMIT');
      current = m.version;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return { from: from ?? current, to: current };
}

/** The last applied migration, 0 for an empty database. */
async function versionOf(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (exists.rows[0]?.t == null) return 0;
  const row = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return row.rows[0]?.v ?? 0;
}
