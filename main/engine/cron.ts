import { CronExpressionParser } from 'cron-parser';
import { RewindError } from './errors.js';

const FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);
/** Macros cron-parser does not resolve itself. */
const ALIASES: Record<string, string> = { '@midnight': '0 0 * * *' };
const EXAMPLE = 'A valid example: "0 2 * * *" (every day at 02:00 UTC); fields are minute hour day-of-month month day-of-week.';

export interface CronCheck {
  expression: string;
  /** The next three fire times (UTC, ISO), shown so an operator can sanity-check the schedule. */
  next: string[];
}

/**
 * Validates a five-field cron schedule with cron-parser, and names the field at fault:
 * cron-parser alone accepts three-field strings and reports only "got value 61".
 */
export function validateCron(expression: string): CronCheck {
  const trimmed = expression.trim();
  const expr = ALIASES[trimmed] ?? trimmed;
  if (MACROS.has(expr)) return { expression: expr, next: nextTimes(expr) };
  const parts = expr.split(/\s+/);
  if (parts.length !== 5) {
    throw new RewindError(
      'INVALID_CRON',
      `The schedule "${expression}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron schedule has 5.`,
      EXAMPLE,
      { expression, fields: parts.length },
    );
  }
  parts.forEach((part, i) => {
    const probe = FIELDS.map((_, j) => (j === i ? part : '*')).join(' ');
    try {
      CronExpressionParser.parse(probe, { tz: 'UTC' });
    } catch (err) {
      throw new RewindError(
        'INVALID_CRON',
        `The schedule "${expression}" has an invalid ${FIELDS[i]} field "${part}": ${(err as Error).message}.`,
        EXAMPLE,
        { expression, field: FIELDS[i], value: part },
      );
    }
  });
  try {
    return { expression: expr, next: nextTimes(expr) };
  } catch (err) {
    throw new RewindError('INVALID_CRON', `The schedule "${expression}" never fires: ${(err as Error).message}.`, EXAMPLE, { expression });
  }
}

function nextTimes(expr: string): string[] {
  const it = CronExpressionParser.parse(expr, { tz: 'UTC' });
  return it.take(3).map((d) => d.toISOString() ?? '');
}
