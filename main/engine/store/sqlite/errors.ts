import { constants, accessSync, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { RewindError } from '../../errors.js';

/*
 * SQLite failures that are the storage's fault, not a bug and not the request's: a locked database
 * is BUSY (retry), a file or disk that refuses writes is STORE_READ_ONLY / STORE_UNAVAILABLE (503,
 * with what to do; the server reports /health degraded). At start, the same failures mean the file is
 * unusable: `sqliteOpenFailure` says what is wrong with it (STORE_UNUSABLE, exit 2 in the CLIs).
 */

function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A typed error that keeps the SQLite failure it stands for (for the start-up explanation). */
function storeError(code: 'STORE_READ_ONLY' | 'STORE_UNAVAILABLE', message: string, hint: string, cause: unknown, sqliteCodeValue: string): RewindError {
  const err = new RewindError(code, message, hint, { sqlite_code: sqliteCodeValue });
  err.cause = cause;
  return err;
}

/** A SQLite failure as the typed error a caller can act on; anything else is passed on as is. */
export function mapSqliteError(err: unknown): unknown {
  const code = sqliteCode(err);
  if (code === null) return err;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new RewindError('BUSY', 'The database is busy with another writer.', 'Retry in a moment; another process holds the write lock.');
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return storeError(
      'STORE_READ_ONLY',
      'The database refuses writes (read-only file, folder or mount): the change was not saved.',
      "Make the database file, its -wal/-shm files and its folder writable by the server's user (permissions, chattr, mount options); reads keep working, and /health reports degraded until a write succeeds.",
      err,
      code,
    );
  }
  if (code === 'SQLITE_FULL') {
    return storeError('STORE_UNAVAILABLE', 'The disk holding the database is full: the change was not saved.', 'Free space on that disk, then retry; /health reports degraded until a write succeeds.', err, code);
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_NOLFS') {
    return storeError(
      'STORE_UNAVAILABLE',
      `The database could not be written (${messageOf(err)}): the change was not saved.`,
      'Check the disk and the database file (dmesg, free space, permissions), then retry; /health reports degraded until a write succeeds.',
      err,
      code,
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return storeError('STORE_UNAVAILABLE', `The database file is damaged (${messageOf(err)}).`, 'Stop the server, restore the file from a backup, and check it with `rewind verify --db FILE`.', err, code);
  }
  return err;
}

/**
 * What the file system says about a database path SQLite could not open or write: SQLite's codes
 * (CANTOPEN, READONLY, IOERR, FULL) do not tell a read-only mount from missing permissions or a full
 * disk, so the path is looked at directly — the file if it exists, else its folder — with access(2)
 * and statfs(2), which name the errno. Null when nothing is wrong that way (or it cannot be told).
 */
function fileSystemReason(path: string): 'EROFS' | 'EACCES' | 'ENOSPC' | null {
  let target = path;
  try {
    statSync(path);
  } catch {
    target = dirname(path);
  }
  try {
    accessSync(target, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EPERM (an immutable file, say) is not about this user's rights: the generic message below says it.
    return code === 'EROFS' || code === 'EACCES' ? code : null;
  }
  try {
    const fsStats = statfsSync(dirname(path));
    if (fsStats.bavail === 0 || fsStats.ffree === 0) return 'ENOSPC';
  } catch {
    // No statfs here: the disk cannot be told full.
  }
  return null;
}

function fileSystemFailure(reason: 'EROFS' | 'EACCES' | 'ENOSPC', path: string, shown: string, sqliteCode: string | null, elsewhere: string): RewindError {
  const folder = JSON.stringify(dirname(path));
  const details = { path, errno: reason, ...(sqliteCode ? { sqlite_code: sqliteCode } : {}) };
  if (reason === 'EROFS') {
    return new RewindError(
      'STORE_UNUSABLE',
      `${shown} is on a read-only file system (EROFS): the database cannot be created or written there.`,
      `Put the database on a writable disk (e.g. /var/lib/rewind), or remount that one read-write; under systemd with ProtectSystem=strict, list its folder in ReadWritePaths=, ${elsewhere}.`,
      details,
    );
  }
  if (reason === 'EACCES') {
    return new RewindError(
      'STORE_UNUSABLE',
      `${shown} cannot be written by this user (EACCES: no write permission on ${statOk(path) ? 'the file' : `the folder ${folder}`}).`,
      `Give the user the server runs as write access to the folder and the file (chown or chmod; the -wal and -shm files beside it too), ${elsewhere}.`,
      details,
    );
  }
  return new RewindError(
    'STORE_UNUSABLE',
    `The disk holding ${shown} is full (ENOSPC): the database cannot be written.`,
    `Free space on that disk (\`df -h ${dirname(path)}\` shows it), ${elsewhere}.`,
    details,
  );
}

function statOk(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a database file could not be opened (or first written) at start, and what to do; null when the
 * failure is not about the file (then it is a bug, reported as such). Takes raw or mapped failures.
 */
export function sqliteOpenFailure(err: unknown, path: string): RewindError | null {
  if (err instanceof RewindError && err.code === 'STORE_UNUSABLE') return err;
  const raw = err instanceof RewindError && (err.code === 'STORE_READ_ONLY' || err.code === 'STORE_UNAVAILABLE') ? err.cause : err;
  const code = sqliteCode(raw);
  const shown = JSON.stringify(path);
  const elsewhere = 'or pass another file with --db';
  if (code === 'SQLITE_NOTADB') {
    return new RewindError('STORE_UNUSABLE', `${shown} is not a Rewind database (SQLite says: ${messageOf(raw)}).`, `Check the path (is this the database?); restore the file from a backup, ${elsewhere}.`, {
      path,
      sqlite_code: code,
    });
  }
  if (code?.startsWith('SQLITE_CORRUPT')) {
    return new RewindError('STORE_UNUSABLE', `${shown} is corrupt (SQLite says: ${messageOf(raw)}).`, `Restore it from a backup and check the copy with \`rewind verify --db FILE\`, ${elsewhere}.`, {
      path,
      sqlite_code: code,
    });
  }
  const writeFailure = code !== null && (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL');
  if (writeFailure) {
    const reason = code === 'SQLITE_FULL' ? 'ENOSPC' : fileSystemReason(path);
    if (reason) return fileSystemFailure(reason, path, shown, code, elsewhere);
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
      `${shown} cannot be written (SQLite says: ${messageOf(raw)}).`,
      `Make the file, its -wal/-shm files and its folder writable by this user, free disk space, ${elsewhere}.`,
      { path, sqlite_code: code },
    );
  }
  // better-sqlite3 checks the folder itself before SQLite sees the path.
  if (raw instanceof TypeError && /directory does not exist/.test(raw.message)) {
    return new RewindError('STORE_UNUSABLE', `The folder of ${shown} does not exist.`, `Create the folder first, ${elsewhere}.`, { path });
  }
  return null;
}
