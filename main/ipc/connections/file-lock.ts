import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { RewindError } from '../../engine/errors.js';

/**
 * Runs `fn` holding a lock on `file` shared by every process on this machine (a `<file>.lock`
 * folder, proper-lockfile's atomic mkdir): how two consoles' read-change-write of the same file
 * never lose each other's change. A lock left by a crashed process is taken over once stale.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(file), { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, { realpath: false, stale: 10_000, retries: { retries: 100, minTimeout: 10, maxTimeout: 200, randomize: true } });
  } catch (err) {
    throw new RewindError('BUSY', `${file} is locked by another Rewind console.`, 'Try again in a moment; if no other console is open, remove the .lock folder beside it.', {
      path: file,
      cause: err instanceof Error ? err.message : String(err),
    });
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}
