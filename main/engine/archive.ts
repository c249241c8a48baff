import type { ArchivePage, Workflow, WorkflowVersion } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { RewindError } from './errors.js';
import { type CheckpointRow, type RunRow, type VersionRow, type WorkflowRow, toCheckpoints, toRun, toVersion, toWorkflow } from './rows.js';

/*
 * What `rewind archive` exports before retention prunes: finished runs whose checkpoints are still
 * there, by end time (the partial index runs_unpruned_by_finish, the one a pruning pass walks), page
 * by page with a keyset cursor, each with its folded checkpoints and the workflow and version it ran.
 */

const PAGE = (after: boolean, cursor: boolean) => `SELECT * FROM runs WHERE pruned_at IS NULL AND finished_at IS NOT NULL AND finished_at < ?
  ${after ? 'AND finished_at >= ?' : ''} ${cursor ? 'AND (finished_at > ? OR (finished_at = ? AND run_id > ?))' : ''}
  ORDER BY finished_at, run_id LIMIT ?`;
const WORKFLOW = 'SELECT *, 0 AS failed_runs FROM workflows WHERE id = ?';
const VERSION = 'SELECT * FROM workflow_versions WHERE workflow_id = ? AND version = ?';
/** A page stops early rather than answer more than this (a run's checkpoints may be large). */
const PAGE_BYTES = 4 * 1024 * 1024;

export interface ArchiveQuery {
  before: string;
  after?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

export async function archivePage(core: EngineCore, query: ArchiveQuery): Promise<ArchivePage> {
  const q = core.q();
  const before = new Date(query.before).toISOString();
  const after = query.after === undefined ? undefined : new Date(query.after).toISOString();
  const at = query.cursor === undefined ? undefined : parseCursor(query.cursor);
  const params = [before, ...(after === undefined ? [] : [after]), ...(at ? [at.finished_at, at.finished_at, at.run_id] : []), query.limit];
  const rows = await q.all<RunRow>(PAGE(after !== undefined, at !== undefined), params);
  const page: ArchivePage = { runs: [], workflows: [], versions: [], next_cursor: null };
  const workflows = new Map<string, Workflow>();
  const versions = new Map<string, WorkflowVersion>();
  let bytes = 0;
  for (const row of rows) {
    const checkpoints = toCheckpoints(await q.all<CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq', [row.run_id]));
    const entry = { run: toRun(row), checkpoints };
    page.runs.push(entry);
    if (!workflows.has(row.workflow_id)) {
      const wf = await q.get<WorkflowRow>(WORKFLOW, [row.workflow_id]);
      if (wf) workflows.set(row.workflow_id, toWorkflow(wf));
    }
    const key = `${row.workflow_id}\u0000${row.version}`;
    if (!versions.has(key)) {
      const v = await q.get<VersionRow>(VERSION, [row.workflow_id, row.version]);
      if (v) versions.set(key, toVersion(v));
    }
    bytes += JSON.stringify(entry).length;
    if (bytes > PAGE_BYTES) break;
  }
  page.workflows = [...workflows.values()];
  page.versions = [...versions.values()];
  const last = page.runs[page.runs.length - 1]?.run;
  if (last && (page.runs.length < rows.length || rows.length === query.limit)) page.next_cursor = `${last.finished_at ?? ''}|${last.run_id}`;
  return page;
}

function parseCursor(cursor: string): { finished_at: string; run_id: string } {
  const bar = cursor.indexOf('|');
  const finished = cursor.slice(0, bar);
  if (bar <= 0 || !Number.isFinite(Date.parse(finished))) {
    throw new RewindError('VALIDATION_FAILED', `"${cursor}" is not an archive cursor.`, 'Pass the next_cursor of the previous page as it was, or leave it out to start from the first run.', { cursor });
  }
  return { finished_at: finished, run_id: cursor.slice(bar + 1) };
}
