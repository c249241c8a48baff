import { CronExpressionParser } from 'cron-parser';
import { RewindError } from './errors.js';

const FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
/** Six fields: a leading seconds field, then the five of classic cron. */
const FIELDS_WITH_SECONDS = ['second', ...FIELDS] as const;
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);
/** Macros cron-parser does not resolve itself (a Map: a schedule named `valueOf` is no alias). */
const ALIASES = new Map([['@midnight', '0 0 * * *']]);
const unalias = (expression: string): string => ALIASES.get(expression) ?? expression;
const EXAMPLE =
  'A valid example: "0 2 * * *" (every day at 02:00 UTC); fields are minute hour day-of-month month day-of-week, optionally after a leading second field ("*/30 * * * * *": every 30 seconds).';

export interface CronCheck {
  expression: string;
  /** The next three fire times (UTC, ISO), shown so an operator can sanity-check the schedule. */
  next: string[];
}

/**
 * Validates a cron schedule — five fields, or six with a leading seconds field, or a macro — with
 * cron-parser, and names the field at fault: cron-parser alone accepts three-field strings and
 * reports only "got value 61".
 */
export function validateCron(expression: string): CronCheck {
  const trimmed = expression.trim();
  const expr = unalias(trimmed);
  if (MACROS.has(expr)) return { expression: expr, next: nextTicks(expr, new Date(), 3) };
  const parts = expr.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new RewindError(
      'INVALID_CRON',
      `The schedule "${expression}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron schedule has 5 (or 6, with a leading seconds field).`,
      EXAMPLE,
      { expression, fields: parts.length },
    );
  }
  const names = parts.length === 6 ? FIELDS_WITH_SECONDS : FIELDS;
  parts.forEach((part, i) => {
    const probe = names.map((_, j) => (j === i ? part : '*')).join(' ');
    try {
      CronExpressionParser.parse(probe, { tz: 'UTC' });
    } catch (err) {
      throw new RewindError(
        'INVALID_CRON',
        `The schedule "${expression}" has an invalid ${names[i]} field "${part}": ${(err as Error).message}.`,
        EXAMPLE,
        { expression, field: names[i], value: part },
      );
    }
  });
  try {
    return { expression: expr, next: nextTicks(expr, new Date(), 3) };
  } catch (err) {
    throw new RewindError('INVALID_CRON', `The schedule "${expression}" never fires: ${(err as Error).message}.`, EXAMPLE, { expression });
  }
}

/** The next `count` fire times of a validated schedule strictly after `after` (UTC, ISO). */
export function nextTicks(expression: string, after: Date, count: number): string[] {
  const it = CronExpressionParser.parse(unalias(expression), { tz: 'UTC', currentDate: after });
  return it.take(count).map((d) => d.toISOString() ?? '');
}

/**
 * The fire times of a validated schedule in (after, until] — `until` inclusive, as a tick due at
 * exactly now is due — at most `limit` of them; `more` says whether the range held others beyond.
 */
export function ticksBetween(expression: string, after: Date, until: Date, limit: number): { ticks: string[]; more: boolean } {
  const ticks: string[] = [];
  if (until.getTime() <= after.getTime()) return { ticks, more: false };
  const it = CronExpressionParser.parse(unalias(expression), { tz: 'UTC', currentDate: after, endDate: until });
  while (it.hasNext()) {
    if (ticks.length === limit) return { ticks, more: true };
    ticks.push(it.next().toISOString() ?? '');
  }
  return { ticks, more: false };
}
