import { type ErrorCode, type RewindErrorData, rewindErrorSchema } from '../../preload/contract/errors.js';

/** A typed failure: `code` for machines, `message` for people, `hint` for what to do next. */
export class RewindError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, hint: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'RewindError';
    this.code = code;
    this.hint = hint;
    this.details = details;
  }

  toData(): RewindErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message, hint: this.hint }
      : { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }

  static fromData(data: RewindErrorData): RewindError {
    return new RewindError(data.code, data.message, data.hint, data.details);
  }
}

/** Any thrown value as error data; unknown failures become INTERNAL without leaking a stack. */
export function toErrorData(err: unknown): RewindErrorData {
  if (err instanceof RewindError) return err.toData();
  const parsed = rewindErrorSchema.safeParse(err);
  if (parsed.success) return parsed.data;
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message, hint: 'This is a bug in Rewind; the log has the details. Retry, and report it if it persists.' };
}
