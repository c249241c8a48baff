import { RewindError } from '../errors.js';
import type { Queryable } from '../store/port.js';

/*
 * A past moment of the log, as an as-of read names it: an event seq, or a time meaning the last event
 * at or before it. Run rows carry times, not seqs, so the moment also keeps its event's time and the
 * run events written in the same millisecond after it (`late`): those runs had not started, or not
 * ended, yet at that seq.
 */
export interface Moment {
  /** 0: before the first event (the empty state). */
  seq: number;
  /** The time of event `seq`; null before the first event. */
  ts: string | null;
  /** Runs whose run_started has the moment's time but a later seq. */
  lateStarts: string[];
  /** Runs whose end event has the moment's time but a later seq. */
  lateEnds: string[];
}

const HEAD = 'SELECT seq FROM events ORDER BY seq DESC LIMIT 1';
// The moment's event (by seq, or the newest at or before a time through the (ts, seq) index) and, in the
// same round trip, the run events of its millisecond that come after it.
const withLate = (at: string) => `WITH at AS (${at}) SELECT at.seq, at.ts, l.run_id, l.type FROM at
  LEFT JOIN events l ON l.ts = at.ts AND l.seq > at.seq AND l.run_id IS NOT NULL AND l.type LIKE 'run\\_%' ESCAPE '\\'`;
const AT_SEQ = withLate('SELECT seq, ts FROM events WHERE seq = ?');
const AT_TIME = withLate('SELECT seq, ts FROM events WHERE ts <= ? ORDER BY ts DESC, seq DESC LIMIT 1');

const RUN_ENDS = new Set(['run_succeeded', 'run_failed', 'run_cancelled', 'run_interrupted', 'run_denied']);

async function future(q: Queryable, what: string): Promise<RewindError> {
  const head = (await q.get<{ seq: number }>(HEAD))?.seq ?? 0;
  return new RewindError('AS_OF_IN_FUTURE', `${what} has not happened yet (the log ends at event ${head}).`, 'Give a past moment: an event seq up to the head (events:head), or a time up to now; leave as_of out to read now.', {
    head_seq: head,
  });
}

/** Resolves `as_of` (digits: a seq; otherwise an RFC 3339 time) against the log; `now` is the engine's clock. */
interface AtRow {
  seq: number;
  ts: string;
  run_id: string | null;
  type: string | null;
}

/** Resolves `as_of` (digits: a seq; otherwise an RFC 3339 time) against the log; `now` is the engine's clock. */
export async function resolveMoment(q: Queryable, asOf: string, now: string): Promise<Moment> {
  let rows: AtRow[];
  if (/^\d+$/.test(asOf)) {
    const seq = Number(asOf);
    if (seq === 0) return { seq: 0, ts: null, lateStarts: [], lateEnds: [] };
    rows = await q.all<AtRow>(AT_SEQ, [seq]);
    // Seqs have no gaps: a seq the log does not hold is past its head.
    if (rows.length === 0) throw await future(q, `Event ${seq}`);
  } else {
    const time = new Date(asOf);
    if (time.getTime() > new Date(now).getTime()) throw await future(q, asOf);
    rows = await q.all<AtRow>(AT_TIME, [time.toISOString()]);
  }
  const at = rows[0];
  if (!at) return { seq: 0, ts: null, lateStarts: [], lateEnds: [] };
  const late = rows.filter((r): r is AtRow & { run_id: string; type: string } => r.run_id !== null && r.type !== null);
  return {
    seq: at.seq,
    ts: at.ts,
    lateStarts: late.filter((e) => e.type === 'run_started').map((e) => e.run_id),
    lateEnds: late.filter((e) => RUN_ENDS.has(e.type)).map((e) => e.run_id),
  };
}
