import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ChainStatus, RewindEvent } from '../../preload/contract/entities.js';

export const GENESIS_HASH = '0'.repeat(64);

interface EventRow {
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

/**
 * The append-only, hash-chained event log: the audit log and the live stream are this one table.
 * `append` must run inside the caller's transaction so the event commits with the change it records;
 * listeners hear of it only after that commit (see `Engine.mutate`).
 */
export class EventLog {
  private readonly insert: Database.Statement;
  private readonly selectHead: Database.Statement;
  private readonly selectAfter: Database.Statement;
  private readonly selectAfterForWorkflow: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO events (seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash) VALUES (@seq, @ts, @type, @workflow_id, @run_id, @actor, @payload, @prev_hash, @hash)',
    );
    this.selectHead = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.selectAfter = db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.selectAfterForWorkflow = db.prepare('SELECT * FROM events WHERE seq > ? AND workflow_id = ? ORDER BY seq LIMIT ?');
  }

  /** Appends one event after the current head; seq is head + 1, so the sequence has no gaps. */
  append(e: NewEvent): RewindEvent {
    const head = this.selectHead.get() as { seq: number; hash: string } | undefined;
    const base = {
      seq: (head?.seq ?? 0) + 1,
      ts: e.ts,
      type: e.type,
      workflow_id: e.workflow_id ?? null,
      run_id: e.run_id ?? null,
      actor: e.actor,
      payload: JSON.stringify(e.payload),
      prev_hash: head?.hash ?? GENESIS_HASH,
    };
    const row: EventRow = { ...base, hash: hashEvent(base) };
    this.insert.run(row);
    return toEvent(row);
  }

  latestSeq(): number {
    return this.head().seq;
  }

  /** The last link of the chain (seq 0 and the genesis hash for an empty log). */
  head(): { seq: number; hash: string } {
    return (this.selectHead.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
  }

  list(after: number, limit: number, workflowId?: string): RewindEvent[] {
    const rows = (workflowId ? this.selectAfterForWorkflow.all(after, workflowId, limit) : this.selectAfter.all(after, limit)) as EventRow[];
    return rows.map(toEvent);
  }

  /** Walks the whole chain in pages; reports the first link whose seq, prev_hash or hash is wrong. */
  verify(): ChainStatus {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    const page = 5000;
    for (;;) {
      const rows = this.selectAfter.all(expectedSeq - 1, page) as EventRow[];
      if (rows.length === 0) break;
      for (const row of rows) {
        const broken = (reason: string): ChainStatus => ({ ok: false, length: expectedSeq - 1, head_hash: prevHash, first_broken_seq: row.seq, reason });
        if (row.seq !== expectedSeq) return broken(`seq ${row.seq} follows seq ${expectedSeq - 1}: events ${expectedSeq}–${row.seq - 1} are missing`);
        if (row.prev_hash !== prevHash) return broken(`event ${row.seq} does not point at the hash of event ${row.seq - 1}`);
        const { hash, ...rest } = row;
        if (hashEvent(rest) !== hash) return broken(`event ${row.seq} was altered after it was written (its hash does not match its content)`);
        prevHash = hash;
        expectedSeq += 1;
      }
    }
    return { ok: true, length: expectedSeq - 1, head_hash: prevHash, first_broken_seq: null, reason: null };
  }
}
