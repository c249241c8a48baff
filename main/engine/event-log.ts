import { createHash } from 'node:crypto';
import type { RewindEvent } from '../../preload/contract/entities.js';
import { RewindError } from './errors.js';
import { type EventQuery, readEventPage } from './event-query.js';
import type { ChainHead, Queryable, Tx } from './store/port.js';

export const GENESIS_HASH = '0'.repeat(64);

/** An event as the store holds it (the payload as the JSON text that was hashed). */
export interface EventRow {
  seq: number;
  ts: string;
  type: string;
  workflow_id: string | null;
  run_id: string | null;
  actor: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

export interface NewEvent {
  type: string;
  workflow_id?: string | null;
  run_id?: string | null;
  actor: string;
  ts: string;
  payload: Record<string, unknown>;
}

/** The hash of one link: everything in the row but the hash itself, chained to the previous hash. */
export function hashEvent(e: Omit<EventRow, 'hash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.seq, e.ts, e.type, e.workflow_id, e.run_id, e.actor, e.payload, e.prev_hash]))
    .digest('hex');
}

function toEvent(row: EventRow): RewindEvent {
  return { ...row, payload: JSON.parse(row.payload) as Record<string, unknown> };
}

const INSERT = 'INSERT INTO events (seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
// The newest seq by the primary key's max (one probe on both stores; a plan that reads as the lookup it is).
export const SELECT_HEAD = 'SELECT seq, hash FROM events WHERE seq = (SELECT MAX(seq) FROM events)';
const SELECT_AFTER = 'SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?';
const SELECT_AFTER_FOR_WORKFLOW = 'SELECT * FROM events WHERE seq > ? AND workflow_id = ? ORDER BY seq LIMIT ?';
const SELECT_AFTER_FOR_RUN = 'SELECT * FROM events WHERE seq > ? AND run_id = ? ORDER BY seq LIMIT ?';
const SELECT_AFTER_FOR_WORKFLOW_RUN = 'SELECT * FROM events WHERE seq > ? AND workflow_id = ? AND run_id = ? ORDER BY seq LIMIT ?';

/** Writes one link after `head` inside the caller's transaction; the caller holds the head lock. */
export async function appendEvent(tx: Tx, head: ChainHead, e: NewEvent): Promise<RewindEvent> {
  const base = {
    seq: head.seq + 1,
    ts: e.ts,
    type: e.type,
    workflow_id: e.workflow_id ?? null,
    run_id: e.run_id ?? null,
    actor: e.actor,
    payload: JSON.stringify(e.payload),
    prev_hash: head.hash,
  };
  const row: EventRow = { ...base, hash: hashEvent(base) };
  await tx.run(INSERT, [row.seq, row.ts, row.type, row.workflow_id, row.run_id, row.actor, row.payload, row.prev_hash, row.hash]);
  return toEvent(row);
}

/**
 * The append-only, hash-chained event log: the audit log and the live stream are this one table.
 * Appends happen inside a mutation's transaction (see `EngineCore.append`), so an event commits with
 * the change it records; listeners hear of it only after that commit. Reads go through `q`: the open
 * transaction when there is one, committed data otherwise.
 */
export class EventLog {
  constructor(
    private readonly q: () => Queryable,
    /** How a long page is read: `step` rows at a time, the event loop let through between them (see `EngineCore.readStep`). */
    private readonly pace: { step: number; breathe: () => Promise<void> } = { step: Number.POSITIVE_INFINITY, breathe: () => Promise.resolve() },
  ) {}

  async latestSeq(): Promise<number> {
    return (await this.head()).seq;
  }

  /** The last link of the chain (seq 0 and the genesis hash for an empty log). */
  async head(): Promise<ChainHead> {
    return (await this.q().get<ChainHead>(SELECT_HEAD)) ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Events after a seq, in seq order, read in steps (the event loop runs between them). */
  async list(after: number, limit: number, workflowId?: string, runId?: string): Promise<RewindEvent[]> {
    const sql = runId === undefined ? (workflowId ? SELECT_AFTER_FOR_WORKFLOW : SELECT_AFTER) : workflowId ? SELECT_AFTER_FOR_WORKFLOW_RUN : SELECT_AFTER_FOR_RUN;
    const filters = [...(workflowId ? [workflowId] : []), ...(runId === undefined ? [] : [runId])];
    const out: RewindEvent[] = [];
    for (let from = after; out.length < limit; ) {
      const n = Math.min(this.pace.step, limit - out.length);
      const rows = await this.q().all<EventRow>(sql, [from, ...filters, n]);
      for (const row of rows) out.push(toEvent(row));
      if (rows.length < n) break;
      from = rows[rows.length - 1]!.seq;
      await this.pace.breathe();
    }
    return out;
  }

  /**
   * One bounded page of the log, filtered on the server: newest first below `before` (the audit log
   * scrolling back), else oldest first above `after`. The cursor to pass for the next page comes with
   * it (see event-query.ts).
   */
  async page(query: EventQuery): Promise<{ events: RewindEvent[]; next_before?: number | null; next_after?: number | null }> {
    if (query.since !== undefined && query.until !== undefined && new Date(query.until).getTime() <= new Date(query.since).getTime()) {
      throw new RewindError('INVALID_RANGE', `until (${query.until}) is not after since (${query.since}).`, 'Give a time range whose until comes after its since, or leave one of them out.', {
        since: query.since,
        until: query.until,
      });
    }
    const page = await readEventPage<EventRow>(this.q(), query);
    const events = page.rows.map(toEvent);
    return query.before === undefined ? { events, next_after: page.nextAfter } : { events, next_before: page.nextBefore };
  }
}
