import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { checkpointSchema, runSchema, workflowSchema, workflowVersionSchema } from '../../preload/contract/entities.js';
import { RewindError } from '../engine/errors.js';

/*
 * A run archive (`rewind archive --before DATE --out FILE`): gzip-compressed NDJSON, one JSON object
 * a line. The first line is the header (what was archived, from where, over which range); then each
 * workflow and version the runs ran (before the first run that needs it), then one line per run with
 * its checkpoints (the states as every reader sees them); the last line counts what the file holds,
 * so a file cut short is told from a complete one. `zcat FILE | jq` reads it too.
 */

export const ARCHIVE_FORMAT = 1;

export const archiveHeaderSchema = z.object({
  kind: z.literal('rewind-archive'),
  format: z.literal(ARCHIVE_FORMAT),
  /** The server's URL, or the sandbox file's path. */
  server: z.string(),
  /** The source's schema version (its migrations) when it was archived. */
  schema: z.number().int(),
  /** Finished runs that ended in [after, before) whose checkpoints were still there. */
  range: z.object({ after: z.string().nullable(), before: z.string() }),
  created_at: z.string(),
});
export type ArchiveHeader = z.infer<typeof archiveHeaderSchema>;

const lineSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('workflow'), workflow: workflowSchema }),
  z.object({ kind: z.literal('version'), version: workflowVersionSchema }),
  z.object({ kind: z.literal('run'), run: runSchema, checkpoints: z.array(checkpointSchema) }),
  z.object({ kind: z.literal('end'), runs: z.number().int(), checkpoints: z.number().int(), workflows: z.number().int(), versions: z.number().int() }),
]);
export type ArchiveLine = z.infer<typeof lineSchema>;
export type ArchiveEnd = Extract<ArchiveLine, { kind: 'end' }>;

/** The lines after the header, in order; throws ARCHIVE_UNREADABLE on a line that does not parse or a file without its end line. */
export async function* readArchive(path: string, onHeader: (header: ArchiveHeader) => void): AsyncGenerator<ArchiveLine> {
  const gunzip = createGunzip();
  const input = createReadStream(path);
  let failure: unknown = null;
  const fail = (err: unknown) => {
    failure ??= err;
    gunzip.destroy();
  };
  input.on('error', fail);
  gunzip.on('error', fail);
  const lines = createInterface({ input: input.pipe(gunzip), crlfDelay: Infinity });
  let n = 0;
  let ended = false;
  try {
    for await (const text of lines) {
      n += 1;
      if (text.trim() === '') continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw unreadable(path, `line ${n} is not JSON`);
      }
      if (n === 1) {
        const header = archiveHeaderSchema.safeParse(json);
        if (!header.success) throw unreadable(path, 'its first line is not a Rewind archive header');
        onHeader(header.data);
        continue;
      }
      if (ended) throw unreadable(path, `line ${n} comes after the end line`);
      const line = lineSchema.safeParse(json);
      if (!line.success) throw unreadable(path, `line ${n} does not read as an archive line (${line.error.issues[0]?.path.join('.') ?? ''} ${line.error.issues[0]?.message ?? ''})`);
      if (line.data.kind === 'end') ended = true;
      yield line.data;
    }
  } catch (err) {
    if (failure) throw unreadable(path, describe(failure));
    throw err;
  } finally {
    lines.close();
    input.destroy();
  }
  if (failure) throw unreadable(path, describe(failure));
  if (n === 0) throw unreadable(path, 'it is empty');
  if (!ended) throw unreadable(path, 'it ends before its end line (the export was cut short)');
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'there is no such file';
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') return 'it is not gzip-compressed (or is damaged)';
  return err instanceof Error ? err.message : String(err);
}

function unreadable(path: string, why: string): RewindError {
  return new RewindError('ARCHIVE_UNREADABLE', `${path} cannot be read as a Rewind run archive: ${why}.`, 'Give a file written by `rewind archive --before DATE --out FILE`; export it again if it was cut short.', { path });
}

/** Whether a file starts like gzip (an archive) rather than SQLite (a sandbox). */
export function looksLikeArchive(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
