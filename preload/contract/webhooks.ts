import { z } from 'zod';

/*
 * Webhooks (a workflow server's, admin only): where events are POSTed, which ones, and the delivery
 * log of each. The secret goes in on creation and never comes back out.
 */

/**
 * The event types a webhook may filter on: those the engine appends, and those of capabilities that
 * add theirs (canaries, approvals, schedules, takeovers). A type outside this list is refused, so a
 * typo does not make a webhook that silently never fires.
 */
export const eventTypes = [
  'workflow_created',
  'workflow_paused',
  'workflow_unpaused',
  'workflow_overridden',
  'workflow_schedule_set',
  'workflow_unregistered',
  'workflow_reactivated',
  'workflow_described',
  'version_created',
  'version_published',
  'workflow_rollback',
  'version_archived',
  'run_started',
  'run_succeeded',
  'run_failed',
  'run_cancelled',
  'run_interrupted',
  'run_denied',
  'run_taken_over',
  'approval_requested',
  'approval_given',
  'approval_denied',
  'review_requested',
  'review_answered',
  'review_expired',
  'canary_started',
  'canary_promoted',
  'canary_aborted',
  'schedule_fired',
  'schedule_backfilled',
  'code_file_refused',
  'code_file_accepted',
  'runbook_saved',
  'runbook_deleted',
  'rehearsal_recorded',
  'token_issued',
  'token_revoked',
  'sandbox_reset',
  'mutation_refused',
  'webhook_created',
  'webhook_deleted',
  'webhook_dead_lettered',
  'runs_pruned',
  'chain_broken',
  'incident_opened',
  'incident_acknowledged',
  'incident_mitigated',
  'incident_resolved',
  'incident_report_saved',
] as const;
export type EventType = (typeof eventTypes)[number];

const knownEventType = z.string().refine((t) => (eventTypes as readonly string[]).includes(t), {
  error: (issue) => `unknown event type "${String(issue.input)}"; known types: ${eventTypes.join(', ')}`,
});

/** Only http and https: the server POSTs to it, and nothing else should be reachable through it. */
export const webhookUrlSchema = z
  .string()
  .max(2000)
  .refine(
    (u) => {
      try {
        const { protocol } = new URL(u);
        return protocol === 'http:' || protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'the URL must be an absolute http:// or https:// URL' },
  );

export const webhookCreateInputSchema = z.strictObject({
  url: webhookUrlSchema,
  /** Signs every delivery (HMAC-SHA256, and the Standard Webhooks signature). `whsec_<base64>` is read as Standard Webhooks' own format. */
  secret: z.string().max(500).refine((s) => s.trim().length > 0, { message: 'the secret must not be empty' }),
  /** Event types to send; absent: every type. */
  events: z.array(knownEventType).min(1).max(100).optional(),
  /** Workflow ids whose events to send; absent: every workflow (and events of none). */
  workflows: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
});

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()).nullable(),
  workflows: z.array(z.string()).nullable(),
  created_by: z.string(),
  created_at: z.string(),
  /** Deliveries waiting (or being retried), and dead-lettered ones, right now. */
  pending: z.number().int(),
  dead: z.number().int(),
});
export type Webhook = z.infer<typeof webhookSchema>;

/*
 * delivery: pending → delivered
 *              ↺ (failed attempt: retried after an exponential, jittered backoff)
 *           pending → dead       (out of attempts: dead-lettered, `last_error` says why)
 *           pending → cancelled  (the webhook was deleted)
 */
export const deliveryStateSchema = z.enum(['pending', 'delivered', 'dead', 'cancelled']);
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

export const webhookDeliverySchema = z.object({
  webhook_id: z.string(),
  /** The event's seq: also the delivery's order for its webhook, and (with the webhook id) its `webhook-id` header. */
  seq: z.number().int(),
  event_type: z.string(),
  state: deliveryStateSchema,
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable(),
  /** The receiver's last HTTP status; null when it never answered (refused, timed out). */
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;
