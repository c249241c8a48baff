import { RewindError } from '../../errors.js';

/** Where a PostgreSQL URL points, for messages (never the password). */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  /** The URL with its password masked, safe for logs and error messages. */
  redacted: string;
}

const example = 'postgres://USER:PASSWORD@HOST:5432/DATABASE';

/** Whether a `--db` value names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Parses `postgres://USER:PASS@HOST:PORT/DB` (or `postgresql://`), refusing anything else clearly. */
export function parsePostgresUrl(value: string): PostgresTarget {
  const refuse = (what: string): never => {
    throw new RewindError(
      'INVALID_DATABASE_URL',
      `Not a usable PostgreSQL URL: ${what}.`,
      `Write it as ${example} (percent-encode special characters in the password), or pass a file path for SQLite.`,
    );
  };
  if (!isPostgresUrl(value)) refuse(`"${redactLoose(value)}" does not start with postgres:// or postgresql://`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse(`"${redactLoose(value)}" cannot be parsed`);
  }
  if (url.hostname === '') refuse('it names no host');
  const port = url.port === '' ? 5432 : Number(url.port);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) refuse('it names no database (the path after the host, e.g. /rewind)');
  const user = decodeURIComponent(url.username);
  const masked = new URL(url.href);
  if (masked.password !== '') masked.password = '***';
  return { host: url.hostname, port, database, user: user === '' ? '(default user)' : user, redacted: masked.href };
}

/** Masks what looks like a password in a string that did not parse as a URL. */
function redactLoose(value: string): string {
  return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
