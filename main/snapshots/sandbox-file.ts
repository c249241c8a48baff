import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { RewindError } from '../engine/errors.js';
import { latestSchemaVersion, refuseFutureSchema } from '../engine/store/sqlite/migrations/index.js';

/** Where a snapshot has got to; kept in `meta` so a dropped connection resumes rather than restarts. */
export const snapshotCursorSchema = z.object({
  /** events → state (workflows and versions) → runs → runbooks (with their rehearsals) → done. */
  phase: z.enum(['events', 'state', 'runs', 'runbooks', 'done']),
  events: z.number().int().nonnegative(),
  workflows: z.number().int().nonnegative(),
  versions: z.number().int().nonnegative(),
  runs: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
});
export type SnapshotCursor = z.infer<typeof snapshotCursorSchema>;

/** The `meta` rows of a sandbox file written by a snapshot. */
export const SNAPSHOT_META = {
  sourceUrl: 'snapshot_source_url',
  takenAt: 'snapshot_taken_at',
  headSeq: 'snapshot_head_seq',
  complete: 'snapshot_complete',
  runsRequested: 'snapshot_runs_requested',
  cursor: 'snapshot_cursor',
  /** The runs chosen once, parents first, so a resumed snapshot copies the same ones. */
  runIds: 'snapshot_run_ids',
} as const;

const snapshotMetaSchema = z.object({
  [SNAPSHOT_META.sourceUrl]: z.string(),
  [SNAPSHOT_META.takenAt]: z.string(),
  [SNAPSHOT_META.headSeq]: z.coerce.number().int().nonnegative(),
  [SNAPSHOT_META.complete]: z.enum(['true', 'false']),
  [SNAPSHOT_META.runsRequested]: z.coerce.number().int().positive(),
  [SNAPSHOT_META.cursor]: z.string().transform((s, ctx) => {
    const parsed = snapshotCursorSchema.safeParse(safeJson(s));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'the snapshot cursor is not readable' });
      return z.NEVER;
    }
    return parsed.data;
  }),
});

/**
 * The `meta` rows of a sandbox file made from a run archive (main/archive/import.ts): such a file
 * opens read-only, and the console says what it is an archive of.
 */
export const ARCHIVE_META = { header: 'archive_header', source: 'archive_source', end: 'archive_end' } as const;
export const ARCHIVE_META_SQL = "SELECT key, value FROM meta WHERE key LIKE 'archive\\_%' ESCAPE '\\'";

export interface ArchiveMeta {
  /** The archive file it was imported from. */
  source: string;
  /** The server (or sandbox) the runs were archived from, and their range. */
  server: string;
  before: string;
  after: string | null;
  runs: number;
}

/** The archive's record from a sandbox file's `archive_*` meta rows, or null when it is no archive. */
export function parseArchiveMeta(rows: Array<{ key: string; value: string }>): ArchiveMeta | null {
  const byKey = new Map(rows.map((r) => [r.key, r.value]));
  const header = safeJson(byKey.get(ARCHIVE_META.header) ?? '') as { server?: unknown; range?: { before?: unknown; after?: unknown } } | undefined;
  if (!header || typeof header.server !== 'string' || typeof header.range?.before !== 'string') return null;
  const end = safeJson(byKey.get(ARCHIVE_META.end) ?? '') as { runs?: unknown } | undefined;
  return {
    source: byKey.get(ARCHIVE_META.source) ?? '',
    server: header.server,
    before: header.range.before,
    after: typeof header.range.after === 'string' ? header.range.after : null,
    runs: typeof end?.runs === 'number' ? end.runs : 0,
  };
}

export interface SnapshotMeta {
  sourceUrl: string;
  takenAt: string;
  headSeq: number;
  complete: boolean;
  runsRequested: number;
  cursor: SnapshotCursor;
}

/*
 * A path as a sandbox: missing, or a Rewind database (a snapshot of a server or not). Anything else
 * (not SQLite, another program's SQLite) is refused before it is ever migrated or written.
 */
export type SandboxFile = { kind: 'missing' } | { kind: 'sandbox'; snapshot: SnapshotMeta | null; hasData: boolean; empty: boolean };

/** Reads a file read-only, without migrating or touching it. */
export function inspectSandboxFile(path: string): SandboxFile {
  if (!existsSync(path)) return { kind: 'missing' };
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw notASandbox(path, err);
  }
  try {
    let version: number;
    let tables: Set<string>;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name));
    } catch (err) {
      throw notASandbox(path, err);
    }
    // An empty SQLite file (no tables at all) may become a sandbox; one with other tables is another program's.
    if (version === 0 && tables.size === 0) return { kind: 'sandbox', snapshot: null, hasData: false, empty: true };
    if (version === 0 || !tables.has('events') || !tables.has('meta')) throw notASandbox(path, null);
    refuseFutureSchema(version, latestSchemaVersion);
    // Whether a row exists, not how many: a snapshot of a long log has millions.
    const any = (table: string) => db.prepare(`SELECT 1 FROM ${table} LIMIT 1`).get() !== undefined;
    const hasData = any('events') || any('workflows') || any('runs');
    return { kind: 'sandbox', snapshot: readSnapshotMeta(db, path), hasData, empty: false };
  } finally {
    db.close();
  }
}

/** The snapshot's record in `meta`, or null when the file was not written by a snapshot. */
export function readSnapshotMeta(db: Database.Database, path: string): SnapshotMeta | null {
  return parseSnapshotMeta(db.prepare(SNAPSHOT_META_SQL).all() as Array<{ key: string; value: string }>, path);
}

/** The `meta` rows of a snapshot's record. */
export const SNAPSHOT_META_SQL = "SELECT key, value FROM meta WHERE key LIKE 'snapshot\\_%' ESCAPE '\\'";

/** A snapshot's record from its `meta` rows (read through any store), or null when there is none. */
export function parseSnapshotMeta(rows: Array<{ key: string; value: string }>, path: string): SnapshotMeta | null {
  if (rows.length === 0) return null;
  const parsed = snapshotMetaSchema.safeParse(Object.fromEntries(rows.map((r) => [r.key, r.value])));
  if (!parsed.success) {
    throw new RewindError('VALIDATION_FAILED', `${path} holds an unreadable snapshot record (${parsed.error.issues[0]?.message ?? 'invalid'}).`, 'Take the snapshot again into a new file.');
  }
  const m = parsed.data;
  return {
    sourceUrl: m[SNAPSHOT_META.sourceUrl],
    takenAt: m[SNAPSHOT_META.takenAt],
    headSeq: m[SNAPSHOT_META.headSeq],
    complete: m[SNAPSHOT_META.complete] === 'true',
    runsRequested: m[SNAPSHOT_META.runsRequested],
    cursor: m[SNAPSHOT_META.cursor],
  };
}

function notASandbox(path: string, cause: unknown): RewindError {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return new RewindError('VALIDATION_FAILED', `${path} is not a Rewind sandbox file${why}.`, 'Pick a sandbox database written by Rewind (the local sandbox, a rehearsal copy or a snapshot).', { path });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
