import type { Queryable, SqlValue } from './store/port.js';

/*
 * A page of the event log, read through an index at any log size: the audit log's backward pages
 * (newest first, keyset cursor `before`), the catch-up's forward pages (`after`), and the server-side
 * filters by workflow, run, type, actor and time.
 *
 * Every filter column has an index ending with the seq (`events_by_workflow`, `events_audit_by_type`,
 * `events_audit_by_actor`; migration 0160), so one filter is one index range read in seq order.
 * Two or more filters cannot share an index: one of them drives (its index is read), the others are
 * checked on the rows it yields. To keep such a page bounded whatever the data, the driving index is
 * read for at most SCAN_BUDGET entries; a page that ran out of budget before it filled answers the
 * seq where its scan stopped as the next cursor, so a rare combination costs more round trips, never a
 * long one. The driver is the filter whose budget reaches furthest (the sparsest), measured by one
 * index-only probe per filter.
 *
 * A time range becomes a seq window through `events_audit_by_ts`. Seq order is commit order and `ts`
 * is the clock at the append, so they agree up to clock skew (replicas' clocks, a stepped clock):
 * the window is widened by CLOCK_SKEW_MS on each side and `ts` is then checked exactly, so an event
 * is found as long as its clock was less than that out of step with the ones around it.
 */

/**
 * Index entries a filtered page reads past rows of its other filters before answering with a cursor.
 * Each is a row read to check the other filters: ~2,000 of them, spread over a large log that is not
 * in the page cache, take ~25 ms — the bound of one request's time on SQLite's one thread.
 */
export const SCAN_BUDGET = 2_000;
/** How far out of step an event's `ts` may be with its neighbours' and still be found by a time range. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface EventQuery {
  /** Only events with a seq above this (0: from the first). */
  after: number;
  /** Only events with a seq below this; given, the page is the newest of them, newest first. */
  before?: number | undefined;
  limit: number;
  workflowId?: string | undefined;
  runId?: string | undefined;
  /** Any of these types. */
  types?: readonly string[] | undefined;
  actor?: string | undefined;
  /** ISO time, inclusive. */
  since?: string | undefined;
  /** ISO time, exclusive. */
  until?: string | undefined;
}

export interface EventRowPage<Row> {
  rows: Row[];
  /** Newest-first pages: the `before` of the next (older) page; null when nothing older matches. */
  nextBefore: number | null;
  /** Oldest-first pages: the `after` of the next page; null when the page reached the head (or `before`). */
  nextAfter: number | null;
}

/** One equality filter: its predicate as an index may serve it, and as a plain check on a row. */
interface Filter {
  /** Each of these is one index range (a set of types is one range per type). */
  ranges: Array<{ sql: string; params: SqlValue[] }>;
  indexed: { sql: string; params: SqlValue[] };
  /** The same test in a form no index serves (`col || ''`), so the planner reads the driver's index. */
  checked: { sql: string; params: SqlValue[] };
}

function equality(column: string, value: string): Filter {
  const p = { sql: `${column} = ?`, params: [value] };
  return { ranges: [p], indexed: p, checked: { sql: `(${column} || '') = ?`, params: [value] } };
}

function anyOf(column: string, values: readonly string[]): Filter {
  if (values.length === 1) return equality(column, values[0]!);
  const marks = values.map(() => '?').join(', ');
  return {
    ranges: values.map((v) => ({ sql: `${column} = ?`, params: [v] })),
    indexed: { sql: `${column} IN (${marks})`, params: [...values] },
    checked: { sql: `(${column} || '') IN (${marks})`, params: [...values] },
  };
}

const shifted = (iso: string, ms: number) => new Date(new Date(iso).getTime() + ms).toISOString();

/** The seq window (lo, hi) — both exclusive, hi null for none — that holds every event of the time range. */
async function timeWindow(q: Queryable, query: EventQuery): Promise<{ lo: number; hi: number | null }> {
  let lo = query.after;
  let hi = query.before ?? null;
  if (query.since !== undefined) {
    // The last event clearly before the range: nothing at or below its seq can be in it.
    const below = await q.get<{ seq: number }>('SELECT seq FROM events WHERE ts < ? ORDER BY ts DESC, seq DESC LIMIT 1', [shifted(query.since, -CLOCK_SKEW_MS)]);
    if (below) lo = Math.max(lo, below.seq);
  }
  if (query.until !== undefined) {
    // The first event clearly after the range: nothing at or above its seq can be in it.
    const above = await q.get<{ seq: number }>('SELECT seq FROM events WHERE ts >= ? ORDER BY ts, seq LIMIT 1', [shifted(query.until, CLOCK_SKEW_MS)]);
    if (above) hi = hi === null ? above.seq : Math.min(hi, above.seq);
  }
  return { lo, hi };
}

interface Window {
  /** Exclusive bounds; hi null: up to the head. */
  lo: number;
  hi: number | null;
}

const seqBounds = (w: Window): { sql: string[]; params: SqlValue[] } =>
  w.hi === null ? { sql: ['seq > ?'], params: [w.lo] } : { sql: ['seq > ?', 'seq < ?'], params: [w.lo, w.hi] };

/**
 * How far the filter's index reaches within SCAN_BUDGET entries from the page's starting end: the seq
 * of its last entry read (exclusive bound of the rest), or null when the budget covers the whole window.
 */
