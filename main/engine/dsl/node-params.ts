import { z } from 'zod';
import type { DslNode } from '../../../preload/contract/entities.js';
import { OUTPUTS_KEY, dotPathSchema, writablePathSchema } from './paths.js';

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
    if (key === OUTPUTS_KEY || key === '__proto__') {
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

/** A node with its params parsed for its type (defaults applied). */
export type TypedNode =
  | { id: string; type: 'task'; params: TaskParams; next: string[] }
  | { id: string; type: 'judgment'; params: JudgmentParams; next: string[] }
  | { id: string; type: 'transform'; params: TransformParams; next: string[] };

/** Parses a node's params for its type; the zod result, so callers can report the failing path. */
export function parseNodeParams(node: DslNode): { success: true; node: TypedNode } | { success: false; error: z.ZodError } {
  switch (node.type) {
    case 'task': {
      const r = taskParamsSchema.safeParse(node.params);
      return r.success ? { success: true, node: { id: node.id, type: 'task', params: r.data, next: node.next } } : { success: false, error: r.error };
    }
    case 'judgment': {
      const r = judgmentParamsSchema.safeParse(node.params);
      return r.success ? { success: true, node: { id: node.id, type: 'judgment', params: r.data, next: node.next } } : { success: false, error: r.error };
    }
    case 'transform': {
      const r = transformParamsSchema.safeParse(node.params);
      return r.success ? { success: true, node: { id: node.id, type: 'transform', params: r.data, next: node.next } } : { success: false, error: r.error };
    }
  }
}
