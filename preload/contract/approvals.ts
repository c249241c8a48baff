import { z } from 'zod';
import { isoTime, runSchema } from './entities.js';

/*
 * What an operator judges an approval by: the approval node's prompt, who asks (the run, its version,
 * its trigger, who started it) and what the run has done so far. The console shows it on its home,
 * in the run inspector and in the notification; the CLI prints it.
 */
export const waitingApprovalSchema = z.object({
  run: runSchema,
  workflow_name: z.string(),
  /** The approval node the run waits at (null for a request logged before node ids were). */
  node_id: z.string().nullable(),
  /** The node's prompt ("Ship the nightly release to production?"); null when it has none. */
  prompt: z.string().nullable(),
  requested_at: isoTime.nullable(),
  /** The node's timeout: past `requested_at` + this, the node fails unanswered. Null: it waits until answered. */
  timeout_ms: z.number().int().nullable(),
  /** The nodes the run completed before it asked, in order. */
  done: z.array(z.string()),
  /** How many nodes the run's version has (what is left is `nodes_total - done.length - 1`). */
  nodes_total: z.number().int().nonnegative(),
});
export type WaitingApproval = z.infer<typeof waitingApprovalSchema>;

export const approvalListSchema = z.object({
  /** Oldest request first: the one that has waited longest is answered first. */
  approvals: z.array(waitingApprovalSchema),
  /** Every waiting run matching the filter, including those beyond `limit`. */
  total: z.number().int(),
});
export type ApprovalList = z.infer<typeof approvalListSchema>;
