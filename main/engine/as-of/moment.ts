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

const HEAD = 'SELECT seq, ts FROM events ORDER BY seq DESC LIMIT 1';
const AT_SEQ = 'SELECT seq, ts FROM events WHERE seq = ?';
// Through the (ts, seq) index: the newest event at or before a time.
const AT_TIME = 'SELECT seq, ts FROM events WHERE ts <= ? ORDER BY ts DESC, seq DESC LIMIT 1';
const SAME_MS_AFTER = "SELECT run_id, type FROM events WHERE ts = ? AND seq > ? AND run_id IS NOT NULL AND type LIKE 'run\\_%' ESCAPE '\\'";

const RUN_ENDS = new Set(['run_succeeded', 'run_failed', 'run_cancelled', 'run_interrupted', 'run_denied']);

function future(what: string, head: number): RewindError {
  return new RewindError('AS_OF_IN_FUTURE', `${what} has not happened yet (the log ends at event ${head}).`, 'Give a past moment: an event seq up to the head (events:head), or a time up to now; leave as_of out to read now.', {
    head_seq: head,
  });
}

/** Resolves `as_of` (digits: a seq; otherwise an RFC 3339 time) against the log; `now` is the engine's clock. */
export async function resolveMoment(q: Queryable, asOf: string, now: string): Promise<Moment> {
  const head = (await q.get<{ seq: number; ts: string }>(HEAD)) ?? { seq: 0, ts: null };
  let at: { seq: number; ts: string } | undefined;
  if (/^\d+$/.test(asOf)) {
    const seq = Number(asOf);
    if (seq > head.seq) throw future(`Event ${seq}`, head.seq);
    at = seq === 0 ? undefined : await q.get<{ seq: number; ts: string }>(AT_SEQ, [seq]);
  } else {
    const time = new Date(asOf);
    if (time.getTime() > new Date(now).getTime()) throw future(`${asOf}`, head.seq);
    at = await q.get<{ seq: number; ts: string }>(AT_TIME, [time.toISOString()]);
  }
  if (!at) return { seq: 0, ts: null, lateStarts: [], lateEnds: [] };
  const late = await q.all<{ run_id: string; type: string }>(SAME_MS_AFTER, [at.ts, at.seq]);
  return {
    seq: at.seq,
    ts: at.ts,
    lateStarts: late.filter((e) => e.type === 'run_started').map((e) => e.run_id),
    lateEnds: late.filter((e) => RUN_ENDS.has(e.type)).map((e) => e.run_id),
  };
}
