import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { ApprovalList, WaitingApproval } from '../../preload/contract/approvals.js';
import type { Engine } from './engine.js';
import { type RunRow, toRun } from './rows.js';

/*
 * Runs waiting at an approval node, with what an approver judges by. The request's own event says
 * which node asks and its prompt; the checkpoints say what the run has done; the version's DSL how
 * much is left. A bounded page (the waiting runs are few: each holds an operator's attention).
 */

const REQUEST = "SELECT ts, payload FROM events WHERE workflow_id = ? AND run_id = ? AND type = 'approval_requested' ORDER BY seq DESC LIMIT 1";
const DONE = "SELECT node_id FROM checkpoints WHERE run_id = ? AND status <> 'failed' ORDER BY seq";
const NAME = 'SELECT name FROM workflows WHERE id = ?';
const FILTERS = ['workflow_id', 'run_id'] as const;

export async function listApprovals(engine: Engine, input: ParsedInput<'approvals:list'>): Promise<ApprovalList> {
  const q = engine.q();
  const columns = FILTERS.filter((c) => input[c] !== undefined);
  const where = ["status = 'waiting'", ...columns.map((c) => `${c} = ?`)].join(' AND ');
  const values = columns.map((c) => input[c] ?? null);
  const rows = await q.all<RunRow>(`SELECT * FROM runs WHERE ${where} ORDER BY created_at, run_id LIMIT ?`, [...values, input.limit]);
  const { n } = (await q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM runs WHERE ${where}`, values))!;
  const names = new Map<string, string>();
  const sizes = new Map<string, number>();
  const approvals: WaitingApproval[] = [];
  for (const row of rows) {
    const run = toRun(row);
    const request = await q.get<{ ts: string; payload: string }>(REQUEST, [run.workflow_id, run.run_id]);
    const payload = request ? (JSON.parse(request.payload) as { node_id?: string | null; prompt?: string | null; timeout_ms?: number | null }) : {};
    if (!names.has(run.workflow_id)) names.set(run.workflow_id, (await q.get<{ name: string }>(NAME, [run.workflow_id]))?.name ?? run.workflow_id);
    const key = `${run.workflow_id}@${run.version}`;
    if (!sizes.has(key)) sizes.set(key, (await engine.versions.get(run.workflow_id, run.version)).dsl_definition.nodes.length);
    approvals.push({
      run,
      workflow_name: names.get(run.workflow_id)!,
      node_id: payload.node_id ?? null,
      prompt: payload.prompt ?? null,
      requested_at: request?.ts ?? null,
      timeout_ms: payload.timeout_ms ?? null,
      done: (await q.all<{ node_id: string }>(DONE, [run.run_id])).map((c) => c.node_id),
      nodes_total: sizes.get(key)!,
    });
  }
  approvals.sort((a, b) => (a.requested_at ?? a.run.created_at).localeCompare(b.requested_at ?? b.run.created_at) || a.run.run_id.localeCompare(b.run.run_id));
  return { approvals, total: Number(n) };
}
