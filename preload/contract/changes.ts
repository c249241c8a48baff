import { z } from 'zod';

/*
 * What changed between two moments of the log (issue 22 item 2), per workflow: the active version
 * before and after, and each change in between with its event, time and actor.
 */

const change = { seq: z.number().int(), ts: z.string(), actor: z.string() };

export const workflowChangesSchema = z.object({
  workflow_id: z.string(),
  workflow_name: z.string(),
  /** The active version at `from` (null: none yet, or the workflow did not exist then). */
  active_before: z.number().int().nullable(),
  active_after: z.number().int().nullable(),
  published: z.array(z.object({ ...change, version: z.number().int() })),
  /** `by_policy`: the actor is a canary policy (`policy:…`), not a person. */
  rollbacks: z.array(z.object({ ...change, from_version: z.number().int().nullable(), to_version: z.number().int(), by_policy: z.boolean() })),
  /** Pauses and unpauses (and a CODE workflow's override or reactivation), in order; `status` is the status after it. */
  pauses: z.array(z.object({ ...change, type: z.string(), status: z.string() })),
  schedule_changes: z.array(z.object({ ...change, schedule: z.string().nullable() })),
  canary_changes: z.array(z.object({ ...change, type: z.enum(['canary_started', 'canary_promoted', 'canary_aborted']), version: z.number().int().nullable(), reason: z.string().nullable() })),
  /** Runs started, and runs that ended failed or succeeded, between the two moments. */
  runs: z.object({ started: z.number().int(), failed: z.number().int(), succeeded: z.number().int() }),
});
export type WorkflowChanges = z.infer<typeof workflowChangesSchema>;

export const changesSchema = z.object({
  from_seq: z.number().int(),
  to_seq: z.number().int(),
  /** The times of the two moments' events (null: before the first event). */
  from_ts: z.string().nullable(),
  to_ts: z.string().nullable(),
  /** The workflows something happened to, by name. */
  workflows: z.array(workflowChangesSchema),
});
export type Changes = z.infer<typeof changesSchema>;
