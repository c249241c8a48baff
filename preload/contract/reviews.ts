import { z } from 'zod';
import { isoTime, rollbackResultSchema } from './entities.js';

/*
 * A second pair of eyes (a server started with --require-review): a reviewed action — publishing a
 * version, promoting a canary, and a rollback when listed — becomes a request that another person
 * with the role to do it approves (then it runs as the requester's action) or declines. A request
 * nobody answers expires.
 */

/** The actions a server may put under review; rollbacks only when listed, as they are the emergency exit. */
export const reviewActions = ['publish', 'promote', 'rollback'] as const;
export const reviewActionSchema = z.enum(reviewActions);
export type ReviewAction = z.infer<typeof reviewActionSchema>;

/** The method each reviewed action is: its role is the role an approver needs. */
export const reviewedMethods = { publish: 'versions:publish', promote: 'canary:promote', rollback: 'versions:rollback' } as const;

/**
 * review: pending → approved (the action ran) | declined | expired (nobody answered by expires_at).
 * A pending request past its expiry reads as expired at once; `review_expired` records it.
 */
export const reviewStatusSchema = z.enum(['pending', 'approved', 'declined', 'expired']);
export type ReviewStatus = z.infer<typeof reviewStatusSchema>;

export const reviewSchema = z.object({
  review_id: z.string(),
  action: reviewActionSchema,
  workflow_id: z.string(),
  workflow_name: z.string(),
  /** The version the action makes active: the draft to publish, the canary to promote, the rollback target. */
  version: z.number().int(),
  /** The version active when it was asked (what the approver's diff starts from). */
  from_version: z.number().int().nullable(),
  /** A publish as a canary: the share of new runs it would take (null otherwise). */
  canary_percent: z.number().nullable(),
  /** The workflow revision the request is based on: if the workflow moves on, approving is refused (STALE_REVISION). */
  revision: z.number().int(),
  requested_by: z.string(),
  requested_at: isoTime,
  expires_at: isoTime,
  status: reviewStatusSchema,
  answered_by: z.string().nullable(),
  answered_at: isoTime.nullable(),
  note: z.string().nullable(),
  /** The seq of the event the approved action appended (its publish, promote or rollback). */
  result_seq: z.number().int().nullable(),
});
export type Review = z.infer<typeof reviewSchema>;

/** What a reviewed action answers instead of acting (HTTP 202): the request, waiting for another person. */
export const reviewRequestedSchema = z.object({
  review_requested: z.literal(true),
  message: z.string(),
  review: reviewSchema,
});
export type ReviewRequested = z.infer<typeof reviewRequestedSchema>;

/** A publish, promote or rollback answers either its result or, on a server that reviews it, the request. */
export const actionResultSchema = z.union([rollbackResultSchema, reviewRequestedSchema]);
export type ActionResult = z.infer<typeof actionResultSchema>;

export function isReviewRequested(result: ActionResult): result is ReviewRequested {
  return 'review_requested' in result;
}

export const reviewListSchema = z.object({
  /** Oldest request first: the one that has waited longest is answered first. */
  reviews: z.array(reviewSchema),
  total: z.number().int(),
});
export type ReviewList = z.infer<typeof reviewListSchema>;

export const reviewAnswerSchema = z.object({
  review: reviewSchema,
  /** The approved action's own answer; null for a decline. */
  result: rollbackResultSchema.nullable(),
});
export type ReviewAnswer = z.infer<typeof reviewAnswerSchema>;

/** The events of a review (each names the review_id, action, workflow and version). */
export const reviewEventTypes = ['review_requested', 'review_answered', 'review_expired'] as const;
