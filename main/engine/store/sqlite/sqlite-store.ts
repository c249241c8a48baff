import type Database from 'better-sqlite3';
import { GENESIS_HASH } from '../../event-log.js';
import type { ChainHead, Dialect, Queryable, ReclaimedSpace, SqlValue, Store, Tx } from '../port.js';
import { openDatabase } from './database.js';
import { mapSqliteError } from './errors.js';

/** Pages freed per incremental-vacuum step: 4 MB at 4 KB pages, each step a short write of its own. */
const RECLAIM_PAGES_PER_STEP = 1024;

/** How often the store looks for commits of another process on the same file (a CLI beside the console). */
const EXTERNAL_POLL_MS = 250;

const sqliteDialect: Dialect = {
  nocase: (expr) => `${expr} COLLATE NOCASE`,
  // SQLite's LIKE already ignores (ASCII) case.
  ilike: (expr) => `${expr} LIKE ? ESCAPE '\\'`,
  isoAgo: () => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')`,
  forShare: '',
  durationMs: (start, end) => `max(0, CAST(round((unixepoch(${end}, 'subsec') - unixepoch(${start}, 'subsec')) * 1000) AS INTEGER))`,
  jsonEntries: (column) => `json_each(${column})`,
};

/**
 * The SQLite adapter of the storage port: one better-sqlite3 connection, each SQL string prepared
 * once. better-sqlite3 is synchronous, but a unit of work may await between its statements, so
 * units of work run one at a time (a lock with a FIFO of waiters): no statement of another request
 * ever runs inside an open transaction. A read while no unit of work holds the connection runs at
 * once; otherwise it waits its turn, so it never sees uncommitted rows.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly dialect = sqliteDialect;
  readonly read: Queryable;
  private readonly statements = new Map<string, Database.Statement>();
  private locked = false;
  private readonly waiting: Array<() => void> = [];
  private readonly externalListeners = new Set<() => void>();
  private poll: NodeJS.Timeout | null = null;
  private dataVersion: number;

  constructor(
    /** The connection, for SQLite-only tools (snapshots, benchmarks, tests that corrupt a file on purpose). */
    readonly db: Database.Database,
    readonly schemaVersion: number,
  ) {
    this.dataVersion = this.readDataVersion();
    this.read = {
      all: <T>(sql: string, params: readonly SqlValue[] = []) => this.whenFree(() => this.prepare(sql).all(...params) as T[]),
      get: <T>(sql: string, params: readonly SqlValue[] = []) => this.whenFree(() => this.prepare(sql).get(...params) as T | undefined),
      run: (sql: string, params: readonly SqlValue[] = []) => this.whenFree(() => ({ changes: this.prepare(sql).run(...params).changes })),
    };
  }

  get healthy(): boolean {
    return this.db.open;
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    await this.acquire();
    let open = true;
    const guard = <R>(work: () => R): Promise<R> => {
      if (!open) return Promise.reject(new Error('A statement ran after its transaction ended.'));
      return settle(work);
    };
    const tx: Tx = {
      all: <R>(sql: string, params: readonly SqlValue[] = []) => guard(() => this.prepare(sql).all(...params) as R[]),
      get: <R>(sql: string, params: readonly SqlValue[] = []) => guard(() => this.prepare(sql).get(...params) as R | undefined),
      run: (sql: string, params: readonly SqlValue[] = []) => guard(() => ({ changes: this.prepare(sql).run(...params).changes })),
      // The IMMEDIATE transaction already holds the file's one write lock: the events table is the head.
      lockHead: () => guard(() => (this.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as ChainHead | undefined) ?? { seq: 0, hash: GENESIS_HASH }),
      setHead: () => guard(() => undefined),
    };
    try {
      try {
        this.prepare('BEGIN IMMEDIATE').run();
      } catch (err) {
        throw mapSqliteError(err);
      }
      try {
        const result = await fn(tx);
        this.prepare('COMMIT').run();
        return result;
      } catch (err) {
        // A failed rollback (the disk gone) must not hide why the unit of work failed.
        if (this.db.open && this.db.inTransaction) settle(() => this.prepare('ROLLBACK').run()).catch(() => undefined);
        throw mapSqliteError(err);
      }
    } finally {
      open = false;
      this.release();
    }
  }

  onExternalCommit(listener: () => void): () => void {
    this.externalListeners.add(listener);
    if (!this.poll) {
      // data_version changes only on another connection's commit: one pragma a tick when nothing happened.
      this.poll = setInterval(() => this.pollExternalCommits(), EXTERNAL_POLL_MS);
      this.poll.unref();
    }
    return () => {
      this.externalListeners.delete(listener);
    };
  }

  /**
   * A consistent copy of the file at `path` (SQLite's online backup, WAL included), taken between
   * units of work so it never holds half of one: a sandbox's scratch copy, or the file kept by a reset.
   */
  async backup(path: string): Promise<void> {
    await this.acquire();
    try {
      await this.db.backup(path);
    } catch (err) {
      throw mapSqliteError(err);
    } finally {
      this.release();
    }
  }

  async reclaimSpace(): Promise<ReclaimedSpace> {
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) return { mode: 'reuse-only', pages: 0, longest_step_ms: 0 };
    let pages = 0;
    let longest = 0;
    for (;;) {
      await this.acquire();
      let freed: number;
      try {
        const free = this.db.pragma('freelist_count', { simple: true }) as number;
        if (free === 0) break;
        const started = performance.now();
        // Each step is one short write of its own: units of work queued meanwhile go in between.
        this.db.pragma(`incremental_vacuum(${RECLAIM_PAGES_PER_STEP})`);
        longest = Math.max(longest, performance.now() - started);
        freed = free - (this.db.pragma('freelist_count', { simple: true }) as number);
      } catch (err) {
        throw mapSqliteError(err);
      } finally {
        this.release();
      }
      pages += freed;
      if (freed <= 0) break;
      await new Promise((r) => setImmediate(r));
    }
    return { mode: 'incremental', pages, longest_step_ms: longest };
  }

  /**
   * Rebuilds the file with incremental auto_vacuum (`rewind prune --vacuum`): a file made before
   * Rewind set it gives pruned space back from then on. VACUUM rewrites the whole file and holds the
   * write lock meanwhile (needs free disk about its size): for a moment when nothing else uses it.
   */
  async vacuum(): Promise<{ before_bytes: number; after_bytes: number }> {
    await this.acquire();
    try {
      const size = () => (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
      const before = size();
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      return { before_bytes: before, after_bytes: size() };
    } catch (err) {
      throw mapSqliteError(err);
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    if (!this.db.open) return;
    await this.acquire();
    try {
      if (this.db.open) this.db.close();
    } finally {
      this.release();
    }
  }

  private pollExternalCommits(): void {
    if (!this.db.open || this.locked) return;
    const version = this.readDataVersion();
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    for (const l of this.externalListeners) l();
  }

  private readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs a statement outside any unit of work: at once when the connection is free, else in turn. */
  private whenFree<R>(work: () => R): Promise<R> {
    if (!this.locked) return settle(work);
    return this.acquire().then(() => {
      try {
        return settle(work);
      } finally {
        this.release();
      }
    });
  }

  private acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.locked = false;
  }
}

/** A synchronous statement as a promise, its SQLite errors mapped (BUSY) on the way. */
function settle<R>(work: () => R): Promise<R> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(mapSqliteError(err));
  }
}

/** Opens (creating if missing) and migrates a SQLite file as a `Store`. */
export function openSqliteStore(path: string): SqliteStore {
  const { db, schema } = openDatabase(path);
  return new SqliteStore(db, schema.to);
}
