import { AsyncLocalStorage } from 'node:async_hooks';
import type { RewindEvent } from '../../preload/contract/entities.js';
import { EventLog, type EventRow, type NewEvent, appendEvent } from './event-log.js';
import type { ChainHead, Queryable, Store, Tx } from './store/port.js';
import { WebhookOutbox } from './webhooks/outbox.js';

export type EventListener = (event: RewindEvent) => void;
/** Hears an event inside the mutation that appends it: what it writes and appends commits with that event, or not at all. */
export type AppendObserver = (event: RewindEvent) => Promise<void>;

/** The open unit of work of a mutation: its transaction, the chain head it locked, what runs after commit. */
interface UnitOfWork {
  tx: Tx;
  head: ChainHead;
  /** The events it appended, in seq order: after commit they are handed to listeners without being read back. */
  events: RewindEvent[];
  afterCommit: Array<() => void | Promise<void>>;
  /** Savepoints open inside it (nested mutations). */
  depth: number;
}

/**
 * What every engine service shares: the store, the event log, the clock, and `mutate`, the one
 * way to change state. A mutation is one store transaction whose first statement locks the chain
 * head (the one order across processes and replicas): the revision check, the change and its event
 * all see the same state. Listeners and follow-up work (starting a run) are told only once it has
 * committed.
 *
 * The open transaction travels with the async call chain (AsyncLocalStorage): a service reading
 * inside a mutation reads through it (`q()`), and a mutation started inside another runs in a
 * savepoint of it — never a second transaction inside the first, which on SQLite's single
 * connection would wait for itself.
 *
 * Listeners hear every event in seq order, once — also those another process or replica appends
 * to the same store: every publication reads the log from the last seq published, so events of
 * all writers, interleaved in the chain, arrive in chain order.
 */
export class EngineCore {
  readonly events: EventLog;
  private readonly listeners = new Set<EventListener>();
  private readonly appendObservers: AppendObserver[] = [];
  private readonly unit = new AsyncLocalStorage<UnitOfWork>();
  private published = 0;
  private publishing: Promise<void> | null = null;
  private publishAgain = false;
  private readonly offExternal: () => void;
  private readonly outbox = new WebhookOutbox();
  /** Checks each committed event as read, before listeners hear of it (the chain guard's live check). */
  private rowCheck: ((row: EventRow) => void) | null = null;

  private constructor(
    readonly store: Store,
    private clock: () => Date,
  ) {
    this.events = new EventLog(() => this.q(), { step: this.readStep, breathe: () => this.breathe() });
    this.offExternal = store.onExternalCommit(() => void this.publish().catch(() => undefined));
  }

  static async open(store: Store, clock: () => Date): Promise<EngineCore> {
    const core = new EngineCore(store, clock);
    core.published = await core.events.latestSeq();
    return core;
  }

  /** Where a statement goes: the open mutation's transaction, or committed data outside one. */
  q(): Queryable {
    return this.unit.getStore()?.tx ?? this.store.read;
  }

  /** Whether the caller runs inside a mutation. */
  inMutation(): boolean {
    return this.unit.getStore() !== undefined;
  }

  /**
   * Hands listeners every committed event after the last one published, in seq order. One pass at a
   * time; a call during a pass makes it read once more, and resolves when that read is done.
   * (The events of this process's own units of work may have been handed out meanwhile, see
   * `publishCommitted`: a row at or below the last seq published is not handed out twice.)
   */
  publish(): Promise<void> {
    if (this.publishing) {
      this.publishAgain = true;
      return this.publishing;
    }
    this.publishing = (async () => {
      try {
        do {
          this.publishAgain = false;
          for (;;) {
            const page = await (this.store.readTail ?? this.store.read).all<EventRow>(SELECT_UNPUBLISHED, [this.published, PUBLISH_PAGE]);
            for (const row of page) if (row.seq > this.published) this.hand(toPublished(row), row);
            if (page.length < PUBLISH_PAGE) break;
            // A long backlog (another replica's burst) is handed out a page at a time, letting requests in between.
            await this.breathe();
          }
        } while (this.publishAgain);
      } finally {
        this.publishing = null;
      }
    })();
    return this.publishing;
  }

  /**
   * After a unit of work of this process committed: its events follow the last seq published when
   * nothing else was committed in between (commit order is seq order), and are handed out as they
   * are; otherwise — another process or replica committed first and it has not been read yet — the
   * log is read from the last seq published, so no listener sees a gap.
   */
  private async publishCommitted(unit: UnitOfWork): Promise<void> {
    const first = unit.events[0];
    if (first && first.seq === this.published + 1) {
      for (const e of unit.events) this.hand(e);
      return;
    }
    if (this.published < unit.head.seq) await this.publish();
  }

  /** `row` as read from the store; an event of this process's own unit is checked in the form it was hashed. */
  private hand(e: RewindEvent, row?: EventRow): void {
    this.rowCheck?.(row ?? { ...e, payload: JSON.stringify(e.payload) });
    this.published = e.seq;
    this.outbox.published(e);
    for (const l of this.listeners) l(e);
  }

  now(): string {
    return this.clock().toISOString();
  }

