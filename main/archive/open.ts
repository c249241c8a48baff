import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { looksLikeArchive } from './archive-file.js';
import { importArchive } from './import.js';

/** Whether `path` is a run archive (gzip) rather than a sandbox database; false when it cannot be read. */
export function isArchiveFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(2);
    return looksLikeArchive(head.subarray(0, readSync(fd, head, 0, 2, 0)));
  } finally {
    closeSync(fd);
  }
}

/**
 * The sandbox file a run archive opens as (read-only): imported into `dir` the first time, named for
 * the archive and its size and time, so opening the same file again reuses it and a changed file is
 * imported anew.
 */
export async function sandboxOfArchive(archivePath: string, dir: string): Promise<string> {
  const { size, mtimeMs } = statSync(archivePath);
  const id = createHash('sha256').update(`${archivePath}\u0000${size}\u0000${mtimeMs}`).digest('hex').slice(0, 12);
  const target = join(dir, `${archiveName(archivePath)}-${id}.db`);
  if (!existsSync(target)) await importArchive(archivePath, target);
  return target;
}

/** `runs-2026-09.ndjson.gz` → `runs-2026-09`. */
export function archiveName(path: string): string {
  return basename(path).replace(/\.ndjson\.gz$|\.jsonl\.gz$|\.gz$/i, '') || basename(path);
}
