import type { Dsl, Faults } from '../../../preload/contract/entities.js';
import { RewindError } from '../errors.js';
import { paramDefaults, refuseReservedParams } from '../dsl/run-params.js';
import { answerPathsRead } from '../dsl/reads.js';
import { topologicalOrder, typedNodes } from '../dsl/graph.js';
import type { Condition, JudgmentParams, RealNode, TaskParams, TransformParams, TypedNode } from '../dsl/node-params.js';
import { OUTPUTS_KEY, getPath, setPath } from '../dsl/paths.js';
import { compare } from './conditions.js';
import { nodeRandom } from './rng.js';

/*
 * The sandbox executor: runs a DSL deterministically and reports each node as it completes. It does
 * no I/O and keeps no clock; the caller writes a checkpoint per step and decides how long
 * `simulated_ms` takes in real time. Everything it yields is plain JSON.
 *
 * The run context is the run's params over the DSL's defaults, plus `outputs[node_id]` for every node
 * that succeeded. A task's `output` and a transform's writes also land at the top level, which is
 * where judgments usually read (`defect_rate`); a judgment's verdict is at `outputs.<id>.<output_key>`.
 */

export interface ExecutionPlan {
  dsl: Dsl;
  /** Run params; the DSL's defaults are applied beneath them. Ignored when `context` is given. */
  params: Record<string, unknown>;
  seed: number;
  /** fail_node: that node fails; crash_at_node: the run is interrupted before that node completes (no step for it). */
  faults: Faults;
  /** Resume: node ids already done in the parent run — skipped. */
  completed?: string[];
  /** Resume: the context from the parent's last good checkpoint. */
  context?: Record<string, unknown>;
  /**
   * Takeover: nodes of this same run that already failed (in checkpoint order). They are not run
   * again, their descendants stay blocked, and the run still ends failed with the first of them.
   */
  failed?: Array<{ node_id: string; error: string | null; denied?: boolean }>;
  /** http and command nodes do real work (a server, a live sandbox); otherwise they answer their `sandbox` stand-in. */
  live?: boolean;
}

/**
 * A node the executor cannot run by itself (real I/O, a timer, an operator's answer): the caller
 * performs it and passes the answer back through the generator's `next(answer)`.
 */
export interface ExternalRequest {
  kind: 'external';
  node: RealNode;
  /** The run context the node's templates read. */
  context: Record<string, unknown>;
  /** An http node with `redact_response`: the paths of its answer the workflow reads. */
  keep?: string[];
}

/**
 * The caller's answer to an ExternalRequest; secrets already redacted. `denied`: an operator's
 * answer to an approval node, an outcome rather than a failure of the node's work.
 */
export type ExternalAnswer = { ok: true; output: unknown } | { ok: false; error: string; denied?: true };

export interface NodeStep {
  node_id: string;
  status: 'succeeded' | 'failed';
  /** The node's output; null when it failed. */
  output: unknown;
  /** The run context after the node (unchanged by a failed node). */
  context: Record<string, unknown>;
  error: string | null;
  simulated_ms: number;
  /** A failed approval node that an operator denied (not a failure of the work). */
  denied?: true;
}

export interface ExecutionEnd {
  /** denied: the only nodes that did not succeed are approvals an operator denied. */
  status: 'succeeded' | 'failed' | 'interrupted' | 'denied';
  /** The first node that failed, or the node the run was interrupted at. */
  failed_node: string | null;
  error: string | null;
  context: Record<string, unknown>;
}

type Context = Record<string, unknown>;
type NodeResult = { ok: true; output: unknown; context: Context } | { ok: false; error: string; denied?: true };

/**
 * The context a fresh run starts with: run params over the declared params' defaults and the DSL's
 * defaults, and no outputs yet. A param naming a reserved key (`outputs`, `server`, `secret`) is
 * refused here too, so a run recorded before that rule cannot set one when it is driven again.
 */
export function initialContext(dsl: Dsl, params: Record<string, unknown>): Context {
  refuseReservedParams(params);
  return { ...structuredClone(dsl.defaults), ...paramDefaults(dsl), ...structuredClone(params), [OUTPUTS_KEY]: {} };
}

/** Refuses faults that name no node of the DSL, which would otherwise make a rehearsal silently fault-free. */
export function validateFaults(dsl: Dsl, faults: Faults): void {
  const ids = new Set(dsl.nodes.map((n) => n.id));
  for (const key of ['fail_node', 'crash_at_node'] as const) {
    const target = faults[key];
    if (target !== undefined && !ids.has(target)) {
      throw new RewindError(
        'VALIDATION_FAILED',
        `The fault ${key} names '${target}', which is not a node of this workflow version.`,
        `Pick one of its nodes: ${dsl.nodes.map((n) => n.id).join(', ')}.`,
        { fault: key, node_id: target },
      );
    }
  }
}