  /**
   * Rows a long page reads at once before the event loop gets a turn: on SQLite about a millisecond's
   * worth (its statements are synchronous); on PostgreSQL the whole page (its reads wait on a socket,
   * letting other requests in, and a smaller LIMIT can tip the planner onto another index).
   */
  get readStep(): number {
    return this.store.kind === 'sqlite' ? 250 : Number.POSITIVE_INFINITY;
  }

  /**
   * Lets the event loop run between the steps of a long read (SQLite's statements are synchronous: a
   * large page read in one go holds every other request). Inside a mutation it does not: the unit of
   * work keeps the connection, and nothing could use the pause.
   */
  breathe(): Promise<void> {
    return this.inMutation() ? Promise.resolve() : new Promise((resolve) => setImmediate(resolve));
  }

  /** Sets the check each committed event passes as it is read for publication, in seq order. */
  checkRows(check: (row: EventRow) => void): void {
    this.rowCheck = check;
  }

  /** Runs `fn` outside the caller's unit of work (its own mutation, not a savepoint of the caller's). */
  detached<T>(fn: () => T): T {
    return this.unit.exit(fn);
  }

  /**
   * Runs `fn` with the clock stopped at `at` (seeding a history that happened over past days);
   * `advance` moves that stopped clock, so seeded runs take their simulated time.
   */
  async atTime<T>(at: Date, fn: () => Promise<T>): Promise<T> {
    const saved = this.clock;
    let t = at.getTime();
    this.clock = () => new Date(t);
    this.advanceBy = (ms) => {
      t += ms;
    };
    try {
      return await fn();
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

  /**
   * Runs `fn` as one unit of work: lock the chain head, then whatever `fn` reads and writes, then its
   * events, commit. Inside another mutation it is a savepoint of that one: its failure undoes only
   * its own writes. `fn` may await the store and nothing else: no timers, no network, no node's work.
   */
  async mutate<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.unit.getStore();
    if (outer) return this.nested(outer, fn);
    // PostgreSQL re-runs `fn` after a serialization failure: what counts is the attempt that committed, the last.
    let committed: UnitOfWork | null = null;
    const result = await this.store.transaction(async (tx) => {
      const unit: UnitOfWork = { tx, head: await tx.lockHead(), events: [], afterCommit: [], depth: 0 };
      committed = unit;
      const value = await this.unit.run(unit, fn);
      if (unit.events.length > 0) await tx.setHead(unit.head);
      return value;
    });
    const unit = committed as UnitOfWork | null;
    if (!unit) return result;
    await this.publishCommitted(unit);
    // Follow-up work runs outside the finished unit of work (a run's drive must not inherit its transaction).
    for (const f of unit.afterCommit) await this.unit.exit(f);
    return result;
  }

  private async nested<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
    unit.depth += 1;
    const savepoint = `nested_${unit.depth}`;
    const saved = { head: unit.head, events: unit.events.length, afterCommit: unit.afterCommit.length };
    await unit.tx.run(`SAVEPOINT ${savepoint}`);
    try {
      const value = await fn();
      await unit.tx.run(`RELEASE SAVEPOINT ${savepoint}`);
      return value;
    } catch (err) {
      // Its rows, its events and the follow-ups it queued go; the outer unit of work carries on.
      await unit.tx.run(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      await unit.tx.run(`RELEASE SAVEPOINT ${savepoint}`);
      unit.head = saved.head;
      unit.events.length = saved.events;
      unit.afterCommit.length = saved.afterCommit;
      throw err;
    } finally {
      unit.depth -= 1;
    }
  }

  /** Appends an event inside the current mutation, after the head it locked, with its webhook deliveries. */
  async append(e: NewEvent): Promise<RewindEvent> {
    const unit = this.unit.getStore();
    if (!unit) throw new Error('append outside a mutation');
    const event = await appendEvent(unit.tx, unit.head, e);
    // The webhook outbox fills in the event's own transaction: both commit, or neither. Its kept list
    // of webhooks holds for the unit's first append when every committed event was published here.
    await this.outbox.enqueue(unit.tx, event, unit.head.seq === this.published);
    unit.head = { seq: event.seq, hash: event.hash };
    unit.events.push(event);
    for (const observe of this.appendObservers) await observe(event);
    return event;
  }

  /** Registers a rule that follows the log as it is written (incident records); it sees the events it appends too. */
  observeAppends(observer: AppendObserver): void {
    this.appendObservers.push(observer);
  }

  /** Runs `fn` once the current mutation has committed (at once outside one); a promise it returns is awaited by the mutation. */
  afterCommit(fn: () => void | Promise<void>): void {
    const unit = this.unit.getStore();
    if (unit) unit.afterCommit.push(fn);
    else void fn();
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last seq handed to listeners. */
  get publishedSeq(): number {
    return this.published;
  }

  stop(): void {
    this.offExternal();
  }
}

// The columns appendEvent writes, so an event read back has the shape of one handed out as appended.
const SELECT_UNPUBLISHED = 'SELECT seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?';
const PUBLISH_PAGE = 1000;

function toPublished(row: EventRow): RewindEvent {
  return { ...row, payload: JSON.parse(row.payload) as Record<string, unknown> };
}
