import { z } from 'zod';

/**
 * Every failure that crosses a boundary (IPC, HTTP, WebSocket, CLI) is this plain object.
 * `hint` always says what the operator can do next; `details` carries machine-readable context
 * (e.g. the current revision on a stale write, the missing node ids on an incompatible resume).
 */
export const errorCodes = {
  VALIDATION_FAILED: 422,
  MALFORMED_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  /**
   * A person signed in through OpenID Connect whose groups give no role on this server:
   * `details.role_groups` names the groups that would.
   */
  NO_ROLE: 403,
  /** The identity provider cannot be reached (discovery or keys): people cannot be checked now; API tokens still work. */
  OIDC_UNAVAILABLE: 503,
  /** A sign-in did not complete (cancelled, timed out, refused by the provider, or its answer failed the checks). */
  SIGN_IN_FAILED: 401,
  NOT_FOUND: 404,
  WORKFLOW_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  CHECKPOINT_NOT_FOUND: 404,
  RUNBOOK_NOT_FOUND: 404,
  REHEARSAL_NOT_FOUND: 404,
  CONNECTION_NOT_FOUND: 404,
  INCIDENT_NOT_FOUND: 404,
  /** Acknowledging or closing an incident that is resolved already: `details.resolved_by` says who closed it. */
  INCIDENT_RESOLVED: 409,
  DUPLICATE_NAME: 409,
  INVALID_DSL: 422,
  /**
   * A template where run data would become code or choose where a request goes: inside the argv of a
   * shell, interpreter or wrapper (sh -c, python -c, env, ssh…), in a code-loading environment variable
   * (PATH, LD_PRELOAD, NODE_OPTIONS…), in a command's cwd or program, or in a URL's scheme, host, port or
   * userinfo. `details` names the node, the param (e.g. `argv.2`) and the template; the hint gives the remedy.
   */
  UNSAFE_TEMPLATE: 422,
  /** A run param the workflow version does not declare (in `params` or `defaults`): `details.known` lists the declared ones. */
  UNKNOWN_PARAM: 422,
  /** A run param whose value is not of its declared type: `details.param`, `details.expected`, `details.got`. */
  INVALID_PARAM_TYPE: 422,
  /** A required run param (declared `required: true`, no default) that the run was not given: `details.params`. */
  MISSING_PARAM: 422,
  /** A run param naming a key the server owns in the run context (outputs, server, secret): `details.param`. */
  RESERVED_PARAM: 422,
  INVALID_CRON: 422,
  /** A backfill range that is not a range: a bad time, or from at or after to. */
  INVALID_RANGE: 422,
  /** An as-of read of a moment that has not happened yet (a time after now, or a seq past the head). */
  AS_OF_IN_FUTURE: 422,
  /** A backfill of a workflow with no schedule: there are no ticks to run. */
  NO_SCHEDULE: 409,
  /** A backfill over more ticks than allowed (1000, or its max_ticks): `details.max_ticks`. */
  TOO_MANY_TICKS: 422,
  INVALID_RUNBOOK: 422,
  STALE_REVISION: 412,
  NO_ACTIVE_VERSION: 409,
  VERSION_NOT_DRAFT: 409,
  ARCHIVE_ACTIVE_VERSION: 409,
  ROLLBACK_VERSION_MISSING: 404,
  ROLLBACK_VERSION_DRAFT: 409,
  ROLLBACK_VERSION_ARCHIVED: 409,
  ROLLBACK_ALREADY_ACTIVE: 409,
  WORKFLOW_PAUSED: 409,
  WORKFLOW_OVERRIDDEN: 409,
  ALREADY_PAUSED: 409,
  NOT_PAUSED: 409,
  UNPAUSE_OVERRIDDEN: 409,
  /** A CODE workflow changes only in the code folder it comes from: registering, editing, rescheduling or unregistering it through the API is refused. */
  CODE_MANAGED: 403,
  /** Unregistering a workflow whose runs are still in flight: `details.run_ids` names them; `cancel_running: true` cancels them. */
  RUNS_IN_FLIGHT: 409,
  TEMPLATE_NOT_FOUND: 404,
  /** Template parameters unknown, missing or of the wrong type: `details.problems` names each. */
  INVALID_TEMPLATE_PARAMS: 422,
  /** A workflow file of the code folder that cannot be used: `details` names the file, line and field. */
  INVALID_CODE_FILE: 422,
  RUN_NOT_RESUMABLE: 409,
  /** The run's checkpoints were removed by retention (`details.pruned_at`, `pruned_after`): it cannot be resumed or replayed; start a new run. */
  RUN_PRUNED: 409,
  /** The run was resumed already: `details.child_run_id` names the child; `again: true` resumes it once more on purpose. */
  ALREADY_RESUMED: 409,
  RUN_NOT_FINISHED: 409,
  RUN_NOT_CANCELLABLE: 409,
  RESUME_INCOMPATIBLE: 409,
  RUN_NOT_WAITING: 409,
  /** No review request with that id (a sandbox has none: it has one person). */
  REVIEW_NOT_FOUND: 404,
  /** The requester of a review tried to approve it: another person must. */
  SELF_REVIEW: 403,
  /** The review request expired unanswered (`details.expires_at`): the action must be asked again. */
  REVIEW_EXPIRED: 409,
  /** The review request was answered already (`details.status`, `details.answered_by`): two reviewers raced, one won. */
  REVIEW_ANSWERED: 409,
  /** The same action on the same version already waits for review (`details.review_id`). */
  REVIEW_PENDING: 409,
  /** A canary of the workflow is already running: promote or abort it first. */
  CANARY_RUNNING: 409,
  /** Promote or abort asked of a workflow that runs no canary. */
  NO_CANARY: 409,
  COMMANDS_DISABLED: 403,
  IDEMPOTENCY_CONFLICT: 409,
  REHEARSAL_NOT_ACTIVE: 409,
  /** A scenario this sandbox cannot stage as it is (a workflow it breaks was fixed already, or is paused): `details.reason`; resetting to the demo first (`reset_first`) stages it. */
  SCENARIO_NEEDS_RESET: 409,
  RATE_LIMITED: 429,
  BUSY: 503,
  /** The database refuses writes (read-only file or mount); reads still work. */
  STORE_READ_ONLY: 503,
  /** The database file cannot be opened at all (corrupt, not a database, a folder, unwritable). */
  STORE_UNUSABLE: 503,
  SCHEMA_TOO_NEW: 500,
  /**
   * The database cannot be used now: PostgreSQL away or restarting (retry after details.retry_after_s),
   * or a SQLite file that cannot be written (disk full, I/O error, damaged): the change was not saved.
   */
  STORE_UNAVAILABLE: 503,
  /**
   * A database setting the server cannot work with (PostgreSQL): at start-up it exits 2 with the hint;
   * arising while it runs (a password rotated, the database dropped) the service is unavailable until
   * an operator fixes it — 503 with Retry-After, not a server bug.
   */
  STORE_AUTH_FAILED: 503,
  STORE_DATABASE_MISSING: 503,
  INVALID_DATABASE_URL: 500,
  CHAIN_BROKEN: 500,
  /** The sandbox's hash chain is broken: it opened read-only, so nothing is appended over the damage. */
  READ_ONLY: 409,
  /** A log no longer holds the newest event this client verified (deleted or rewritten since). */
  LOG_TRUNCATED: 409,
  SNAPSHOT_TARGET_EXISTS: 409,
  SNAPSHOT_TARGET_IS_SANDBOX: 409,
  SNAPSHOT_TARGET_OTHER_SERVER: 409,
  SNAPSHOT_TARGET_OPEN: 409,
  SNAPSHOT_SOURCE_IS_SANDBOX: 422,
  SNAPSHOT_SOURCE_CHANGED: 409,
  /** An archive is never written over an existing file. */
  ARCHIVE_TARGET_EXISTS: 409,
  /** Not a Rewind run archive (not gzip, no header, a line that does not parse), or one cut short (no end line). */
  ARCHIVE_UNREADABLE: 422,
  UNREACHABLE: 503,
  TIMEOUT: 504,
  TLS_FAILED: 502,
  PROTOCOL_MISMATCH: 502,
  INTERNAL: 500,
  WEBHOOK_NOT_FOUND: 404,
  /** This connection delivers no webhooks: the sandbox, or a server started without a webhook key. */
  WEBHOOKS_UNAVAILABLE: 409,
  /** A webhook's secret was sealed under another key than this server's (replicas must share one). */
  WEBHOOK_KEY_MISMATCH: 409,
  /**
   * An http node or webhook may not connect there: a metadata or link-local address (always), a
   * loopback or private one (webhooks, unless the server allows them). `details`: host, address, rule.
   */
  EGRESS_REFUSED: 422,
} as const;

export type ErrorCode = keyof typeof errorCodes;

const codeValues = Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]];

export const rewindErrorSchema = z.object({
  code: z.enum(codeValues),
  message: z.string(),
  hint: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
/** The data form of an error, as it crosses IPC, HTTP and WebSocket. */
export type RewindErrorData = z.infer<typeof rewindErrorSchema>;

/** HTTP status for an error code; the one mapping the server and the remote backend share. */
export function httpStatusOf(code: ErrorCode): number {
  return errorCodes[code];
}
