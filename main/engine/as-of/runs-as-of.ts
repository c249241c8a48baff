import type { ParsedInput } from '../../../preload/contract/backend-methods.js';
import type { Run, RunPage } from '../../../preload/contract/entities.js';
import { RewindError } from '../errors.js';
import { type RunRow, toRun } from '../rows.js';
import { decodeCursor, runPage } from '../runs.js';
import type { Queryable, SqlValue } from '../store/port.js';
import type { Moment } from './moment.js';

/*
 * The runs table as it stood at a moment. A run's row is written with its run_started event and
 * changed once more, with its end event, at the same time as that event; so a run existed at the
 * moment when it was created by then, and had ended when it finished by then — with the run events
 * of the moment's own millisecond that come after it (`Moment.late…`) told apart by seq. Before its
 * end a run was in flight: its row says queued/running/waiting while it still is, and running once it
 * has ended since. What an end writes (error, failed node, verdicts) is hidden until then.
 */

const placeholders = (ids: readonly string[]) => ids.map(() => '?').join(', ');

/**
 * Runs that had ended by a moment, on the runs table's own columns (`r`): their row's status and end
 * are what they were then, as an end is final. For counts by version, served by the runs' indexes.
 */
export function endedAsOf(m: Moment & { ts: string }): { sql: string; params: SqlValue[] } {
  return { sql: `r.finished_at <= ?${m.lateEnds.length ? ` AND r.run_id NOT IN (${placeholders(m.lateEnds)})` : ''}`, params: [m.ts, ...m.lateEnds] };
}

/**
 * The open failures at a moment, on the runs table's own columns (so its indexes serve as they do for
 * a read of now): failed or interrupted by then (an end is final: the row says so now too), created
 * after `since`, and not followed by a resume by then. `r` names the runs row; the parameters follow
 * the SQL's order.
 */
export function openFailureAsOf(m: Moment & { ts: string }, since: string): { sql: string; params: SqlValue[] } {
  const notIn = (ids: readonly string[], col: string) => (ids.length ? ` AND ${col} NOT IN (${placeholders(ids)})` : '');
  return {
    sql: `r.status IN ('failed', 'interrupted') AND r.kind <> 'replay' AND r.created_at > ? AND r.created_at <= ? AND r.finished_at <= ?${notIn(m.lateEnds, 'r.run_id')}
      AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_run_id = r.run_id AND c.kind = 'resume' AND c.created_at <= ?${notIn(m.lateStarts, 'c.run_id')})`,
    params: [since, m.ts, m.ts, ...m.lateEnds, m.ts, ...m.lateStarts],
  };
}

/** `(SELECT … FROM runs …)`: a derived table with the runs table's columns, as of `m`, and its parameters. */
export function runsAsOfTable(m: Moment): { sql: string; params: SqlValue[] } {
  if (m.ts === null) return { sql: '(SELECT * FROM runs WHERE 1 = 0)', params: [] };
  const ended = `(finished_at IS NOT NULL AND finished_at <= ?${m.lateEnds.length ? ` AND run_id NOT IN (${placeholders(m.lateEnds)})` : ''})`;
  const endedParams: SqlValue[] = [m.ts, ...m.lateEnds];
  const hidden = (col: string) => `CASE WHEN ${ended} THEN ${col} ELSE NULL END AS ${col}`;
  const sql = `(SELECT run_id, workflow_id, version,
      CASE WHEN ${ended} THEN status WHEN status IN ('queued', 'running', 'waiting') THEN status ELSE 'running' END AS status,
      kind, params, seed, faults, parent_run_id, resumed_from_seq, started_at,
      ${hidden('finished_at')}, ${hidden('error')}, ${hidden('failed_node')}, ${hidden('verdicts')},
      runner_id, created_by, created_at, drawn_reason, trigger, logical_date
    FROM runs WHERE created_at <= ?${m.lateStarts.length ? ` AND run_id NOT IN (${placeholders(m.lateStarts)})` : ''})`;
  return { sql, params: [...endedParams, ...endedParams, ...endedParams, ...endedParams, ...endedParams, m.ts, ...m.lateStarts] };
}

const LIST_FILTERS = ['workflow_id', 'status', 'parent_run_id'] as const;

/** runs:list as of a moment: the same filters, order and paging as now. */
export async function listRunsAsOf(q: Queryable, m: Moment, input: ParsedInput<'runs:list'>): Promise<RunPage> {
  const table = runsAsOfTable(m);
  const columns = LIST_FILTERS.filter((c) => input[c] !== undefined);
  const values: SqlValue[] = columns.map((c) => input[c] ?? null);
  const filters = columns.map((c) => `r.${c} = ?`);
  const where = filters.length ? `WHERE ${filters.join(' AND ')}` : '';
  // Pages as today's list does (newest first; after/before cursors, or offset), on the runs as they stood.
  const cursor = input.after !== undefined ? decodeCursor('after', input.after) : input.before !== undefined ? decodeCursor('before', input.before) : null;
  const keyset = cursor ? [input.before !== undefined ? '(r.created_at > ? OR (r.created_at = ? AND r.run_id > ?))' : '(r.created_at < ? OR (r.created_at = ? AND r.run_id < ?))'] : [];
  const pageWhere = [...filters, ...keyset].length ? `WHERE ${[...filters, ...keyset].join(' AND ')}` : '';
  const order = input.before !== undefined ? 'ASC' : 'DESC';
  const rows = (
    await q.all<RunRow>(`SELECT * FROM ${table.sql} r ${pageWhere} ORDER BY r.created_at ${order}, r.run_id ${order} LIMIT ? OFFSET ?`, [
      ...table.params,
      ...values,
      ...(cursor ? [cursor[0], cursor[0], cursor[1]] : []),
      input.limit + 1,
      cursor ? 0 : input.offset,
    ])
  ).map(toRun);
  const count = await q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table.sql} r ${where}`, [...table.params, ...values]);
  return runPage(rows, input, Number(count?.n ?? 0));
}

/** runs:get as of a moment: a run created after it was not there yet. */
export async function getRunAsOf(q: Queryable, m: Moment, runId: string): Promise<Run> {
  const table = runsAsOfTable(m);
  const row = await q.get<RunRow>(`SELECT * FROM ${table.sql} r WHERE r.run_id = ?`, [...table.params, runId]);
  if (!row) {
    throw new RewindError('RUN_NOT_FOUND', `No run had the id "${runId}" as of event ${m.seq}.`, 'List the runs as of that moment to find its id, or read it without as_of.', { run_id: runId, as_of_seq: m.seq });
  }
  return toRun(row);
}
