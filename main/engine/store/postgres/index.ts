import { hostname } from 'node:os';
import pg from 'pg';
import { RewindError } from '../../errors.js';
import type { ChainHead, Dialect, Queryable, ReclaimedSpace, SqlValue, Store, Tx } from '../port.js';
import { classify, openFailure, requestFailure } from './failures.js';
import { NotificationListener } from './listener.js';
import { latestSchemaVersion, migrate } from './migrations/index.js';
import { numberPlaceholders } from './placeholders.js';
import { numberTypes } from './types.js';
import { type PostgresTarget, parsePostgresUrl } from './url.js';

export { isPostgresUrl, parsePostgresUrl } from './url.js';
export { latestSchemaVersion } from './migrations/index.js';

/** The channel every replica's writer notifies on commit and every replica listens to. */
export const EVENTS_CHANNEL = 'rewind_events';

export interface PostgresStoreOptions {
  /** `postgres://USER:PASSWORD@HOST:PORT/DATABASE` */
  url: string;
  /** Names this replica's connections (`application_name`), for pg_stat_activity and the logs. */
  replicaId?: string;
  /** Pooled connections for units of work and reads (the LISTEN connection is extra). */
  poolSize?: number;
  /** How long a request waits for a connection before it answers 503. */
  connectTimeoutMs?: number;
  /** How often the LISTEN connection checks it is alive. */
  heartbeatMs?: number;
  /** Re-runs of a unit of work after a serialization failure or deadlock (40001/40P01). */
  maxRetries?: number;
  /**
   * The server ends a session that sits this long inside a transaction: a replica frozen mid-unit
   * (SIGSTOP, a debugger) must not hold the chain head from every other replica for ever.
   */
  idleInTransactionTimeoutMs?: number;
}

/** The PostgreSQL store; beyond the port, what identifies it. */
export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  readonly replicaId: string;
  /** Where it points, password masked. */
  readonly target: PostgresTarget;
}

