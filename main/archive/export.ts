import { once } from 'node:events';
import { closeSync, createWriteStream, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import { ARCHIVE_FORMAT, type ArchiveEnd, type ArchiveHeader } from './archive-file.js';

export interface ExportOptions {
  backend: Backend;
  /** What the header names as the source: the server's URL or the sandbox file. */
  server: string;
  schema: number;
  before: string;
  after?: string;
  out: string;
  /** Runs per request. */
  pageSize?: number;
  onProgress?: (runs: number) => void;
}

/**
 * Writes the finished, not yet pruned runs that ended in [after, before) into a new archive file,
 * page by page (`runs:archive`), through gzip. Written to `FILE.partial` and renamed once complete:
 * `FILE` is an archive with its end line, or is not there.
 */
export async function exportArchive(options: ExportOptions): Promise<{ path: string; header: ArchiveHeader; end: ArchiveEnd }> {
  if (existsSync(options.out)) {
    throw new RewindError('ARCHIVE_TARGET_EXISTS', `${options.out} already exists.`, 'Archive into a new file; an archive never writes over another file.', { path: options.out });
  }
  const before = new Date(options.before).toISOString();
  const after = options.after === undefined ? null : new Date(options.after).toISOString();
  const header: ArchiveHeader = { kind: 'rewind-archive', format: ARCHIVE_FORMAT, server: options.server, schema: options.schema, range: { after, before }, created_at: new Date().toISOString() };
  const partial = `${options.out}.partial`;
  const gzip = createGzip();
  const file = createWriteStream(partial, { flags: 'wx' });
  gzip.pipe(file);
  const write = async (line: object) => {
    if (!gzip.write(`${JSON.stringify(line)}\n`)) await once(gzip, 'drain');
  };
  const end: ArchiveEnd = { kind: 'end', runs: 0, checkpoints: 0, workflows: 0, versions: 0 };
  try {
    await write(header);
    const workflows = new Set<string>();
    const versions = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await options.backend.call('runs:archive', { before, ...(after ? { after } : {}), ...(cursor ? { cursor } : {}), limit: options.pageSize ?? 50 });
      for (const wf of page.workflows) {
        if (workflows.has(wf.id)) continue;
        workflows.add(wf.id);
        end.workflows += 1;
        await write({ kind: 'workflow', workflow: wf });
      }
      for (const v of page.versions) {
        const key = `${v.workflow_id}\u0000${v.version}`;
        if (versions.has(key)) continue;
        versions.add(key);
        end.versions += 1;
        await write({ kind: 'version', version: v });
      }
      for (const { run, checkpoints } of page.runs) {
        await write({ kind: 'run', run, checkpoints });
        end.runs += 1;
        end.checkpoints += checkpoints.length;
      }
      options.onProgress?.(end.runs);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    await write(end);
    gzip.end();
    await once(file, 'close');
    // On disk before it takes its name: a complete-looking archive is never one a power cut emptied.
    const fd = openSync(partial, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, options.out);
    return { path: options.out, header, end };
  } catch (err) {
    gzip.destroy();
    file.destroy();
    rmSync(partial, { force: true });
    throw err;
  }
}
