import { templateRefs, stringsOf } from '../executor/templating.js';
import type { HttpParams, TypedNode } from './node-params.js';
import { OUTPUTS_KEY } from './paths.js';

/*
 * What a workflow reads from its run context, so an http node with `redact_response` can keep just
 * that of its answer: the fields of its judgments' rules, its tasks' conditions, its transforms'
 * copies and scales, and the `{{ctx.PATH}}` templates of its real nodes.
 */

/** Every context path the nodes read (other than `skip`, the node asking). */
function contextReads(nodes: readonly TypedNode[], skip: string): string[] {
  const reads: string[] = [];
  for (const node of nodes) {
    if (node.id === skip) continue;
    switch (node.type) {
      case 'judgment':
        for (const rule of node.params.rules) reads.push(rule.field);
        break;
      case 'task':
        if (node.params.fail_if) reads.push(node.params.fail_if.field);
        break;
      case 'transform':
        reads.push(...Object.values(node.params.copy ?? {}));
        if (node.params.scale) reads.push(node.params.scale.field);
        break;
      case 'http':
      case 'command':
        for (const { text } of stringsOf(node.params)) {
          for (const ref of templateRefs(text).refs) if (ref.kind === 'ctx') reads.push(ref.path);
        }
        break;
      default:
        break;
    }
  }
  return reads;
}

/**
 * The paths of an http node's answer that the rest of the workflow reads, relative to the answer
 * (its `output_key`, or `outputs.<id>`); '' when a node reads the answer whole.
 */
export function answerPathsRead(nodes: readonly TypedNode[], node: { id: string; params: Pick<HttpParams, 'output_key'> }): string[] {
  const roots = [node.params.output_key, `${OUTPUTS_KEY}.${node.id}`];
  const paths = new Set<string>();
  for (const read of contextReads(nodes, node.id)) {
    for (const root of roots) {
      if (read === root) paths.add('');
      else if (read.startsWith(`${root}.`)) paths.add(read.slice(root.length + 1));
    }
  }
  return [...paths];
}
