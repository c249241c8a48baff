/*
 * The storage port: the one way the engine's rules reach their data, with two adapters —
 * `sqlite/` (better-sqlite3: the sandbox and a one-process server, the embedded default) and
 * `postgres/` (pg: a server of one or more replicas on one database).
 *
 * The rules are written once, in portable SQL with `?` placeholders (the PostgreSQL adapter numbers
 * them). Where the dialects differ (case-insensitive ordering, the chain head, notifications) the
 * port says so with a method instead of letting SQL strings fork.
 *
 * Two traps of an async port, and how each adapter avoids them:
 * - SQLite has one connection per process: a unit of work that awaits inside a transaction must not
 *   let another request's statements run inside it, so the SQLite adapter runs units of work one at
 *   a time (a queue).
 * - PostgreSQL transactions span round trips: a unit of work holds only the statements it needs —
 *   never a network call or a node's execution — so its locks are held for milliseconds.
 */

/** What a placeholder may bind: JSON goes in as text, booleans as 0/1, so both stores read it alike. */
export type SqlValue = string | number | null;

export interface Queryable {
  /** Every row. Integer columns come back as JS numbers on both stores. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that returns no rows; `changes` counts the rows it touched. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** The last link of the hash chain: seq 0 and the genesis hash for an empty log. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** One unit of work inside a transaction. */
export interface Tx extends Queryable {
  /**
   * The chain head, locked until commit: every appending transaction takes it, so seq order is commit
   * order across processes and replicas (SQLite: the IMMEDIATE transaction already holds the one write
   * lock; PostgreSQL: `SELECT … FOR UPDATE` of the head row). Call it before checking a revision, so the
   * check and the write it guards see the same state.
   */
  lockHead(): Promise<ChainHead>;
  /** Records the head after an append (PostgreSQL's head row; a no-op where the events table is the head). */
  setHead(head: ChainHead): Promise<void>;
}

export type StoreKind = 'sqlite' | 'postgres';

/** SQL fragments that differ between the dialects, for the few queries that need them. */
export interface Dialect {
  /** An ORDER BY key that sorts text case-insensitively (`x COLLATE NOCASE` / `lower(x)`). */
  nocase(expr: string): string;
  /** A predicate: `expr` matches the LIKE pattern of the next `?` (escape `\`) in any case (`LIKE` / `ILIKE`). */
  ilike(expr: string): string;
  /** An ISO-8601 timestamp `interval` before now, comparable as text with our stored timestamps. */
  isoAgo(interval: '1 day'): string;
  /**
   * A row-lock clause for a SELECT that must wait for, and then re-check against, a concurrent
   * UPDATE of the rows it reads (' FOR SHARE' on PostgreSQL; nothing on SQLite, whose write
   * transaction already excludes every other writer).
   */
  readonly forShare: string;
  /** Whole milliseconds from one ISO timestamp column to another (0 when the end is earlier), as the run counters' triggers count them. */
  durationMs(start: string, end: string): string;
  /** A FROM item giving a JSON-object text column's entries as rows of (key, value text): `json_each` / `jsonb_each_text`. */
  jsonEntries(column: string): string;
}

/** What `reclaimSpace` did: how the store gives space back, the pages it freed, its longest step. */
export interface ReclaimedSpace {
  mode: 'incremental' | 'reuse-only' | 'autovacuum';
  pages: number;
  longest_step_ms: number;
}

export interface Store {
  readonly kind: StoreKind;
  readonly dialect: Dialect;
  /** The schema version the store is at after `open` ran its migrations. */
  readonly schemaVersion: number;
  /** Reads outside a transaction (each statement sees committed data). */
  readonly read: Queryable;
  /**
   * Reads of the log's tail after a wake-up (the engine's publication pass), when the store has a
   * better place for them than `read`: PostgreSQL sends them on the LISTEN connection the
   * notification just woke, with no pooled connection to check out and give back.
   */
  readonly readTail?: Queryable;
  /**
   * One unit of work, all or nothing. `fn` may await the store but nothing else (no network, no
   * timers): on SQLite the whole store waits for it, on PostgreSQL its locks do. PostgreSQL re-runs
   * `fn` from the start, in a new transaction, after a serialization failure or deadlock (40001,
   * 40P01) — so `fn` must not act outside the store, nor keep what it computed in an earlier run.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Calls `listener` when another process or replica may have appended events (SQLite: its
   * data_version changed; PostgreSQL: a NOTIFY arrived, or the LISTEN connection came back after a
   * loss — a wake-up, not a delivery: the listener re-reads after the last seq it published).
   */
  onExternalCommit(listener: () => void): () => void;
  /**
   * Gives back the space of rows deleted since (a retention pass): SQLite, in steps of a few thousand
   * pages (`PRAGMA incremental_vacuum`), each a short write of its own, when the file was made with
   * incremental auto_vacuum — otherwise its free pages are reused by new rows but the file keeps its
   * size; PostgreSQL: nothing to do here, autovacuum makes dead rows' space reusable.
   */
  reclaimSpace(): Promise<ReclaimedSpace>;
  /** Whether the store answered its last statement (false while PostgreSQL is unreachable). */
  readonly healthy: boolean;
  close(): Promise<void>;
}
