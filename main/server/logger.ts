import { pino, type Logger, type LevelWithSilent } from 'pino';

/*
 * The server's log: one JSON line per request and per appended event (pino), or the same records as
 * one readable line each on a terminal. Secrets never reach a line: pino's redact blanks
 * Authorization headers and any field named token, secret or password; URLs lose their token= value;
 * and every line passes the engine's secret masking (the values of `{{secret.NAME}}` in their forms).
 */

export type LogFormat = 'json' | 'text';
export const logFormats: readonly LogFormat[] = ['json', 'text'];
export const logLevels: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  level?: LevelWithSilent;
  format?: LogFormat;
  /** Where each finished line goes (stdout by default); tests capture it. */
  write?: (line: string) => void;
  /** Applied to every finished line: the engine's secret masking (every form of every `{{secret.NAME}}` value). */
  mask?: (line: string) => string;
}

const secretKeys = ['token', 'secret', 'password', 'authorization'];
const redactPaths = [
  ...secretKeys,
  ...secretKeys.map((k) => `*.${k}`),
  ...secretKeys.map((k) => `*.*.${k}`),
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** A URL or query string with the value of every token= parameter replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&;](?:access_)?token=)[^&#;]*/gi, '$1[Redacted]');
}

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Terminal-safe: control characters (ESC above all) are shown escaped, never written raw. */
const printable = (value: string) =>
  // eslint-disable-next-line no-control-regex
  value.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** One readable line from a pino JSON record: time, level, message, then the fields as key=value. */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return printable(json.trimEnd());
  }
  const { time, level, msg, pid: _pid, hostname: _hostname, ...fields } = record;
  const head = [String(time ?? ''), (levelNames[Number(level)] ?? String(level)).padEnd(5), String(msg ?? '')];
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  return printable([...head, ...rest].join(' '));
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const mask = options.mask;
  const write = mask ? (line: string) => sink(mask(line)) : sink;
  const format = options.format ?? 'json';
  return pino(
    {
      level: options.level ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[Redacted]' },
    },
    { write: (chunk: string) => write(format === 'text' ? textLine(chunk) : chunk.trimEnd()) },
  );
}
