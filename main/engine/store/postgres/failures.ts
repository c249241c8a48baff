import { RewindError } from '../../errors.js';
import type { PostgresTarget } from './url.js';

/*
 * What a failure from `pg` means for the caller: the database away (503, retry later), a bad setting
 * (fix the URL), a conflict worth re-running the unit of work for, or anything else (passed on as is,
 * so a constraint violation keeps its SQLSTATE for the rules that look at it).
 */

export type FailureKind = 'unavailable' | 'auth' | 'database-missing' | 'retry' | 'other';

/** Socket-level failures: nothing answers, or the connection died. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
/** pg's own messages for a connection that died or never came (they carry no code). */
const lostConnection = /Connection terminated|timeout exceeded when trying to connect|encountered a connection error and is not queryable|Query read timeout/i;
/**
 * Server shutting down or starting (57P01–57P03), too many connections (53300), the 08 class, and
 * our session ended by the server for sitting idle inside a transaction (25P03): its unit is gone.
 */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300', '25P03']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classify(err: unknown): FailureKind {
  if (err instanceof RewindError) return 'other';
  const code = codeOf(err);
  if (code === '28P01' || code === '28000') return 'auth';
  if (code === '3D000') return 'database-missing';
  if (code === '40001' || code === '40P01') return 'retry';
  if (code !== undefined && (unavailableStates.has(code) || code.startsWith('08') || socketCodes.has(code))) return 'unavailable';
  if (err instanceof AggregateError && err.errors.some((e) => classify(e) === 'unavailable')) return 'unavailable';
  if (err instanceof Error && lostConnection.test(err.message)) return 'unavailable';
  return 'other';
}

function causeOf(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof AggregateError && err.errors[0] instanceof Error ? err.errors[0].message : err instanceof Error ? err.message : String(err);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/** A failure while opening the store: what is wrong with the setting, and what to do. */
export function openFailure(err: unknown, target: PostgresTarget): unknown {
  const where = `${target.host}:${target.port}`;
  switch (classify(err)) {
    case 'unavailable':
      return new RewindError(
        'STORE_UNAVAILABLE',
        `Cannot reach PostgreSQL at ${where} (${causeOf(err)}).`,
        'Check that PostgreSQL is running there and that the host and port in the URL are right; `npm run pg -- --dir DIR` starts a local one.',
        { host: target.host, port: target.port, retry_after_s: 1 },
      );
    case 'auth':
      return new RewindError(
        'STORE_AUTH_FAILED',
        `PostgreSQL at ${where} refused user "${target.user}": wrong password, or no such user.`,
        'Check the user and password in the URL (percent-encode special characters in the password).',
        { host: target.host, port: target.port, user: target.user },
      );
    case 'database-missing':
      return new RewindError(
        'STORE_DATABASE_MISSING',
        `PostgreSQL at ${where} has no database "${target.database}".`,
        `Create it (\`createdb ${target.database}\`, or CREATE DATABASE in psql), or fix the database name at the end of the URL.`,
        { host: target.host, port: target.port, database: target.database },
      );
    default:
      return err;
  }
}

/**
 * A failure during a request. The database away becomes STORE_UNAVAILABLE (503 with Retry-After):
 * PostgreSQL rolled back whatever was open, so nothing was applied — unless the connection died
 * during COMMIT itself, when nobody can know; the message says so and the idempotency key settles it.
 */
export function requestFailure(err: unknown, retryAfterS: number, duringCommit: boolean): unknown {
  switch (classify(err)) {
    case 'unavailable':
      return duringCommit
        ? new RewindError(
            'STORE_UNAVAILABLE',
            `The connection to the database was lost while committing (${causeOf(err)}): the change may or may not have been applied.`,
            'Retry in a few seconds with the same Idempotency-Key: an applied change answers its stored result, one that was not is applied once.',
            { retry_after_s: retryAfterS, commit_unknown: true },
          )
        : new RewindError(
            'STORE_UNAVAILABLE',
            `The database is unreachable (${causeOf(err)}); nothing was changed.`,
            'Retry in a few seconds: the server reconnects by itself when the database is back.',
            { retry_after_s: retryAfterS },
          );
    case 'auth':
    case 'database-missing':
      return new RewindError(
        classify(err) === 'auth' ? 'STORE_AUTH_FAILED' : 'STORE_DATABASE_MISSING',
        `The database refused this server's connection (${causeOf(err)}); nothing was changed.`,
        'The database settings changed under the server: fix the user, password or database, then restart it.',
        { retry_after_s: retryAfterS },
      );
    default:
      return err;
  }
}