async function reach(q: Queryable, f: Filter, w: Window, desc: boolean, budget: number): Promise<number | null> {
  let edge: number | null = null;
  for (const range of f.ranges) {
    const b = seqBounds(w);
    const row = await q.get<{ seq: number }>(
      `SELECT seq FROM events WHERE ${[range.sql, ...b.sql].join(' AND ')} ORDER BY seq ${desc ? 'DESC' : ''} LIMIT 1 OFFSET ${budget - 1}`,
      [...range.params, ...b.params],
    );
    if (!row) continue;
    // A set of types is complete only where every type's scan is: the nearest of their edges.
    edge = edge === null ? row.seq : desc ? Math.max(edge, row.seq) : Math.min(edge, row.seq);
  }
  return edge;
}

/**
 * The statement that reads one page: the driver's predicate as its index serves it, the rest as
 * checks. With checks, the page's seqs are picked first from the index alone — the type and actor
 * indexes hold the columns the other filters check (migration 0160) — and only those rows are read.
 * A set of types is read as one ordered, limited branch per type, merged: each branch walks its own
 * index range in seq order, where `type IN (…)` would let a planner without statistics collect every
 * match of the window and sort them.
 */
export function pageStatement(query: EventQuery, w: Window, driver: Filter | null, others: Filter[], desc: boolean): { sql: string; params: SqlValue[] } {
  const checks: string[] = [];
  const checked: SqlValue[] = [];
  for (const f of others) {
    checks.push(f.checked.sql);
    checked.push(...f.checked.params);
  }
  if (query.since !== undefined) {
    checks.push("(ts || '') >= ?");
    checked.push(query.since);
  }
  if (query.until !== undefined) {
    checks.push("(ts || '') < ?");
    checked.push(query.until);
  }
  const b = seqBounds(w);
  const order = `ORDER BY seq ${desc ? 'DESC' : 'ASC'}`;
  const select = (columns: string, lead: { sql: string; params: SqlValue[] } | null) => ({
    sql: `SELECT ${columns} FROM events WHERE ${[...(lead ? [lead.sql] : []), ...checks, ...b.sql].join(' AND ')} ${order} LIMIT ?`,
    params: [...(lead?.params ?? []), ...checked, ...b.params, query.limit],
  });
  const leads = driver ? (driver.ranges.length === 1 ? [driver.indexed] : driver.ranges) : [null];
  if (leads.length === 1 && checks.length === 0) return select('*', leads[0]!);
  const branches = leads.map((lead) => select('seq', lead));
  const seqs = branches.length === 1 ? branches[0]!.sql : branches.map((br, i) => `SELECT seq FROM (${br.sql}) AS branch${i}`).join(' UNION ALL ');
  return {
    sql: `SELECT * FROM events WHERE seq IN (${seqs}) ${order} LIMIT ?`,
    params: [...branches.flatMap((br) => br.params), query.limit],
  };
}

/** The filters of a query, the run's first: a run has a handful of events, whichever index finds them. */
export function filtersOf(query: EventQuery): Filter[] {
  const out: Filter[] = [];
  if (query.runId !== undefined) out.push(equality('run_id', query.runId));
  if (query.workflowId !== undefined) out.push(equality('workflow_id', query.workflowId));
  if (query.types !== undefined && query.types.length > 0) out.push(anyOf('type', query.types));
  if (query.actor !== undefined) out.push(equality('actor', query.actor));
  return out;
}

/** Reads one page of `query` (see the top of this file for how it stays bounded). */
export async function readEventPage<Row extends { seq: number }>(q: Queryable, query: EventQuery, budget = SCAN_BUDGET): Promise<EventRowPage<Row>> {
  const desc = query.before !== undefined;
  const times = { since: query.since === undefined ? undefined : new Date(query.since).toISOString(), until: query.until === undefined ? undefined : new Date(query.until).toISOString() };
  const normalized: EventQuery = { ...query, ...times };
  const w = await timeWindow(q, normalized);
  if (w.hi !== null && w.hi <= w.lo + 1) return { rows: [], nextBefore: null, nextAfter: null };

  const filters = filtersOf(normalized);
  let driver: Filter | null = filters[0] ?? null;
  let others = filters.slice(1);
  // Where the driver's budget ran out (exclusive), when it did.
  let cut: number | null = null;
  if (filters.length > 1 && query.runId === undefined) {
    const reaches = await Promise.all(filters.map((f) => reach(q, f, w, desc, budget)));
    // The filter reaching furthest: a full window (null) beats any edge.
    let best = 0;
    for (let i = 1; i < filters.length; i++) {
      const a = reaches[best]!;
      const b = reaches[i]!;
      if (a === null) break;
      if (b === null || (desc ? b < a : b > a)) best = i;
    }
    driver = filters[best]!;
    others = filters.filter((_, i) => i !== best);
    cut = reaches[best]!;
  }
  const scanned: Window = cut === null ? w : desc ? { lo: cut - 1, hi: w.hi } : { lo: w.lo, hi: cut + 1 };
  const { sql, params } = pageStatement(normalized, scanned, driver, others, desc);
  const rows = await q.all<Row>(sql, params);
  const full = rows.length === query.limit;
  const last = rows[rows.length - 1]?.seq;
  if (desc) return { rows, nextBefore: full ? last! : cut, nextAfter: null };
  return { rows, nextBefore: null, nextAfter: full ? last! : cut };
}
