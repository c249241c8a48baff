import { AsyncLocalStorage } from 'node:async_hooks';
import type { RewindEvent } from '../../preload/contract/entities.js';
import { EventLog, type NewEvent, appendEvent } from './event-log.js';
import type { ChainHead, Queryable, Store, Tx } from './store/port.js';
import { enqueueDeliveries } from './webhooks/outbox.js';

export type EventListener = (event: RewindEvent) => void;
/** Hears an event inside the mutation that appends it: what it writes and appends commits with that event, or not at all. */
export type AppendObserver = (event: RewindEvent) => Promise<void>;

/** The open unit of work of a mutation: its transaction, the chain head it locked, what runs after commit. */
interface UnitOfWork {
  tx: Tx;
  head: ChainHead;
  appended: boolean;
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

  private constructor(
    readonly store: Store,
    private clock: () => Date,
  ) {
    this.events = new EventLog(() => this.q());
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
            const page = await this.store.read.all<Parameters<typeof toPublished>[0]>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [this.published, 1000]);
            for (const row of page) {
              const e = toPublished(row);
              this.published = e.seq;
              for (const l of this.listeners) l(e);
            }
            if (page.length < 1000) break;
          }
        } while (this.publishAgain);
      } finally {
        this.publishing = null;
      }
    })();
    return this.publishing;
  }

  now(): string {
    return this.clock().toISOString();
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
    const work: UnitOfWork[] = [];
    const result = await this.store.transaction(async (tx) => {
      const unit: UnitOfWork = { tx, head: await tx.lockHead(), appended: false, afterCommit: [], depth: 0 };
      work.push(unit);
      const value = await this.unit.run(unit, fn);
      if (unit.appended) await tx.setHead(unit.head);
      return value;
    });
    await this.publish();
    // Follow-up work runs outside the finished unit of work (a run's drive must not inherit its transaction).
    for (const f of work[0]?.afterCommit ?? []) await this.unit.exit(f);
    return result;
  }

  private async nested<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
    unit.depth += 1;
    const savepoint = `nested_${unit.depth}`;
    const saved = { head: unit.head, appended: unit.appended, afterCommit: unit.afterCommit.length };
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
      unit.appended = saved.appended;
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
    // The webhook outbox fills in the event's own transaction: both commit, or neither.
    await enqueueDeliveries(unit.tx, event);
    unit.head = { seq: event.seq, hash: event.hash };
    unit.appended = true;
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

function toPublished(row: Omit<RewindEvent, 'payload'> & { payload: string }): RewindEvent {
  return { ...row, payload: JSON.parse(row.payload) as Record<string, unknown> };
}
