import { RewindError } from '../engine/errors.js';

/*
 * SQLite failures that are the storage's fault, not a bug and not the request's: they become typed
 * errors (503, with what to do) at the server's boundary, and `/health` reports the store degraded.
 */

function sqliteCode(err: unknown): string | null {
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  const { code } = err as { code: unknown };
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A write (or read) that failed because of the database file or its disk, or null for anything else. */
export function storeFailureOf(err: unknown): RewindError | null {
  const code = sqliteCode(err);
  if (code === null) return null;
  if (code.startsWith('SQLITE_READONLY')) {
    return new RewindError(
      'STORE_READ_ONLY',
      'The database refuses writes (read-only file, folder or mount): the change was not saved.',
      "Make the database file, its -wal/-shm files and its folder writable by the server's user (permissions, chattr, mount options); reads keep working, and /health reports degraded until a write succeeds.",
      { sqlite_code: code },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new RewindError('STORE_UNAVAILABLE', 'The disk holding the database is full: the change was not saved.', 'Free space on that disk, then retry; /health reports degraded until a write succeeds.', {
      sqlite_code: code,
    });
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_NOLFS') {
    return new RewindError(
      'STORE_UNAVAILABLE',
      `The database could not be written (${message(err)}): the change was not saved.`,
      'Check the disk and the database file (dmesg, free space, permissions), then retry; /health reports degraded until a write succeeds.',
      { sqlite_code: code },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new RewindError(
      'STORE_UNAVAILABLE',
      `The database file is damaged (${message(err)}).`,
      'Stop the server, restore the file from a backup, and check it with `rewind verify --db FILE`.',
      { sqlite_code: code },
    );
  }
  return null;
}

/**
 * Why a database file could not be opened at start, and what to do; null when the failure is not
 * about the file (then it is a bug, reported as such).
 */
export function storeOpenFailureOf(err: unknown, path: string): RewindError | null {
  const code = sqliteCode(err);
  const shown = JSON.stringify(path);
  const elsewhere = 'or pass another file with --db';
  if (code === 'SQLITE_NOTADB') {
    return new RewindError('STORE_UNUSABLE', `${shown} is not a Rewind database (SQLite says: ${message(err)}).`, `Check the path (is this the database?); restore the file from a backup, ${elsewhere}.`, { path, sqlite_code: code });
  }
  if (code?.startsWith('SQLITE_CORRUPT')) {
    return new RewindError(
      'STORE_UNUSABLE',
      `${shown} is corrupt (SQLite says: ${message(err)}).`,
      `Restore it from a backup and check the copy with \`rewind verify --db FILE\`, ${elsewhere}.`,
      { path, sqlite_code: code },
    );
  }
  if (code?.startsWith('SQLITE_CANTOPEN')) {
    return new RewindError('STORE_UNUSABLE', `${shown} cannot be opened as a database file (is it a folder, or in a folder that does not exist?).`, 'Point --db at a database file (not a folder) in a folder that exists.', {
      path,
      sqlite_code: code,
    });
  }
  if (code?.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code?.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') {
    return new RewindError(
      'STORE_UNUSABLE',
      `${shown} cannot be written (SQLite says: ${message(err)}).`,
      `Make the file, its -wal/-shm files and its folder writable by this user, free disk space, ${elsewhere}.`,
      { path, sqlite_code: code },
    );
  }
  if (err instanceof TypeError && /directory does not exist/.test(err.message)) {
    return new RewindError('STORE_UNUSABLE', `The folder of ${shown} does not exist.`, `Create the folder first, ${elsewhere}.`, { path });
  }
  return null;
}
