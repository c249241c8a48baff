import type { z } from 'zod';
import { type Dsl, dslSchema } from '../../../preload/contract/entities.js';
import { RewindError } from '../errors.js';
import { type TypedNode, parseNodeParams } from './node-params.js';
import { paramDeclarationProblem } from './run-params.js';
import { paramTemplateProblem } from '../executor/templating.js';
import { type UnsafeTemplate, unsafeTemplate } from '../executor/template-safety.js';

/*
 * Structural rules of a DSL: the contract's shape, unique ids, `next` naming real nodes, no cycle,
 * and params each node type understands. Every refusal is one INVALID_DSL error that names the node
 * and the field, so an operator editing a version can go straight to the mistake.
 */

const SHAPE_HINT = 'A DSL is {"nodes": [{"id", "type": "task"|"judgment"|"transform"|"http"|"command"|"wait"|"approval", "params": {…}, "next": [ids]}], "defaults": {…}}; fix the field named above.';

const PARAMS_HINTS: Record<TypedNode['type'], string> = {
  task: 'task params: duration_ms (number ≥ 0), failure_rate (0–1), fail_if {field, op, value}, output {key: value}, error (message). Fix or remove the field named above.',
  judgment:
    'judgment params: rules [{field, op: > >= < <= == !=, value, outcome}], default (the verdict when no rule matches), output_key. Fix or remove the field named above.',
  transform: 'transform params: set {path: value}, copy {to: from}, scale {field, factor, to?}. Fix or remove the field named above.',
  http: 'http params: method, url (http/https), headers?, body?, timeout_ms? (1 ms–1 day), retries?, backoff_ms?, expect_status? [200, [200, 299]], output_key?, redact_response? (keep only the status and the fields the workflow reads), sandbox? {output, duration_ms, failure_rate}; strings may hold {{ctx.PATH}} and {{secret.NAME}} (run values only in the URL path or query).',
  command: 'command params: argv [program, args…] (never a shell string), cwd?, env? {NAME: value}, timeout_ms? (1 ms–1 day), output_key?, sandbox? {output, duration_ms, failure_rate}; strings may hold {{ctx.PATH}} and {{secret.NAME}} (run values go in env, never in the argv of a shell or interpreter).',
  wait: 'wait params: duration_ms (0 ms–1 day).',
  approval: 'approval params: timeout_ms? (1 ms–1 day), prompt?.',
};

const TEMPLATED: ReadonlySet<TypedNode['type']> = new Set(['http', 'command']);

function invalid(message: string, hint: string, nodeId: string | null, path: string): RewindError {
  return new RewindError('INVALID_DSL', message, hint, { node_id: nodeId, path });
}

function joinPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

function firstIssue(error: z.ZodError): z.core.$ZodIssue {
  // A ZodError always carries at least one issue.
  return error.issues[0] as z.core.$ZodIssue;
}

function describeIssue(issue: z.core.$ZodIssue, relativePath: string): string {
  let text: string = issue.message;
  let where = relativePath;
  // A refused record key: say which key and why, rather than zod's bare "Invalid key in record".
  if (issue.code === 'invalid_key') {
    const key = String(issue.path[issue.path.length - 1]);
    where = `${relativePath.slice(0, relativePath.length - key.length - 1)} key '${key}'`;
    const inner = issue.issues[0]?.message;
    if (inner !== undefined) text = inner;
  }
  const sentence = where === '' ? text : `field ${where}: ${text}`;
  return sentence.endsWith('.') ? sentence : `${sentence}.`;
}

