import type Database from 'better-sqlite3';
import type { RewindEvent } from '../../preload/contract/entities.js';
import { EventLog, type NewEvent } from './event-log.js';
import { RewindError } from './errors.js';

export type EventListener = (event: RewindEvent) => void;

/**
 * What every engine service shares: the database, the event log, the clock, and `mutate`, the one
 * way to change state. A mutation is one IMMEDIATE transaction holding the change and its event;
 * listeners and follow-up work (starting a run) are told only once it has committed.
 */
export class EngineCore {
  readonly events: EventLog;
  private readonly listeners = new Set<EventListener>();
  private pendingEvents: RewindEvent[] = [];
  private pendingAfterCommit: Array<() => void> = [];
  private depth = 0;

  constructor(
    readonly db: Database.Database,
    private clock: () => Date,
  ) {
    this.events = new EventLog(db);
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
      // A savepoint that rolls back must take its queued events and follow-ups with it.
      const events = this.pendingEvents.length;
      const after = this.pendingAfterCommit.length;
      try {
        return this.db.transaction(fn)();
      } catch (err) {
        this.pendingEvents.length = events;
        this.pendingAfterCommit.length = after;
        throw err;
      }
    }
    this.depth += 1;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.pendingEvents = [];
      this.pendingAfterCommit = [];
      throw mapSqliteError(err);
    } finally {
      this.depth -= 1;
    }
    const events = this.pendingEvents;
    const after = this.pendingAfterCommit;
    this.pendingEvents = [];
    this.pendingAfterCommit = [];
    for (const e of events) for (const l of this.listeners) l(e);
    for (const f of after) f();
    return result;
  }

  /** Appends an event inside the current mutation. */
  append(e: NewEvent): RewindEvent {
    if (this.depth === 0) throw new Error('append outside a mutation');
    const event = this.events.append(e);
    this.pendingEvents.push(event);
    return event;
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
