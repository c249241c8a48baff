import type { Dsl } from '../../../preload/contract/entities.js';

/*
 * Can a run's checkpoints continue under a DSL? A resume skips the nodes the run completed, so each
 * of them must exist in the target; a node missing there would leave its output unaccounted for.
 */

function listIds(ids: string[]): string {
  return ids.join(', ');
}

/**
 * `targetLabel` names the target in the reason (e.g. 'v3'); the caller knows the version number,
 * the DSL does not.
 */
export function checkCompatibility(
  completedNodeIds: string[],
  target: Dsl,
  targetLabel = 'the target version',
): { compatible: boolean; missing_nodes: string[]; reason: string } {
  const present = new Set(target.nodes.map((n) => n.id));
  const completed = [...new Set(completedNodeIds)];
  const missing_nodes = completed.filter((id) => !present.has(id));
  if (missing_nodes.length > 0) {
    const reason =
      missing_nodes.length === 1
        ? `Node ${listIds(missing_nodes)} completed in this run does not exist in ${targetLabel}; resume under a version that has it, or start a new run.`
        : `Nodes ${listIds(missing_nodes)} completed in this run do not exist in ${targetLabel}; resume under a version that has them, or start a new run.`;
    return { compatible: false, missing_nodes, reason };
  }
  if (completed.length === 0) {
    return { compatible: true, missing_nodes, reason: `No node completed in this run, so a resume under ${targetLabel} runs every node from the start.` };
  }
  const remaining = target.nodes.filter((n) => !completed.includes(n.id)).length;
  return {
    compatible: true,
    missing_nodes,
    reason: `Every completed node (${listIds(completed)}) exists in ${targetLabel}; a resume skips ${completed.length === 1 ? 'it' : 'them'} and runs the remaining ${remaining} node${remaining === 1 ? '' : 's'}.`,
  };
}