/**
 * Runs the plan's nodes in topological order, yielding one step per node that ran. A failed node
 * stops its descendants; branches that do not depend on it still run, and the run ends failed with
 * the first failure. A crash fault ends the run at once, before its node completes.
 */
export function* execute(plan: ExecutionPlan): Generator<NodeStep | ExternalRequest, ExecutionEnd, ExternalAnswer | undefined> {
  const nodes = new Map(typedNodes(plan.dsl).map((n) => [n.id, n]));
  const order = topologicalOrder(plan.dsl);
  const completed = new Set(plan.completed ?? []);
  let context = plan.context === undefined ? initialContext(plan.dsl, plan.params) : withOutputs(structuredClone(plan.context));
  const blocked = new Set<string>();
  let firstFailure: { node_id: string; error: string } | null = null;
  // A deny ends the run as denied only when nothing else failed: a real failure beside it still counts.
  let onlyDenied = true;
  for (const f of plan.failed ?? []) {
    completed.add(f.node_id);
    firstFailure ??= { node_id: f.node_id, error: f.error ?? `Node '${f.node_id}' failed.` };
    if (!f.denied) onlyDenied = false;
    for (const d of descendants(plan.dsl, f.node_id)) blocked.add(d);
  }

  for (const id of order) {
    if (completed.has(id) || blocked.has(id)) continue;
    if (plan.faults.crash_at_node === id) {
      return {
        status: 'interrupted',
        failed_node: id,
        error: `The run was interrupted at node '${id}' (injected crash) before it completed.`,
        context: structuredClone(context),
      };
    }
    const node = nodes.get(id) as TypedNode;
    let result: NodeResult;
    if (plan.faults.fail_node === id) {
      result = { ok: false, error: `Node '${id}' failed: injected fault (fail_node).` };
    } else if (isExternal(node, plan.live === true)) {
      const keep = node.type === 'http' && node.params.redact_response ? answerPathsRead([...nodes.values()], node) : undefined;
      const answer = yield { kind: 'external', node: node as RealNode, context: structuredClone(context), ...(keep ? { keep } : {}) };
      result = answer === undefined ? { ok: false, error: `Node '${id}' got no answer from the run driver.` } : answer.ok ? absorb(node as RealNode, context, answer.output) : answer;
    } else {
      result = runNode(node, context, plan.seed);
    }
    const simulated_ms = node.type === 'task' ? node.params.duration_ms : (node.type === 'http' || node.type === 'command') && !plan.live ? node.params.sandbox.duration_ms : 0;
    if (result.ok) {
      context = result.context;
      yield { node_id: id, status: 'succeeded', output: structuredClone(result.output), context: structuredClone(context), error: null, simulated_ms };
    } else {
      firstFailure ??= { node_id: id, error: result.error };
      if (!result.denied) onlyDenied = false;
      for (const d of descendants(plan.dsl, id)) blocked.add(d);
      yield { node_id: id, status: 'failed', output: null, context: structuredClone(context), error: result.error, simulated_ms, ...(result.denied ? { denied: true as const } : {}) };
    }
  }

  return firstFailure === null
    ? { status: 'succeeded', failed_node: null, error: null, context: structuredClone(context) }
    : { status: onlyDenied ? 'denied' : 'failed', failed_node: firstFailure.node_id, error: firstFailure.error, context: structuredClone(context) };
}

// A checkpointed context from an older run may lack `outputs` (or hold junk there); nodes need the object.
function withOutputs(context: Context): Context {
  const outputs = context[OUTPUTS_KEY];
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) context[OUTPUTS_KEY] = {};
  return context;
}

function descendants(dsl: Dsl, id: string): Set<string> {
  const next = new Map(dsl.nodes.map((n) => [n.id, n.next]));
  const found = new Set<string>();
  const pending = [...(next.get(id) ?? [])];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    if (found.has(current)) continue;
    found.add(current);
    pending.push(...(next.get(current) ?? []));
  }
  return found;
}

/** wait and approval always go to the caller; http and command only when they run for real. */
function isExternal(node: TypedNode, live: boolean): boolean {
  return node.type === 'wait' || node.type === 'approval' || (live && (node.type === 'http' || node.type === 'command'));
}

function runNode(node: TypedNode, context: Context, seed: number): NodeResult {
  switch (node.type) {
    case 'task':
      return runTask(node.id, node.params, context, seed);
    case 'judgment':
      return succeed(node.id, context, judge(node.params, context));
    case 'transform':
      return runTransform(node.id, node.params, context);
    case 'http':
    case 'command': {
      // Offline: the node's stand-in answer, failing by the same seeded dice as a task.
      const { output, failure_rate } = node.params.sandbox;
      if (failure_rate > 0 && nodeRandom(seed, node.id)() < failure_rate) {
        return { ok: false, error: `${node.type === 'http' ? 'HTTP' : 'Command'} node '${node.id}' failed (sandbox stand-in, failure_rate ${failure_rate}).` };
      }
      return absorb(node, context, output ?? null);
    }
    case 'wait':
    case 'approval':
      return { ok: false, error: `Node '${node.id}' (${node.type}) needs the run driver.` };
  }
}

