import type { VersionMetrics } from '../../preload/contract/canary.js';
import type { Dialect, Queryable, SqlValue } from './store/port.js';

/*
 * Health per version without reading every run. Over a version's whole life the figures come from
 * the counters the runs table keeps (migration 0140: counts, a duration histogram, verdict counts,
 * updated by triggers in the transaction that ends a run): a read costs the same at 1k or 100k runs.
 * Over a window (health `since`, a canary's runs since it started) they are computed in SQL — GROUP
 * BY for the counts and verdicts, a window function for the percentiles — over an index range of
 * that window only. Neither path copies a list per row.
 */

const P50 = 50;
const P95 = 95;

/** Nearest rank (1-based) of the `pct` percentile of `n` values: ceil(pct·n/100), in integers as the SQL computes it. */
const rankOf = (pct: number, n: number) => Math.max(1, Math.ceil((pct * n) / 100));

interface StatsRow {
  version: number;
  runs: number;
  succeeded: number;
  failed: number;
}
interface BucketRow {
  version: number;
  runs: number;
  max_ms: number;
}
interface VerdictRow {
  version: number;
  key: string;
  value: string;
  runs: number;
}

function figure(row: StatsRow, p50: number | null, p95: number | null, verdicts: Record<string, Record<string, number>>): VersionMetrics {
  const runs = Number(row.runs);
  const failed = Number(row.failed);
  return { version: Number(row.version), runs, succeeded: Number(row.succeeded), failed, failure_rate: runs === 0 ? 0 : failed / runs, p50_ms: p50, p95_ms: p95, verdicts };
}

function verdictsBy(rows: readonly VerdictRow[]): Map<number, Record<string, Record<string, number>>> {
  const out = new Map<number, Record<string, Record<string, number>>>();
  for (const r of rows) {
    let byKey = out.get(Number(r.version));
    if (!byKey) out.set(Number(r.version), (byKey = {}));
    (byKey[r.key] ??= {})[r.value] = Number(r.runs);
  }
  return out;
}

/**
 * Every version's figures over its whole life, newest version first, from the counters. A
 * percentile is the largest duration of the histogram bucket holding its rank: exact below 100 ms,
 * at most 1 % above the exact value beyond.
 */
export async function lifetimeFigures(q: Queryable, workflowId: string): Promise<VersionMetrics[]> {
  const [stats, buckets, verdicts] = await Promise.all([
    q.all<StatsRow>('SELECT version, runs, succeeded, failed FROM run_version_stats WHERE workflow_id = ? ORDER BY version DESC', [workflowId]),
    q.all<BucketRow>('SELECT version, runs, max_ms FROM run_durations WHERE workflow_id = ? ORDER BY version, bucket', [workflowId]),
    q.all<VerdictRow>('SELECT version, key, value, runs FROM run_verdicts WHERE workflow_id = ?', [workflowId]),
  ]);
  const histograms = new Map<number, BucketRow[]>();
  for (const b of buckets) {
    const list = histograms.get(Number(b.version));
    if (list) list.push(b);
    else histograms.set(Number(b.version), [b]);
  }
  const verdictMap = verdictsBy(verdicts);
  return stats.map((s) => {
    const histogram = histograms.get(Number(s.version)) ?? [];
    return figure(s, percentileOf(histogram, P50), percentileOf(histogram, P95), verdictMap.get(Number(s.version)) ?? {});
  });
}

function percentileOf(histogram: readonly BucketRow[], pct: number): number | null {
  const n = histogram.reduce((sum, b) => sum + Number(b.runs), 0);
  if (n === 0) return null;
  const rank = rankOf(pct, n);
  let seen = 0;
  for (const b of histogram) {
    seen += Number(b.runs);
    if (seen >= rank) return Number(b.max_ms);
  }
  return Number(histogram[histogram.length - 1]!.max_ms);
}

/** Which judged runs of a workflow a window holds (each an index range: workflow, version, then time). */
export interface FigureWindow {
  workflowId: string;
  /** The versions to read (health: those the counters know; a canary: its own). */
  versions: readonly number[];
  /** Runs that ended at or after this time (health `since`). */
  finishedSince?: string;
  /** Runs created at or after this time (a canary's own, not the draft's trial runs before it). */
  createdSince?: string;
}

/** The figures of a window's judged runs, newest version first, computed in SQL; exact percentiles. */
export async function windowFigures(q: Queryable, dialect: Dialect, w: FigureWindow): Promise<VersionMetrics[]> {
  if (w.versions.length === 0) return [];
  // The window's conditions for a table alias (`r.` in the verdicts' join, none elsewhere).
  const conditions = (a: string) =>
    [
      `${a}workflow_id = ?`,
      `${a}version IN (${w.versions.map(() => '?').join(', ')})`,
      `${a}status IN ('succeeded', 'failed', 'interrupted') AND ${a}kind <> 'replay'`,
      ...(w.finishedSince === undefined ? [] : [`${a}finished_at >= ?`]),
      ...(w.createdSince === undefined ? [] : [`${a}created_at >= ?`]),
    ].join(' AND ');
  const params: SqlValue[] = [w.workflowId, ...w.versions, ...(w.finishedSince === undefined ? [] : [w.finishedSince]), ...(w.createdSince === undefined ? [] : [w.createdSince])];
  const duration = dialect.durationMs('started_at', 'finished_at');
  const [stats, ranks, verdicts] = await Promise.all([
    q.all<StatsRow>(
      `SELECT version, COUNT(*) AS runs, SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded, SUM(CASE WHEN status = 'succeeded' THEN 0 ELSE 1 END) AS failed
       FROM runs WHERE ${conditions('')} GROUP BY version ORDER BY version DESC`,
      params,
    ),
    q.all<{ version: number; ms: number; i: number; n: number }>(
      `SELECT version, ms, i, n FROM (
         SELECT version, ms, ROW_NUMBER() OVER (PARTITION BY version ORDER BY ms) AS i, COUNT(*) OVER (PARTITION BY version) AS n
         FROM (SELECT version, ${duration} AS ms FROM runs WHERE ${conditions('')} AND started_at IS NOT NULL AND finished_at IS NOT NULL) durations
       ) ranked WHERE i = (${P50} * n + 99) / 100 OR i = (${P95} * n + 99) / 100`,
      params,
    ),
    q.all<VerdictRow>(
      `SELECT r.version, j.key, j.value, COUNT(*) AS runs FROM runs r, ${dialect.jsonEntries('r.verdicts')} j
       WHERE ${conditions('r.')} AND r.verdicts IS NOT NULL GROUP BY r.version, j.key, j.value`,
      params,
    ),
  ]);
  const percentiles = new Map<number, { p50: number | null; p95: number | null }>();
  for (const r of ranks) {
    const at = percentiles.get(Number(r.version)) ?? { p50: null, p95: null };
    if (Number(r.i) === rankOf(P50, Number(r.n))) at.p50 = Number(r.ms);
    if (Number(r.i) === rankOf(P95, Number(r.n))) at.p95 = Number(r.ms);
    percentiles.set(Number(r.version), at);
  }
  const verdictMap = verdictsBy(verdicts);
  return stats.map((s) => {
    const p = percentiles.get(Number(s.version));
    return figure(s, p?.p50 ?? null, p?.p95 ?? null, verdictMap.get(Number(s.version)) ?? {});
  });
}
