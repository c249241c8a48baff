import { z } from 'zod';

/*
 * Canary publishes and per-version health (seed 000's scenario: v3 takes 10 % of new runs, its defect
 * rate jumps, the workflow rolls itself back to v2). What crosses the boundary: the policy a publish
 * names, the canary as a workflow read shows it, and the health of each version.
 */

const rate = z.number().min(0, 'a rate is between 0 and 1').max(1, 'a rate is between 0 and 1');

/**
 * The canary part of `POST …/versions/{v}/publish`: the share of new runs that draw the canary, and
 * the policy that judges it. Judging starts once it has `min_runs` finished runs; any threshold broken
 * from then on rolls the workflow back to the stable version. Healthy after `window_runs` (default
 * `min_runs`): `auto` promotes it, `manual` waits for an operator.
 */
export const canarySpecSchema = z
  .strictObject({
    percent: z.number().int('percent is a whole number').min(1, 'percent is between 1 and 99').max(99, 'percent is between 1 and 99'),
    min_runs: z.number().int().min(1, 'min_runs is at least 1').max(100_000),
    max_failure_rate: rate,
    max_p95_ms: z.number().int().positive().optional(),
    /** The rate of one judgment verdict, e.g. `{key: "verdict", value: "warning", max_rate: 0.2}` (seed 003's triggers). */
    verdict: z.strictObject({ key: z.string().min(1).max(100), value: z.string().min(1).max(200), max_rate: rate }).optional(),
    window_runs: z.number().int().min(1).max(100_000).optional(),
    promote: z.enum(['auto', 'manual']),
  })
  .refine((c) => c.window_runs === undefined || c.window_runs >= c.min_runs, { message: 'window_runs is at least min_runs', path: ['window_runs'] });
export type CanarySpec = z.infer<typeof canarySpecSchema>;

/*
 * canary: running → healthy (manual promote: waits for an operator) → promoted
 *            ↘ aborted (a threshold broke: automatic rollback; or an operator aborted)
 */
export const canaryStateSchema = z.enum(['running', 'healthy', 'promoted', 'aborted']);
export type CanaryState = z.infer<typeof canaryStateSchema>;

/** A workflow's canary as its read shows it: the policy and the figures it is judged on. */
export const canarySchema = z.object({
  version: z.number().int(),
  /** The version the other runs draw, and the one a breach rolls back to. */
  stable_version: z.number().int(),
  percent: z.number().int(),
  policy: canarySpecSchema,
  /** Finished runs on the canary version since it started (cancelled ones are not judged). */
  runs: z.number().int(),
  failures: z.number().int(),
  failure_rate: z.number(),
  state: canaryStateSchema,
  started_at: z.string(),
  started_by: z.string(),
});
export type Canary = z.infer<typeof canarySchema>;

/** One version's health over a window: run counts, failure rate, durations, judgment verdicts. */
export const versionMetricsSchema = z.object({
  version: z.number().int(),
  runs: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  failure_rate: z.number(),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
  /** Per judgment output key, how many runs ended with each verdict: `{verdict: {pass: 40, warning: 3}}`. */
  verdicts: z.record(z.string(), z.record(z.string(), z.number().int())),
});
export type VersionMetrics = z.infer<typeof versionMetricsSchema>;

export const workflowHealthSchema = z.object({
  workflow_id: z.string(),
  since: z.string().nullable(),
  versions: z.array(versionMetricsSchema),
});
export type WorkflowHealth = z.infer<typeof workflowHealthSchema>;

/** The events a canary appends (with workflow_rollback, actor `policy:canary`, when it breaches). */
export const canaryEventTypes = ['canary_started', 'canary_promoted', 'canary_aborted'] as const;
export type CanaryEventType = (typeof canaryEventTypes)[number];
