import { z } from 'zod';
import type { DslNode } from '../../../preload/contract/entities.js';
import { dotPathSchema, isReservedKey, writablePathSchema } from './paths.js';

/*
 * The `params` of each node type. The contract keeps params as an open record so the console can
 * carry any DSL; these schemas are what the sandbox executor actually understands. All are strict:
 * a misspelt key (`failure_rat`) is refused rather than silently ignored.
 */

export const comparisonOps = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ComparisonOp = (typeof comparisonOps)[number];
const ORDERING_OPS: ReadonlySet<ComparisonOp> = new Set(['>', '>=', '<', '<=']);

const comparisonShape = {
  /** A dot path into the run context. */
  field: dotPathSchema,
  op: z.enum(comparisonOps),
  value: z.union([z.number(), z.string(), z.boolean()]),
};

// `defect_rate > 'high'` compares nothing meaningful; refuse it while the operator is editing.
function orderingNeedsNumber(c: { op: ComparisonOp; value: unknown }, ctx: z.RefinementCtx): void {
  if (ORDERING_OPS.has(c.op) && typeof c.value !== 'number') {
    ctx.addIssue({ code: 'custom', path: ['value'], message: `'${c.op}' compares numbers; give a number value or use == / !=` });
  }
}

/** `{field, op, value}`: true when the context's value at `field` compares so with `value`. */
export const conditionSchema = z.strictObject(comparisonShape).superRefine(orderingNeedsNumber);
export type Condition = z.infer<typeof conditionSchema>;

/** A judgment rule: when its condition holds, the judgment's verdict is `outcome`. */
export const ruleSchema = z
  .strictObject({ ...comparisonShape, outcome: z.string().min(1) })
  .superRefine(orderingNeedsNumber);
export type Rule = z.infer<typeof ruleSchema>;

const outputRecord = z.record(z.string(), z.json()).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (isReservedKey(key) || key === '__proto__') {
      ctx.addIssue({ code: 'custom', path: [key], message: `'${key}' is reserved; use another key` });
    }
  }
});

export const taskParamsSchema = z.strictObject({
  /** Simulated work time. */
  duration_ms: z.number().min(0).default(1000),
  /** Chance of a (seeded, so repeatable) failure. */
  failure_rate: z.number().min(0).max(1).default(0),
  /** The task fails when this holds over the run context. */
  fail_if: conditionSchema.optional(),
  /** Merged into the top-level run context on success. */
  output: outputRecord.default({}),
  /** The message used when the task fails. */
  error: z.string().min(1).optional(),
});
export type TaskParams = z.infer<typeof taskParamsSchema>;

export const judgmentParamsSchema = z.strictObject({
  /** Tried in order; the first that matches gives the verdict. */
  rules: z.array(ruleSchema),
  /** The verdict when no rule matches. */
  default: z.string().min(1),
  output_key: z
    .string()
    .min(1)
    .refine((key) => key !== 'matched_rule' && key !== 'observed', { message: "'matched_rule' and 'observed' are already part of a judgment's output" })
    .default('verdict'),
});
export type JudgmentParams = z.infer<typeof judgmentParamsSchema>;

export const transformParamsSchema = z.strictObject({
  /** Values written at dot paths. */
  set: z.record(writablePathSchema, z.json()).optional(),
  /** `{to: from}`: copies the value at dot path `from` to dot path `to`. */
  copy: z.record(writablePathSchema, dotPathSchema).optional(),
  /** Multiplies the number at `field` by `factor`, writing it to `to` (default: `field` itself). */
  scale: z.strictObject({ field: dotPathSchema, factor: z.number(), to: writablePathSchema.optional() }).optional(),
});
export type TransformParams = z.infer<typeof transformParamsSchema>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A node's time limit: above zero, at most a day (a longer wait is a schedule, not a node). */
const timeoutMs = z.number().int('a whole number of milliseconds').positive('must be above 0 ms').max(DAY_MS, 'must be at most a day (86400000 ms)');

/**
 * What an http or command node answers in an offline sandbox, so rehearsals stay deterministic and
 * never touch the network or the machine: `output` stands in for the real answer.
 */