/** The id of `nodes[index]` in raw input, when it has a usable one. */
function rawNodeId(input: unknown, index: number): string | null {
  if (typeof input !== 'object' || input === null) return null;
  const nodes = (input as { nodes?: unknown }).nodes;
  if (!Array.isArray(nodes)) return null;
  const node: unknown = nodes[index];
  if (typeof node !== 'object' || node === null) return null;
  const id = (node as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : null;
}

function shapeError(input: unknown, error: z.ZodError): RewindError {
  const issue = firstIssue(error);
  const path = joinPath(issue.path);
  const [head, index, ...rest] = issue.path;
  if (head === 'nodes' && typeof index === 'number') {
    const nodeId = rawNodeId(input, index);
    const who = nodeId === null ? `Node #${index + 1}` : `Node '${nodeId}'`;
    return invalid(`${who}: ${describeIssue(issue, joinPath(rest))}`, SHAPE_HINT, nodeId, path);
  }
  return invalid(`The DSL is malformed at ${path === '' ? 'the top level' : path}: ${describeIssue(issue, '')}`, SHAPE_HINT, null, path);
}

/** Maps each id to its position, refusing duplicate ids and `next` entries that name no node. */
function indexNodes(dsl: Dsl): Map<string, number> {
  const index = new Map<string, number>();
  dsl.nodes.forEach((node, i) => {
    const first = index.get(node.id);
    if (first !== undefined) {
      throw invalid(
        `Node id '${node.id}' is used twice (nodes ${first + 1} and ${i + 1}).`,
        `Give each node a unique id: rename one of the two, and update any next that should point to it.`,
        node.id,
        `nodes.${i}.id`,
      );
    }
    index.set(node.id, i);
  });
  dsl.nodes.forEach((node, i) => {
    const seen = new Set<string>();
    node.next.forEach((target, j) => {
      if (!index.has(target)) {
        throw invalid(
          `Node '${node.id}': field next.${j} names '${target}', which is not a node of this DSL.`,
          `Point next at an existing node (${knownIds(dsl)}), or add a node with id '${target}'.`,
          node.id,
          `nodes.${i}.next.${j}`,
        );
      }
      if (seen.has(target)) {
        throw invalid(
          `Node '${node.id}': field next.${j} names '${target}' a second time.`,
          `List each following node once in next.`,
          node.id,
          `nodes.${i}.next.${j}`,
        );
      }
      seen.add(target);
    });
  });
  return index;
}

function knownIds(dsl: Dsl): string {
  const ids = dsl.nodes.map((n) => n.id);
  return ids.length <= 12 ? ids.join(', ') : `${ids.slice(0, 12).join(', ')}, …`;
}

/**
 * A cycle, if any: the nodes on it in order, plus the `next` entry that closes it. Depth-first in
 * order of appearance, so the same DSL always reports the same cycle.
 */
function findCycle(dsl: Dsl, index: Map<string, number>): { nodes: string[]; closing: { from: number; slot: number } } | null {
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const colour = new Array<number>(dsl.nodes.length).fill(WHITE);
  for (let root = 0; root < dsl.nodes.length; root += 1) {
    if (colour[root] !== WHITE) continue;
    // Iterative, so a long chain cannot overflow the stack: each frame is a node and its next cursor.
    const stack: Array<{ node: number; slot: number }> = [{ node: root, slot: 0 }];
    colour[root] = GREY;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { node: number; slot: number };
      const next = (dsl.nodes[frame.node] as Dsl['nodes'][number]).next;
      if (frame.slot >= next.length) {
        colour[frame.node] = BLACK;
        stack.pop();
        continue;
      }
      const slot = frame.slot;
      frame.slot += 1;
      const child = index.get(next[slot] as string) as number;
      if (colour[child] === GREY) {
        const start = stack.findIndex((f) => f.node === child);
        const nodes = stack.slice(start).map((f) => (dsl.nodes[f.node] as Dsl['nodes'][number]).id);
        return { nodes, closing: { from: frame.node, slot } };
      }
      if (colour[child] === WHITE) {
        colour[child] = GREY;
        stack.push({ node: child, slot: 0 });
      }
    }
  }
  return null;
}

function cycleError(dsl: Dsl, cycle: NonNullable<ReturnType<typeof findCycle>>): RewindError {
  const from = dsl.nodes[cycle.closing.from] as Dsl['nodes'][number];
  const path = `nodes.${cycle.closing.from}.next.${cycle.closing.slot}`;
  const target = cycle.nodes[0] as string;
  if (cycle.nodes.length === 1) {
    return invalid(
      `Node '${from.id}': field next.${cycle.closing.slot} names the node itself, a cycle.`,
      `A workflow must flow one way: remove '${from.id}' from its own next.`,
      from.id,
      path,
    );
  }
  return invalid(
    `Nodes ${[...cycle.nodes, target].join(' → ')} form a cycle: node '${from.id}', field next.${cycle.closing.slot} leads back to '${target}'.`,
    `A workflow must flow one way: remove one of these next links (for example '${target}' from the next of '${from.id}').`,
    from.id,
    path,
  );
}

