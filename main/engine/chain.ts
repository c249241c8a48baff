import type { ChainStatus } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { type EventRow, GENESIS_HASH, SELECT_HEAD, hashEvent } from './event-log.js';
import type { ChainHead } from './store/port.js';

/*
 * The hash chain's guard: start in constant time, and still find every edit.
 *
 * - At open only the tail is verified: the events after the verified head kept in `chain_verified`
 *   (written by the process that verified them), starting from that head's own event, whose content
 *   must still hash to the stored hash. A log that ends before the verified head was cut back.
 * - While open, every event published (this process's and other replicas') is checked as it
 *   arrives, and the verified head follows it into the store every few seconds and at close.
 * - In the background (a server, the console's sandboxes) the whole chain from the first event is
 *   walked again, in chunks that yield the event loop, now and then every `everyMs`; `rewind
 *   verify` and `GET /api/v1/events/verify` walk it at once. These find an edit of an event that
 *   was verified before, which the start no longer reads.
 * - A break found while open is remembered in the store (the next start knows it without walking
 *   the chain) and announced once, across replicas, by a `chain_broken` event.
 */

/** What this process knows of the chain now; `verified_seq` is how far it has walked the whole chain from the first event. */
export interface ChainState {
  ok: boolean;
  first_broken_seq: number | null;
  reason: string | null;
  verified_seq: number;
}

export interface ChainGuardOptions {
  /** Who verifies, recorded with the verified head (`server@host-pid`, `console@…`). */
  by: string;
  /** Walk the whole chain in the background after open, then every `everyMs` (0: once). Absent: only on request. */
  background?: { everyMs: number };
  /** Events read per step of a whole-chain walk, between two yields of the event loop. */
  chunk?: number;
  /** A pause between two steps of a background walk, so it takes a small share of a busy server. */
  pauseMs?: number;
  /** How often the verified head follows the live chain into the store. */
  persistEveryMs?: number;
}

interface VerifiedRow {
  seq: number;
  hash: string;
  verified_by: string | null;
  verified_at: string | null;
  broken_seq: number | null;
  broken_reason: string | null;
}

/** One link's check against the link before it: the reason it is broken, or null. */
export function linkProblem(row: EventRow, prev: ChainHead): string | null {
  if (row.seq !== prev.seq + 1) return `seq ${row.seq} follows seq ${prev.seq}: events ${prev.seq + 1}–${row.seq - 1} are missing`;
  if (row.prev_hash !== prev.hash) return `event ${row.seq} does not point at the hash of event ${prev.seq}`;
  const { hash, ...rest } = row;
  if (hashEvent(rest) !== hash) return `event ${row.seq} was altered after it was written (its hash does not match its content)`;
  return null;
}

const SELECT_VERIFIED = 'SELECT seq, hash, verified_by, verified_at, broken_seq, broken_reason FROM chain_verified WHERE id = 1';
const SELECT_EVENT = 'SELECT * FROM events WHERE seq = ?';
const SELECT_AFTER = 'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?';
// Only forward: replicas (and a CLI beside a console) each move it as far as they verified.
const MOVE_HEAD = 'UPDATE chain_verified SET seq = ?, hash = ?, verified_by = ?, verified_at = ? WHERE id = 1 AND seq < ?';
const FULL_PASS = 'UPDATE chain_verified SET full_seq = ?, full_at = ?, full_by = ?, broken_seq = NULL, broken_reason = NULL, broken_at = NULL, broken_by = NULL WHERE id = 1';
const MARK_BROKEN = 'UPDATE chain_verified SET broken_seq = ?, broken_reason = ?, broken_at = ?, broken_by = ? WHERE id = 1';

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const now = () => new Date().toISOString();

export class ChainGuard {
  /** The chain as the open found it: the stored head's event, the tail after it, and a break remembered from before. */
  atOpen!: ChainStatus;
  private broken: { seq: number; reason: string } | null = null;
  /** The last link verified (at open, then each one published). */
  private live: ChainHead = { seq: 0, hash: GENESIS_HASH };
  /** The verified head the store held at open. */
  private stored: ChainHead = { seq: 0, hash: GENESIS_HASH };
  private persisted = 0;
  /** How far the first whole-chain walk has come; then whether one has ended. */
  private walked = 0;
  private walkedOnce = false;
  /** The break known at open came only from the store's mark (a walk of an earlier process), not from this open's own check. */
  private brokenByMark = false;
  private walking: Promise<ChainStatus> | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  private backgroundTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly brokenListeners = new Set<(state: ChainState, found: 'live' | 'background' | 'verify') => void>();
  private readonly chunk: number;

  private constructor(
    private readonly core: EngineCore,
    private readonly options: ChainGuardOptions,
  ) {
    this.chunk = options.chunk ?? 1000;
  }

