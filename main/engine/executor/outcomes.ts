import type { NodeOutcome } from '../../../preload/contract/entities.js';
import { jsonEqual } from './json-equal.js';

/** A node's result as a replay compares it. */
export interface NodeResultSummary {
  node_id: string;
  status: string;
  output: unknown;
}

// If a node appears more than once (a resumed run restores, then reruns), its latest result counts.
function latestById(results: NodeResultSummary[]): Map<string, { status: string; output: unknown }> {
  const byId = new Map<string, { status: string; output: unknown }>();
  for (const r of results) byId.set(r.node_id, { status: r.status, output: r.output });
  return byId;
}

/**
 * Node-by-node comparison of two runs (a run and its replay): every node id either produced, in
 * order of first appearance (before's, then after's new ones). A node present on one side only is
 * a change; otherwise it changed when its status or its output (deep) differs.
 */
export function diffOutcomes(before: NodeResultSummary[], after: NodeResultSummary[]): NodeOutcome[] {
  const a = latestById(before);
  const b = latestById(after);
  const ids = [...new Set([...before, ...after].map((r) => r.node_id))];
  return ids.map((node_id) => {
    const x = a.get(node_id) ?? null;
    const y = b.get(node_id) ?? null;
    const changed = x === null || y === null || x.status !== y.status || !jsonEqual(x.output, y.output);
    return { node_id, before: x, after: y, changed };
  });
}
