import { z } from 'zod';

/**
 * The audit log records what was refused as well as what was done: who tried which mutation, on
 * what, and why it was refused (the error's code and message). Appended in its own transaction after
 * the refusal, so the refused change itself leaves nothing behind.
 *
 * Recorded: refusals by a rule (a stale revision, a rollback to a draft, a second resume…) and by a
 * role (FORBIDDEN). Not recorded: input that does not parse (VALIDATION_FAILED, MALFORMED_REQUEST,
 * PAYLOAD_TOO_LARGE: noise, and it names nothing reliable), callers that are not authenticated or are
 * throttled (UNAUTHORIZED, RATE_LIMITED: no "who", and an anonymous flood must not grow the log), and
 * failures of the service itself (BUSY, INTERNAL…), which are not refusals. Read methods never are.
 */
export const MUTATION_REFUSED = 'mutation_refused';

export const unauditedRefusalCodes = [
  'VALIDATION_FAILED',
  'MALFORMED_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'BUSY',
  'INTERNAL',
  'UNREACHABLE',
  'TIMEOUT',
  'TLS_FAILED',
  'PROTOCOL_MISMATCH',
  'SCHEMA_TOO_NEW',
  'CHAIN_BROKEN',
] as const;

/** The payload of a `mutation_refused` event; the event's workflow_id and run_id name the target too. */
export const mutationRefusedPayloadSchema = z.object({
  /** The contract method that was tried, e.g. `versions:rollback`. */
  method: z.string(),
  code: z.string(),
  message: z.string(),
  /** The identifying fields of the request (workflow, version, run, runbook), never its body. */
  target: z.record(z.string(), z.union([z.string(), z.number()])),
});
export type MutationRefusedPayload = z.infer<typeof mutationRefusedPayloadSchema>;
