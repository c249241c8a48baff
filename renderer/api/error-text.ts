import type { ErrorCode } from '../../preload/contract/index.js';

/** What the UI shows for an error: one place maps codes to words. */
export interface ErrorText {
  title: string;
  message: string;
  hint: string;
  /** What the UI may offer next to the text. */
  action: 'reload' | null;
}

const titles: Partial<Record<ErrorCode, string>> = {
  STALE_REVISION: 'Someone else changed this workflow first',
  FORBIDDEN: 'Your token may not do this',
  UNAUTHORIZED: 'The server did not accept the token',
  UNREACHABLE: 'The server cannot be reached',
  TIMEOUT: 'The server did not answer in time',
  VALIDATION_FAILED: 'The request was not valid',
  WORKFLOW_NOT_FOUND: 'The workflow no longer exists',
  VERSION_NOT_FOUND: 'The version no longer exists',
  RUN_NOT_FOUND: 'The run no longer exists',
  ROLLBACK_ALREADY_ACTIVE: 'That version is already active',
  ROLLBACK_VERSION_DRAFT: 'A draft cannot be rolled back to',
  ROLLBACK_VERSION_ARCHIVED: 'An archived version cannot be rolled back to',
  ROLLBACK_VERSION_MISSING: 'That version does not exist',
  SCENARIO_NEEDS_RESET: 'The sandbox cannot stage this scenario as it is',
  RESUME_INCOMPATIBLE: 'The checkpoints do not fit that version',
  RUN_NOT_RESUMABLE: 'This run cannot be resumed',
  RUN_NOT_FINISHED: 'This run has not finished yet',
  WORKFLOW_PAUSED: 'The workflow is paused',
  WORKFLOW_OVERRIDDEN: 'A CODE workflow overrides this one',
  UNPAUSE_OVERRIDDEN: 'A CODE workflow overrides this one',
  RATE_LIMITED: 'Too many requests',
  BUSY: 'The server is busy',
  CHAIN_BROKEN: 'The audit chain is broken',
  READ_ONLY: 'This sandbox is read-only: its audit chain is broken',
  LOG_TRUNCATED: 'The event log lost events this console had verified',
  SNAPSHOT_TARGET_EXISTS: 'That file already holds a snapshot',
  SNAPSHOT_TARGET_IS_SANDBOX: 'That file is a sandbox, not a snapshot',
  SNAPSHOT_TARGET_OTHER_SERVER: 'That file is a snapshot of another server',
  SNAPSHOT_TARGET_OPEN: 'That file is open as a connection',
  SNAPSHOT_SOURCE_IS_SANDBOX: 'Only a server can be snapshotted',
  SNAPSHOT_SOURCE_CHANGED: 'The server’s log changed under the snapshot',
  INVALID_RUNBOOK: 'The runbook is not valid',
  RUNBOOK_NOT_FOUND: 'The runbook no longer exists',
  REHEARSAL_NOT_FOUND: 'The rehearsal no longer exists',
  REHEARSAL_NOT_ACTIVE: 'The rehearsal is no longer running',
  CONNECTION_NOT_FOUND: 'The connection no longer exists',
  UNSAFE_TEMPLATE: 'A template would turn run data into code',
  UNKNOWN_PARAM: 'This workflow does not take that parameter',
  INVALID_PARAM_TYPE: 'A parameter has the wrong type',
  MISSING_PARAM: 'The run needs a parameter',
  RESERVED_PARAM: 'That parameter name belongs to the server',
  NO_ROLE: 'Your groups give you no role on this server',
  SIGN_IN_FAILED: 'The sign-in did not complete',
  OIDC_UNAVAILABLE: 'The identity provider cannot be reached',
  SELF_REVIEW: 'Another person must approve your own request',
  REVIEW_EXPIRED: 'The review request expired unanswered',
  REVIEW_ANSWERED: 'Another reviewer answered first',
  REVIEW_PENDING: 'This already waits for review',
  REVIEW_NOT_FOUND: 'The review request no longer exists',
};

const fallbackHints: Partial<Record<ErrorCode, string>> = {
  STALE_REVISION: 'Reload to see the current state, then retry.',
  FORBIDDEN: 'Ask an operator or an admin of this server to do it, or to give you a token with that role.',
  UNAUTHORIZED: 'Check the connection’s token, or replace it from the connection menu (⋯).',
  REHEARSAL_NOT_ACTIVE: 'It finished or was aborted meanwhile: see its result in the history.',
};

/** Any error as data: the contract's `RewindErrorData`, or a preview's refusal (whose code is a plain string). */
export interface ErrorLike {
  code: string;
  message: string;
  hint: string;
}

export function errorText(e: ErrorLike): ErrorText {
  const code = e.code as ErrorCode;
  const title = titles[code] ?? 'The action failed';
  const hint = e.hint.trim() || fallbackHints[code] || 'Retry; if it persists, report it with the message above.';
  return { title, message: e.message, hint, action: e.code === 'STALE_REVISION' ? 'reload' : null };
}
