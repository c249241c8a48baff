import { RewindError } from '../../errors.js';

/** A locked database is a retryable condition, not a bug: say so with BUSY. */
export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new RewindError('BUSY', 'The database is busy with another writer.', 'Retry in a moment; another process holds the write lock.');
  }
  return err;
}