/** A real node's answer into the context: at its `output_key` (http, command) and at `outputs.<id>`. */
function absorb(node: RealNode, context: Context, output: unknown): NodeResult {
  const work = structuredClone(context);
  if (node.type === 'http' || node.type === 'command') {
    const problem = setPath(work, node.params.output_key, structuredClone(output));
    if (problem !== null) return { ok: false, error: `Node '${node.id}': ${problem}.` };
  }
  const outputs = { ...(work[OUTPUTS_KEY] as Record<string, unknown>), [node.id]: structuredClone(output) };
  return { ok: true, output, context: { ...work, [OUTPUTS_KEY]: outputs } };
}

/** The context after a node succeeded with `output`, with `merge` written at the top level. */
function succeed(id: string, context: Context, output: Record<string, unknown>, merge: Context = {}): NodeResult {
  const outputs = { ...(context[OUTPUTS_KEY] as Record<string, unknown>), [id]: output };
  return { ok: true, output, context: { ...context, ...structuredClone(merge), [OUTPUTS_KEY]: outputs } };
}

function describeCondition(c: Condition, observed: unknown): string {
  return `${c.field} ${c.op} ${JSON.stringify(c.value)} held (observed ${JSON.stringify(observed) ?? 'nothing'})`;
}

function runTask(id: string, params: TaskParams, context: Context, seed: number): NodeResult {
  if (params.fail_if !== undefined) {
    const observed = getPath(context, params.fail_if.field);
    if (compare(observed, params.fail_if.op, params.fail_if.value)) {
      return { ok: false, error: params.error ?? `Task '${id}' failed: ${describeCondition(params.fail_if, observed)}.` };
    }
  }
  // The node's own stream: a resume that skips earlier nodes draws exactly what the full run drew here.
  if (params.failure_rate > 0 && nodeRandom(seed, id)() < params.failure_rate) {
    return { ok: false, error: params.error ?? `Task '${id}' failed (simulated failure, failure_rate ${params.failure_rate}).` };
  }
  return succeed(id, context, structuredClone(params.output), params.output);
}

/** The verdict: the first rule that holds, or the default. `observed` is the value that rule read (the first rule's when none held). */
export function judge(params: JudgmentParams, context: Context): Record<string, unknown> {
  const matched = params.rules.findIndex((rule) => compare(getPath(context, rule.field), rule.op, rule.value));
  const shown = matched >= 0 ? params.rules[matched] : params.rules[0];
  const observed = shown === undefined ? undefined : getPath(context, shown.field);
  return {
    [params.output_key]: matched >= 0 ? (params.rules[matched] as JudgmentParams['rules'][number]).outcome : params.default,
    matched_rule: matched >= 0 ? matched : null,
    observed: observed === undefined ? null : structuredClone(observed),
  };
}

function runTransform(id: string, params: TransformParams, context: Context): NodeResult {
  const work = structuredClone(context);
  // Keyed by the dot path written, in the order written: set, then copy, then scale.
  const written: Record<string, unknown> = {};
  const write = (path: string, value: unknown): string | null => {
    const problem = setPath(work, path, structuredClone(value));
    if (problem === null) written[path] = structuredClone(value);
    return problem;
  };
  const fail = (message: string): NodeResult => ({ ok: false, error: `Transform '${id}': ${message}.` });

  for (const [path, value] of Object.entries(params.set ?? {})) {
    const problem = write(path, value);
    if (problem !== null) return fail(problem);
  }
  for (const [to, from] of Object.entries(params.copy ?? {})) {
    const value = getPath(work, from);
    if (value === undefined) return fail(`copy to '${to}' reads '${from}', which is not in the run context`);
    const problem = write(to, value);
    if (problem !== null) return fail(problem);
  }
  if (params.scale !== undefined) {
    const { field, factor } = params.scale;
    const value = getPath(work, field);
    if (typeof value !== 'number') return fail(`scale reads '${field}', which is ${value === undefined ? 'not in the run context' : `not a number (${JSON.stringify(value)})`}`);
    const scaled = value * factor;
    if (!Number.isFinite(scaled)) return fail(`scaling '${field}' (${value}) by ${factor} leaves the range of numbers`);
    const problem = write(params.scale.to ?? field, scaled);
    if (problem !== null) return fail(problem);
  }
  const outputs = { ...(work[OUTPUTS_KEY] as Record<string, unknown>), [id]: structuredClone(written) };
  return { ok: true, output: written, context: { ...work, [OUTPUTS_KEY]: outputs } };
}