/** Each node with its params parsed for its type (defaults applied); refuses params the type does not understand. */
export function typedNodes(dsl: Dsl): TypedNode[] {
  const typed: TypedNode[] = [];
  dsl.nodes.forEach((node, i) => {
    const parsed = parseNodeParams(node);
    if (!parsed.success) {
      const issue = firstIssue(parsed.error);
      const relative = joinPath(['params', ...issue.path]);
      throw invalid(`Node '${node.id}' (${node.type}): ${describeIssue(issue, relative)}`, PARAMS_HINTS[node.type], node.id, `nodes.${i}.${relative}`);
    }
    if (TEMPLATED.has(node.type)) {
      const problem = paramTemplateProblem(node.params, new Set(dsl.nodes.map((n) => n.id)));
      if (problem !== null) {
        const relative = joinPath(['params', ...problem.path]);
        throw invalid(`Node '${node.id}' (${node.type}): field ${relative}: ${problem.message}.`, PARAMS_HINTS[node.type], node.id, `nodes.${i}.${relative}`);
      }
    }
    typed.push(parsed.node);
  });
  return typed;
}

/** Parses and checks a DSL; the parsed DSL (contract defaults applied) or an INVALID_DSL error. */
export function validateDsl(input: unknown): Dsl {
  const parsed = dslSchema.safeParse(input);
  if (!parsed.success) throw shapeError(input, parsed.error);
  const dsl = parsed.data;
  const declaration = paramDeclarationProblem(dsl);
  if (declaration !== null) throw invalid(declaration.message, declaration.hint, null, declaration.path);
  const index = indexNodes(dsl);
  const cycle = findCycle(dsl, index);
  if (cycle !== null) throw cycleError(dsl, cycle);
  dsl.nodes.forEach((node, i) => {
    const unsafe = unsafeTemplate(node.type, node.params);
    if (unsafe !== null) throw unsafeTemplateError(node.id, node.type, i, unsafe);
  });
  typedNodes(dsl);
  return dsl;
}

/** The UNSAFE_TEMPLATE refusal of a node: its id, the param holding the template, and the remedy. */
export function unsafeTemplateError(nodeId: string, type: string, index: number, unsafe: UnsafeTemplate): RewindError {
  const param = unsafe.path.join('.');
  return new RewindError('UNSAFE_TEMPLATE', `Node '${nodeId}' (${type}): ${unsafe.message}`, unsafe.hint, {
    node_id: nodeId,
    param,
    template: unsafe.template,
    path: `nodes.${index}.params.${param}`,
  });
}

/**
 * The order nodes run in: Kahn's algorithm, a node after every node that names it in `next`;
 * among nodes ready at the same time, the one listed first in `dsl.nodes` goes first.
 */
export function topologicalOrder(dsl: Dsl): string[] {
  const index = indexNodes(dsl);
  const indegree = new Array<number>(dsl.nodes.length).fill(0);
  for (const node of dsl.nodes) {
    for (const target of node.next) {
      const t = index.get(target) as number;
      indegree[t] = (indegree[t] as number) + 1;
    }
  }
  const ready: number[] = [];
  indegree.forEach((d, i) => {
    if (d === 0) ready.push(i);
  });
  const order: string[] = [];
  while (ready.length > 0) {
    // `ready` is kept sorted by position, so its head is the earliest-listed ready node.
    const current = ready.shift() as number;
    const node = dsl.nodes[current] as Dsl['nodes'][number];
    order.push(node.id);
    for (const target of node.next) {
      const t = index.get(target) as number;
      indegree[t] = (indegree[t] as number) - 1;
      if (indegree[t] === 0) insertSorted(ready, t);
    }
  }
  if (order.length < dsl.nodes.length) {
    const cycle = findCycle(dsl, index);
    if (cycle !== null) throw cycleError(dsl, cycle);
  }
  return order;
}

function insertSorted(list: number[], value: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}
