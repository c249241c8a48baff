import { z } from 'zod';
import { canarySchema } from './canary.js';
import { isoTime, workflowStatusSchema } from './entities.js';

/*
 * The incident home's data: what is wrong on a connection now, worst first. Read-only and computed
 * by the engine from runs, versions and events in a few aggregate queries, so it stays small and fast
 * at a thousand workflows. Kinds that do not exist yet (approvals, canaries, dead-lettered webhooks)
 * get their own arrays here when their capability lands; the console renders a section only for a
 * kind that has items.
 */

/** Finished runs of one version (replays excluded: they are experiments, not traffic). */
export const versionHealthSchema = z.object({
  version: z.number().int().positive(),
  runs: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  succeeded: z.number().int().nonnegative(),
});
export type VersionHealth = z.infer<typeof versionHealthSchema>;

/**
 * A rollback a policy made by itself (a canary's breach) that still stands, with what the policy
 * judged: the card moves to "Recently rolled back" and its canary runs are not offered for resume.
 */
export const policyRollbackSchema = z.object({
  seq: z.number().int().positive(),
  ts: isoTime,
  /** `policy:<name>`. */
  actor: z.string(),
  from_version: z.number().int().nullable(),
  to_version: z.number().int(),
  /** The canary's breach, in a sentence ("failure rate 40 % over 20 runs broke the limit of 5 %"). */
  reason: z.string().nullable(),
  runs: z.number().int().nullable(),
  failures: z.number().int().nullable(),
  failure_rate: z.number().nullable(),
});
export type PolicyRollback = z.infer<typeof policyRollbackSchema>;

/** A workflow with failed or interrupted runs of the window that no resume has followed. */
export const failingWorkflowSchema = z.object({
  workflow_id: z.string(),
  workflow_name: z.string(),
  status: workflowStatusSchema,
  active_version: z.number().int().nullable(),
  revision: z.number().int(),
  /** Open failures: failed or interrupted, not resumed, inside the window. */
  open_failures: z.number().int().positive(),
  first_failure_at: isoTime,
  last_failure_at: isoTime,
  /** The newest open failure: what "Open failing run" opens and what a resume continues. */
  latest_failed_run_id: z.string(),
  latest_failed_version: z.number().int().positive(),
  /** Failure rate by version, newest version first (every version with finished runs). */
  by_version: z.array(versionHealthSchema),
  /**
   * The oldest version of the newest unbroken streak of bad versions (failure rate above 20 %, seed
   * 003's trigger): "bad since v4". Null when the newest version with runs is not bad (a flaky run).
   */
  bad_since: z.number().int().positive().nullable(),
  /** The newest published, not archived version older than the bad streak whose runs were healthy. */
  last_good: z.number().int().positive().nullable(),
  /** The newest open failure's error line and node (absent from servers that predate them). */
  latest_error: z.string().nullable().optional(),
  latest_failed_node: z.string().nullable().optional(),
  /** The version the card blames (`bad_since`, else the newest failure's) and who put it forward — its publish or its canary start — and when. */
  bad_version: z.number().int().positive().optional(),
  bad_published_by: z.string().nullable().optional(),
  bad_published_at: isoTime.nullable().optional(),
  /** Set when a policy already rolled the workflow back from the failing version (the console lists it under "Recently rolled back"). */
  policy_rollback: policyRollbackSchema.nullable().optional(),
});
export type FailingWorkflow = z.infer<typeof failingWorkflowSchema>;

/** A rollback from the event log: who (a person, or `policy:<name>`), when, from and to. */
export const recentRollbackSchema = z.object({
  seq: z.number().int().positive(),
  ts: isoTime,
  workflow_id: z.string(),
  workflow_name: z.string(),
  actor: z.string(),
  from_version: z.number().int().nullable(),
  to_version: z.number().int(),
});
export type RecentRollback = z.infer<typeof recentRollbackSchema>;

/** A canary being judged now, with its workflow's name: the home lists them beside the failures. */
export const runningCanarySchema = canarySchema.extend({ workflow_id: z.string(), workflow_name: z.string() });
export type RunningCanary = z.infer<typeof runningCanarySchema>;

/**
 * A webhook delivery that gave up (dead-lettered) within the window: someone outside the console was
 * not told. Only the receiver's host is shown — webhook URLs often carry a token, and viewers read this.
 */
export const deadLetterSchema = z.object({
  webhook_id: z.string(),
  host: z.string(),
  seq: z.number().int(),
  event_type: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  finished_at: isoTime,
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const incidentSummarySchema = z.object({
  /** When the summary was computed (server clock): relative times are shown against it. */
  generated_at: isoTime,
  /** The window failures are counted in, in hours (the workflows' `failed_runs` badge uses the same). */
  window_hours: z.number().int().positive(),
  failing: z.array(failingWorkflowSchema),
  /** Newest first. */
  recent_rollbacks: z.array(recentRollbackSchema),
  /** Canaries running now (absent from servers that predate canaries). */
  canaries: z.array(runningCanarySchema).optional(),
  /** Webhook deliveries dead-lettered within the window, newest first (absent from servers without webhooks). */
  dead_letters: z.array(deadLetterSchema).optional(),
});
export type IncidentSummary = z.infer<typeof incidentSummarySchema>;