  /** Verifies the tail after the stored verified head, then checks each published event. */
  static async open(core: EngineCore, options: ChainGuardOptions): Promise<ChainGuard> {
    const guard = new ChainGuard(core, options);
    guard.atOpen = await guard.verifyTail();
    core.checkRows((row) => guard.check(row));
    if (guard.atOpen.ok) await guard.persist();
    // A chain already known broken has nothing for a background walk to find; `verify` still walks it on request.
    if (options.background && guard.atOpen.ok) guard.scheduleBackground(0);
    return guard;
  }

  state(): ChainState {
    return {
      ok: this.broken === null,
      first_broken_seq: this.broken?.seq ?? null,
      reason: this.broken?.reason ?? null,
      // Once a walk has ended, each event checked as it arrived extends what it verified.
      verified_seq: this.walkedOnce ? this.live.seq : this.walked,
    };
  }

  /** Told once of a break found while open (not of one found at open: the start reports that). */
  onBroken(listener: (state: ChainState, found: 'live' | 'background' | 'verify') => void): () => void {
    this.brokenListeners.add(listener);
    return () => this.brokenListeners.delete(listener);
  }

  /**
   * Walks the whole chain from the first event to the head, in chunks that yield the event loop. One
   * walk at a time: a call during one (the background's, another request's) shares its answer.
   */
  verifyAll(): Promise<ChainStatus> {
    this.walking ??= this.walk('verify', 0).finally(() => {
      this.walking = null;
    });
    return this.walking;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.backgroundTimer) clearTimeout(this.backgroundTimer);
    if (this.persistTimer) clearTimeout(this.persistTimer);
    await this.walking?.catch(() => undefined);
    if (this.broken === null && this.core.store.healthy) await this.persist().catch(() => undefined);
  }

  private async verifyTail(): Promise<ChainStatus> {
    const q = this.core.store.read;
    // The stored head before the log's: whatever it names was committed before, so the log read after holds it.
    const stored = (await q.get<VerifiedRow>(SELECT_VERIFIED))!;
    this.stored = { seq: stored.seq, hash: stored.hash };
    const head = (await q.get<ChainHead>(SELECT_HEAD)) ?? { seq: 0, hash: GENESIS_HASH };
    const by = `${stored.verified_by ?? 'an earlier process'}${stored.verified_at ? ` at ${stored.verified_at}` : ''}`;
    const broken = (seq: number, reason: string, length: number, headHash: string): ChainStatus => {
      this.broken = { seq, reason };
      return { ok: false, length, head_hash: headHash, first_broken_seq: seq, reason };
    };
    if (stored.seq > head.seq) {
      return broken(head.seq + 1, `events ${head.seq + 1}–${stored.seq} were verified by ${by} and are gone: the log was cut back to event ${head.seq}`, head.seq, head.hash);
    }
    let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
    if (stored.seq > 0) {
      const row = await q.get<EventRow>(SELECT_EVENT, [stored.seq]);
      if (!row) return broken(stored.seq, `event ${stored.seq}, verified by ${by}, is missing`, stored.seq - 1, '');
      const { hash, ...rest } = row;
      if (hash !== stored.hash || hashEvent(rest) !== hash) {
        return broken(stored.seq, `event ${stored.seq} is not the event verified by ${by}: it was altered or rewritten since`, stored.seq - 1, row.prev_hash);
      }
      prev = { seq: row.seq, hash: row.hash };
    }
    for (;;) {
      const rows = await q.all<EventRow>(SELECT_AFTER, [prev.seq, this.chunk]);
      for (const row of rows) {
        const problem = linkProblem(row, prev);
        if (problem) return broken(row.seq, problem, prev.seq, prev.hash);
        prev = { seq: row.seq, hash: row.hash };
      }
      if (rows.length < this.chunk) break;
      await yieldLoop();
    }
    this.live = prev;
    this.persisted = stored.seq;
    // Remembered from a whole-chain walk of an earlier process: the tail does not reach it, but it stands until a walk finds the chain whole.
    if (stored.broken_seq !== null) {
      this.brokenByMark = true;
      return broken(stored.broken_seq, stored.broken_reason ?? 'a whole-chain walk found it broken', stored.broken_seq - 1, '');
    }
    return { ok: true, length: prev.seq, head_hash: prev.hash, first_broken_seq: null, reason: null };
  }

  /** One published event, checked against the last verified link (events at or before it were verified already). */
  private check(row: EventRow): void {
    if (this.broken || row.seq <= this.live.seq) return;
    const problem = linkProblem(row, this.live);
    if (problem) {
      void this.found(row.seq, problem, 'live');
      return;
    }
    this.live = { seq: row.seq, hash: row.hash };
    if (!this.persistTimer && !this.closed) {
      this.persistTimer = setTimeout(() => {
        this.persistTimer = null;
        void this.persist().catch(() => undefined);
      }, this.options.persistEveryMs ?? 2000);
      this.persistTimer.unref();
    }
  }

  /** Moves the stored verified head to the last link verified here (forward only). */
  private async persist(): Promise<void> {
    const head = this.live;
    if (head.seq <= this.persisted || this.broken) return;
    await this.core.store.transaction((tx) => tx.run(MOVE_HEAD, [head.seq, head.hash, this.options.by, now(), head.seq]));
    this.persisted = head.seq;
  }

  private scheduleBackground(delayMs: number): void {
    if (this.closed || !this.options.background) return;
    this.backgroundTimer = setTimeout(() => {
      this.backgroundTimer = null;
      this.walking ??= this.walk('background', this.options.pauseMs ?? 5).finally(() => {
        this.walking = null;
      });
      void this.walking.then(
        () => {
          const every = this.options.background?.everyMs ?? 0;
          if (every > 0 && this.broken === null) this.scheduleBackground(every);
        },
        () => undefined,
      );
    }, delayMs);
    this.backgroundTimer.unref();
  }

  /**
   * The whole chain from the first event to the last link verified live when the walk began — or,
   * when nothing was verified live (a chain found broken at open), to the log's head and at least
   * to the stored verified head, which the chain must still hold.
   */
  private async walk(found: 'background' | 'verify', pauseMs: number): Promise<ChainStatus> {
    const q = this.core.store.read;
    const liveKnown = this.broken === null || this.brokenByMark;
    const known = liveKnown ? { ...this.live } : this.stored;
    // To the head as stored: events another process or replica committed count before this one has heard of them.
    const end = Math.max(known.seq, ((await q.get<ChainHead>(SELECT_HEAD)) ?? { seq: 0 }).seq);
    let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
    const brokenAt = async (seq: number, reason: string): Promise<ChainStatus> => {
      await this.found(seq, reason, found);
      return { ok: false, length: prev.seq, head_hash: prev.hash, first_broken_seq: seq, reason };
    };
    while (prev.seq < end) {
      if (this.closed) throw new Error('The engine closed during a whole-chain walk.');
      const rows = await q.all<EventRow>(SELECT_AFTER, [prev.seq, Math.min(this.chunk, end - prev.seq)]);
      if (rows.length === 0) return brokenAt(prev.seq + 1, `events ${prev.seq + 1}–${known.seq}, verified before, are gone: the log was cut back to event ${prev.seq}`);
      for (const row of rows) {
        const problem = linkProblem(row, prev);
        if (problem) return brokenAt(row.seq, problem);
        // An edit of a verified event with every later hash recomputed chains fine: it must still end in the link verified before.
        if (row.seq === known.seq && row.hash !== known.hash) return brokenAt(row.seq, `event ${row.seq} is not the event verified before: it was rewritten since`);
        prev = { seq: row.seq, hash: row.hash };
      }
      if (!this.walkedOnce) this.walked = prev.seq;
      await (pauseMs > 0 ? sleep(pauseMs) : yieldLoop());
    }
    if (this.broken !== null) {
      // Whole now (a mark of an earlier walk, or a break seen at open, no longer holds): checks go on from here.
      this.broken = null;
      this.brokenByMark = false;
      if (!liveKnown) this.live = prev;
    }
    this.walkedOnce = true;
    await this.core.store.transaction((tx) => tx.run(FULL_PASS, [prev.seq, now(), this.options.by])).catch(() => undefined);
    return { ok: true, length: prev.seq, head_hash: prev.hash, first_broken_seq: null, reason: null };
  }

  /**
   * A break found while open: remembered (the earliest one), marked in the store so the next start
   * knows it, and announced by `chain_broken` — once, however many replicas find it (the mark is
   * read and written under the chain-head lock).
   */
  private async found(seq: number, reason: string, found: 'live' | 'background' | 'verify'): Promise<void> {
    if (this.broken && this.broken.seq <= seq) return;
    this.broken = { seq, reason };
    const state = this.state();
    for (const l of this.brokenListeners) l(state, found);
    if (this.closed) return;
    // Outside whatever unit of work the finding ran in: the announcement is its own.
    await this.core
      .detached(() => this.core.mutate(async () => {
        const q = this.core.q();
        const mark = await q.get<{ broken_seq: number | null }>('SELECT broken_seq FROM chain_verified WHERE id = 1');
        if (mark?.broken_seq !== null && mark?.broken_seq !== undefined && mark.broken_seq <= seq) return;
        const ts = now();
        await q.run(MARK_BROKEN, [seq, reason, ts, this.options.by]);
        await this.core.append({ type: 'chain_broken', actor: this.options.by, ts: this.core.now(), payload: { first_broken_seq: seq, reason, found_by: found, verified_by: this.options.by } });
      }))
      .catch(() => undefined);
  }
}