const sandboxStandIn = z
  .strictObject({
    output: z.json().optional(),
    duration_ms: z.number().min(0).default(0),
    failure_rate: z.number().min(0).max(1).default(0),
  })
  .default({ duration_ms: 0, failure_rate: 0 });

const httpUrl = z.string().refine((url) => /^https?:\/\//i.test(url), { message: 'must start with http:// or https://' });

export const httpParamsSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']),
  url: httpUrl,
  headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name is letters, digits and - _ .'), z.string()).optional(),
  /** Sent as JSON (a string as it is); its strings may hold templates. */
  body: z.json().optional(),
  timeout_ms: timeoutMs.default(30_000),
  retries: z.number().int().min(0).max(10).default(0),
  backoff_ms: z.number().int().min(0).max(DAY_MS).default(500),
  /** Each entry a status or an inclusive [low, high] range. */
  expect_status: z
    .array(z.union([z.number().int().min(100).max(599), z.tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)])]))
    .min(1)
    .default([[200, 299]]),
  output_key: writablePathSchema.default('response'),
  /**
   * Keep only the answer's status and the fields the workflow reads (its judgments' rules, conditions,
   * copies, templates): for a service that echoes what it is sent, secrets in any form included.
   */
  redact_response: z.boolean().default(false),
  sandbox: sandboxStandIn,
});
export type HttpParams = z.infer<typeof httpParamsSchema>;

export const commandParamsSchema = z.strictObject({
  /** The program and its arguments; never a shell string. */
  argv: z.array(z.string()).min(1, 'needs at least the program to run'),
  cwd: z.string().min(1).optional(),
  /** The only variables the command sees (besides PATH); values may hold templates. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name is letters, digits and _'), z.string()).optional(),
  timeout_ms: timeoutMs.default(60_000),
  output_key: writablePathSchema.default('result'),
  sandbox: sandboxStandIn,
});
export type CommandParams = z.infer<typeof commandParamsSchema>;

export const waitParamsSchema = z.strictObject({ duration_ms: z.number().int().min(0).max(DAY_MS, 'must be at most a day (86400000 ms)') });
export type WaitParams = z.infer<typeof waitParamsSchema>;

export const approvalParamsSchema = z.strictObject({
  /** Without one, the run waits until someone answers or cancels it. */
  timeout_ms: timeoutMs.optional(),
  prompt: z.string().max(2000).optional(),
});
export type ApprovalParams = z.infer<typeof approvalParamsSchema>;

/** A node with its params parsed for its type (defaults applied). */
export type TypedNode =
  | { id: string; type: 'task'; params: TaskParams; next: string[] }
  | { id: string; type: 'judgment'; params: JudgmentParams; next: string[] }
  | { id: string; type: 'transform'; params: TransformParams; next: string[] }
  | RealNode;

/** Nodes whose work happens outside the pure executor: the run driver performs them. */
export type RealNode =
  | { id: string; type: 'http'; params: HttpParams; next: string[] }
  | { id: string; type: 'command'; params: CommandParams; next: string[] }
  | { id: string; type: 'wait'; params: WaitParams; next: string[] }
  | { id: string; type: 'approval'; params: ApprovalParams; next: string[] };

const schemas = {
  task: taskParamsSchema,
  judgment: judgmentParamsSchema,
  transform: transformParamsSchema,
  http: httpParamsSchema,
  command: commandParamsSchema,
  wait: waitParamsSchema,
  approval: approvalParamsSchema,
} as const;

/** Parses a node's params for its type; the zod result, so callers can report the failing path. */
export function parseNodeParams(node: DslNode): { success: true; node: TypedNode } | { success: false; error: z.ZodError } {
  const r = (schemas[node.type] as z.ZodType).safeParse(node.params);
  // The schema is chosen by `type`, so the parsed params match that member of TypedNode.
  return r.success ? { success: true, node: { id: node.id, type: node.type, params: r.data, next: node.next } as TypedNode } : { success: false, error: r.error };
}