const dialect: Dialect = {
  nocase: (expr) => `lower(${expr})`,
  ilike: (expr) => `${expr} ILIKE ? ESCAPE '\\'`,
  // The same text as Date.toISOString(), so it compares as text with the stored timestamps.
  isoAgo: (interval) => `to_char((now() AT TIME ZONE 'UTC') - interval '${interval}', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  forShare: ' FOR SHARE',
  durationMs: (start, end) => `greatest(0, round(extract(epoch FROM (${end}::timestamptz - ${start}::timestamptz)) * 1000))::bigint`,
  jsonEntries: (column) => `jsonb_each_text(${column}::jsonb)`,
};

/**
 * Opens the store: checks the settings by connecting (clear errors for a bad host, password or
 * database), runs the migrations (refusing a newer schema), then starts listening for other
 * replicas' commits.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const target = parsePostgresUrl(options.url);
  const replicaId = options.replicaId ?? `${hostname()}-${process.pid}`;
  const base: pg.ClientConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    keepAlive: true,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 30_000,
    types: numberTypes,
  };
  const poolSize = options.poolSize ?? 10;
  const pool = new pg.Pool({ ...base, application_name: appName('rewind', replicaId), max: poolSize });
  const store = new PgStore(pool, poolSize, target, replicaId, options.maxRetries ?? 5);
  // An idle pooled connection that dies (the server restarting) must not crash the process; the next
  // statement that needs a connection gets a fresh one or a 503.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => store.ownBackends.add(backendPid(client)));
  pool.on('remove', (client) => store.ownBackends.delete(backendPid(client)));
  const listener = new NotificationListener({
    config: { ...base, application_name: appName('rewind-listen', replicaId) },
    channel: EVENTS_CHANNEL,
    heartbeatMs: options.heartbeatMs ?? 10_000,
    onWake: (pid) => store.wake(pid),
    onState: (up) => store.markHealthy(up),
  });
  store.listener = listener;
  try {
    const client = await pool.connect();
    try {
      store.schemaVersion = (await migrate(client)).to;
    } finally {
      client.release();
    }
    await listener.start();
  } catch (err) {
    await listener.close();
    await pool.end().catch(() => undefined);
    throw openFailure(err, target);
  }
  return store;
}

/** application_name is cut at 63 bytes by the server; keep the replica id readable. */
function appName(prefix: string, replicaId: string): string {
  return `${prefix}:${replicaId}`.slice(0, 63);
}

function backendPid(client: pg.PoolClient): number {
  return (client as unknown as { processID: number }).processID;
}

const MAX_RETRY_AFTER_S = 30;

const LOCK_HEAD = 'SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE';

/**
 * The unit's last round trip: the head update (with its NOTIFY, delivered only if the transaction
 * commits) and COMMIT as one simple query. A simple query takes no parameters, so the seq is checked
 * to be an integer and the hash quoted by the client's own literal escaping.
 */
function commitText(head: ChainHead | null, client: pg.PoolClient): string {
  if (head === null) return 'COMMIT';
  if (!Number.isSafeInteger(head.seq) || head.seq < 0) throw new Error(`setHead: seq ${head.seq} is not a chain position.`);
  return `WITH moved AS (UPDATE chain_head SET seq = ${head.seq}, hash = ${client.escapeLiteral(head.hash)} WHERE id = 1 RETURNING seq) SELECT pg_notify('${EVENTS_CHANNEL}', seq::text) FROM moved; COMMIT`;
}

/** A simple query of several statements answers one result each: the last is the one that counts. */
function lastResult(result: pg.QueryResult | pg.QueryResult[]): pg.QueryResult {
  return Array.isArray(result) ? result[result.length - 1]! : result;
}

class PgStore implements PostgresStore {
  readonly kind = 'postgres' as const;
  readonly dialect = dialect;
  schemaVersion = latestSchemaVersion;
  listener: NotificationListener | null = null;
  /** This store's pooled backends: their notifications are our own commits, not external ones. */
  readonly ownBackends = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private up = true;
  private closed = false;
  readonly read: Queryable;
  readonly readTail: Queryable;

  constructor(
    private readonly pool: pg.Pool,
    private readonly poolSize: number,
    readonly target: PostgresTarget,
    readonly replicaId: string,
    private readonly maxRetries: number,
  ) {
    this.read = queryable((sql, params) => this.pool.query(numberPlaceholders(sql), params as SqlValue[]), this);
    // On the LISTEN connection while it listens (no pool checkout between the notification and the read); on the pool otherwise.
    this.readTail = queryable((sql, params) => (this.listener?.connection ?? this.pool).query(numberPlaceholders(sql), params as SqlValue[]), this);
  }

  get healthy(): boolean {
    return this.up;
  }

  markHealthy(up: boolean): void {
    this.up = up;
  }

  /** Seconds a client should wait before retrying, from the LISTEN connection's reconnect schedule. */
  retryAfterS(): number {
    const ms = this.listener?.retryAfterMs ?? 1000;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(ms / 1000)));
  }

  /** Maps a statement's outcome onto `healthy` and a failure onto a typed error. */
  failed(err: unknown, duringCommit = false): unknown {
    if (classify(err) !== 'unavailable') return requestFailure(err, this.retryAfterS(), duringCommit);
    // Every pooled connection busy is load, not the database away: no change to `healthy`.
    if (err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message) && this.pool.totalCount >= this.poolSize) {
      return new RewindError(
        'BUSY',
        `All ${this.poolSize} database connections of this server are busy; nothing was changed.`,
        'Retry in a moment; if it persists, raise the pool size or add a replica.',
        { retry_after_s: 1 },
      );
    }
    this.up = false;
    return requestFailure(err, this.retryAfterS(), duringCommit);
  }

  wake(pid: number | null): void {
    if (pid !== null && this.ownBackends.has(pid)) return;
    for (const listener of [...this.listeners]) listener();
  }

  onExternalCommit(listener: () => void): () => void {
    const wrapped = () => listener();
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  /** Autovacuum makes pruned rows' space reusable (the checkpoints table at 5 % dead rows, migration 0150); nothing to wait for here. */
  async reclaimSpace(): Promise<ReclaimedSpace> {
    return { mode: 'autovacuum', pages: 0, longest_step_ms: 0 };
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(fn);
      } catch (err) {
        if (classify(err) !== 'retry' || attempt >= this.maxRetries) throw err;
        // Let the transaction we collided with finish before running ours again.
        await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
      }
    }
  }

  private async once<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.failed(err);
    }
    let finished = false;
    /** The head as this unit locked it; the lock is held until the unit ends. */
    let locked: ChainHead | null = null;
    /** Whether BEGIN was sent: it rides with the unit's first statement, so a unit that sends none costs no round trip. */
    let begun = false;
    /** The head `setHead` recorded: written by the COMMIT's own round trip. */
    let head: ChainHead | null = null;
    /** Set when the connection died under a statement: it is destroyed, never handed to the next unit. */
    let lost: Error | undefined;
    // A checked-out client has no pool listener: without ours, its death would be an uncaught error.
    const onError = (err: Error) => {
      lost ??= err;
    };
    client.on('error', onError);
    const send = async (sql: string, params?: readonly SqlValue[]) => {
      try {
        return await client.query(sql, params as SqlValue[]);
      } catch (err) {
        if (classify(err) === 'unavailable') lost = err instanceof Error ? err : new Error(String(err));
        throw err;
      }
    };
    const run = async (sql: string, params?: readonly SqlValue[]) => {
      if (finished) throw new Error('This transaction has already finished; use the store, not a kept Tx.');
      if (!begun) {
        begun = true;
        await send('BEGIN');
      }
      return send(numberPlaceholders(sql), params);
    };
    const tx: Tx = {
      ...queryable(run, this),
      lockHead: async () => {
        if (finished) throw new Error('This transaction has already finished; use the store, not a kept Tx.');
        // Locked already: nobody else can move it, so it is where this unit last set it.
        if (locked) return head ?? locked;
        // READ COMMITTED: a second appender blocks here until the first commits, then PostgreSQL
        // re-reads the row it was waiting for and returns the head the first one wrote — so each
        // appender sees the seq and hash just before its own, and commit order is seq order.
        // A unit's first statement: BEGIN goes in the same round trip (one simple query, two statements).
        const result = await this.guard(async () => {
          if (begun) return send(LOCK_HEAD);
          begun = true;
          return lastResult(await send(`BEGIN; ${LOCK_HEAD}`));
        });
        const row = result.rows[0] as ChainHead | undefined;
        if (!row) throw new Error('chain_head has no row: the database was not migrated by Rewind.');
        locked = { seq: row.seq, hash: row.hash };
        return locked;
      },
      setHead: async (moved) => {
        if (!locked) throw new Error('setHead before lockHead: the head must be locked before appending.');
        // Written by the COMMIT's round trip (see `commitText`): the head moves last in every unit anyway.
        head = { seq: moved.seq, hash: moved.hash };
      },
    };
    let committing = false;
    try {
      const result = await fn(tx);
      if (!begun) return result;
      // A connection already gone is a unit that failed before its commit, not one whose commit is in doubt.
      if (lost) throw lost;
      committing = true;
      const commit = lastResult(await send(commitText(head, client)));
      // COMMIT of a transaction that a swallowed error had aborted answers ROLLBACK, not an error.
      if (commit.command === 'ROLLBACK') throw new Error('The transaction was rolled back: a statement inside it failed and its error was swallowed.');
      this.up = true;
      return result;
    } catch (err) {
      // Also after a failed commit round trip: its head update may have failed before the COMMIT ran,
      // leaving the transaction open (a ROLLBACK after a COMMIT that did run only draws a warning).
      if (!lost && begun) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          lost = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        });
      }
      throw this.failed(err, committing && lost !== undefined);
    } finally {
      finished = true;
      // A lost connection may still report errors while it is destroyed: keep listening to it.
      if (!lost) client.off('error', onError);
      client.release(lost);
    }
  }

  /** Runs one statement, mapping the database's absence onto a typed 503 and `healthy`. */
  async guard<R>(statement: () => Promise<R>): Promise<R> {
    try {
      const result = await statement();
      this.up = true;
      return result;
    } catch (err) {
      throw this.failed(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.listener?.close();
    await this.pool.end();
  }
}

/** `all`/`get`/`run` over one way of sending a statement. */
function queryable(send: (sql: string, params?: readonly SqlValue[]) => Promise<pg.QueryResult>, store: PgStore): Queryable {
  return {
    all: async <T>(sql: string, params?: readonly SqlValue[]) => (await store.guard(() => send(sql, params))).rows as T[],
    get: async <T>(sql: string, params?: readonly SqlValue[]) => (await store.guard(() => send(sql, params))).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly SqlValue[]) => ({ changes: (await store.guard(() => send(sql, params))).rowCount ?? 0 }),
  };
}
