import type Database from 'better-sqlite3';
import type { RewindEvent } from '../../preload/contract/entities.js';
import { EventLog, type NewEvent } from './event-log.js';
import { RewindError } from './errors.js';

export type EventListener = (event: RewindEvent) => void;

/**
 * What every engine service shares: the database, the event log, the clock, and `mutate`, the one
 * way to change state. A mutation is one IMMEDIATE transaction holding the change and its event;
 * listeners and follow-up work (starting a run) are told only once it has committed.
 *
 * Listeners hear every event in seq order, once — also those another process (a CLI beside the
 * console) appends to the same file: every publication reads the log from the last seq published,
 * so events of both processes, interleaved in the chain, arrive in chain order.
 */
export class EngineCore {
  readonly events: EventLog;
  private readonly listeners = new Set<EventListener>();
  private pendingAfterCommit: Array<() => void> = [];
  private depth = 0;
  private published: number;
  private dataVersion: number;

  constructor(
    readonly db: Database.Database,
    private clock: () => Date,
  ) {
    this.events = new EventLog(db);
    this.published = this.events.latestSeq();
    this.dataVersion = this.readDataVersion();
  }

  /**
   * Publishes what other processes committed since the last look. SQLite's data_version changes
   * only on another connection's commit, so the check costs one pragma when nothing happened.
   */
  pollExternalCommits(): void {
    if (!this.db.open || this.depth > 0) return;
    const version = this.readDataVersion();
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.publish();
  }

  private readDataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** Hands listeners every committed event after the last one published, in seq order. */
  private publish(): void {
    for (;;) {
      const page = this.events.list(this.published, 1000);
      for (const e of page) {
        this.published = e.seq;
        for (const l of this.listeners) l(e);
      }
      if (page.length < 1000) return;
    }
  }

  now(): string {
    return this.clock().toISOString();
  }

  /**
   * Runs `fn` with the clock stopped at `at` (seeding a history that happened over past days);
   * `advance` moves that stopped clock, so seeded runs take their simulated time.
   */
  atTime<T>(at: Date, fn: () => T): T {
    const saved = this.clock;
    let t = at.getTime();
    this.clock = () => new Date(t);
    this.advanceBy = (ms) => {
      t += ms;
    };
    try {
      return fn();
    } finally {
      this.clock = saved;
      this.advanceBy = null;
    }
  }

  /** Moves a stopped clock (see `atTime`); a live clock moves by itself. */
  advance(ms: number): void {
    this.advanceBy?.(ms);
  }

  private advanceBy: ((ms: number) => void) | null = null;

  /** Runs `fn` in an IMMEDIATE transaction (a savepoint when nested); `fn` must be synchronous. */
  mutate<T>(fn: () => T): T {
    if (this.depth > 0) {
      // A savepoint that rolls back must take its queued follow-ups with it.
      const after = this.pendingAfterCommit.length;
      try {
        return this.db.transaction(fn)();
      } catch (err) {
        this.pendingAfterCommit.length = after;
        throw err;
      }
    }
    this.depth += 1;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.pendingAfterCommit = [];
      throw mapSqliteError(err);
    } finally {
      this.depth -= 1;
    }
    const after = this.pendingAfterCommit;
    this.pendingAfterCommit = [];
    this.publish();
    for (const f of after) f();
    return result;
  }

  /** Appends an event inside the current mutation. */
  append(e: NewEvent): RewindEvent {
    if (this.depth === 0) throw new Error('append outside a mutation');
    return this.events.append(e);
  }

  afterCommit(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.pendingAfterCommit.push(fn);
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A locked database is a retryable condition, not a bug: say so with BUSY. */
export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new RewindError('BUSY', 'The database is busy with another writer.', 'Retry in a moment; another process holds the write lock.');
  }
  return err;
}
