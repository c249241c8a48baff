import { describe, expect, it } from 'vitest';
import { nextTicks, ticksBetween, validateCron } from '../../../main/engine/cron.js';
import { expectRefusal } from './fixtures.js';

const EXAMPLE = 'A valid example: "0 2 * * *"';

describe('validateCron', () => {
  it('accepts a five-field schedule and gives its next three fire times in UTC', () => {
    const check = validateCron('30 2 * * 1');
    expect(check.expression).toBe('30 2 * * 1');
    expect(check.next).toHaveLength(3);
    for (const t of check.next) {
      const d = new Date(t);
      expect([d.getUTCDay(), d.getUTCHours(), d.getUTCMinutes()]).toEqual([1, 2, 30]);
    }
    const times = check.next.map((t) => Date.parse(t));
    expect(times[1]! - times[0]!).toBe(7 * 24 * 3_600_000);
  });

  it.each(['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually', '@midnight'])('accepts the macro %s', (macro) => {
    expect(validateCron(macro).next).toHaveLength(3);
  });

  it('accepts ranges, steps and lists', () => {
    expect(validateCron('*/15 8-18 * * 1-5').expression).toBe('*/15 8-18 * * 1-5');
    expect(validateCron('0 0,12 1 */2 *').next).toHaveLength(3);
  });

  it('trims surrounding whitespace', () => {
    expect(validateCron('  0 2 * * *\n').expression).toBe('0 2 * * *');
  });

  it.each([
    ['61 2 * * *', 'minute', '61'],
    ['0 24 * * *', 'hour', '24'],
    ['0 2 0 * *', 'day of month', '0'],
    ['0 2 * 13 *', 'month', '13'],
    ['0 2 * * 8', 'day of week', '8'],
    ['x 2 * * *', 'minute', 'x'],
    ['0 2 * * mon-xyz', 'day of week', 'mon-xyz'],
  ])('refuses "%s" naming the %s field and its value', async (expression, field, value) => {
    const err = await expectRefusal(() => validateCron(expression), 'INVALID_CRON', EXAMPLE);
    expect(err.message).toContain(`invalid ${field} field "${value}"`);
    expect(err.details).toEqual({ expression, field, value });
  });

  it.each([
    ['0 2 *', 3],
    ['0 0 2 * * * *', 7],
    ['', 1],
  ])('refuses "%s" for its field count (%i)', async (expression, fields) => {
    const err = await expectRefusal(() => validateCron(expression), 'INVALID_CRON', EXAMPLE);
    expect(err.message).toContain(`has ${fields} field`);
    expect(err.message).toContain('a cron schedule has 5 (or 6, with a leading seconds field)');
    expect(err.details).toEqual({ expression, fields });
  });

  it('refuses an unknown macro', async () => {
    await expectRefusal(() => validateCron('@fortnightly'), 'INVALID_CRON', EXAMPLE);
  });

  // The fuzzer's find: a schedule named like an Object.prototype member was looked up as an alias and crashed (500).
  it.each(['valueOf', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])('refuses "%s" as a one-field schedule, not as an alias', async (name) => {
    await expectRefusal(() => validateCron(name), 'INVALID_CRON', EXAMPLE);
  });

  it('accepts a leading seconds field (six fields) and fires on it', () => {
    const check = validateCron('*/15 * * * * *');
    expect(check.expression).toBe('*/15 * * * * *');
    const times = check.next.map((t) => Date.parse(t));
    expect(times.map((t) => new Date(t).getUTCSeconds() % 15)).toEqual([0, 0, 0]);
    expect(times[1]! - times[0]!).toBe(15_000);
  });

  it.each([
    ['60 * * * * *', 'second', '60'],
    ['x 0 2 * * *', 'second', 'x'],
    ['0 61 2 * * *', 'minute', '61'],
    ['0 0 2 * * 9', 'day of week', '9'],
  ])('refuses the six-field "%s" naming the %s field', async (expression, field, value) => {
    const err = await expectRefusal(() => validateCron(expression), 'INVALID_CRON', EXAMPLE);
    expect(err.message).toContain(`invalid ${field} field "${value}"`);
    expect(err.details).toEqual({ expression, field, value });
  });

  it('lists ticks in (after, until], at most a limit, and says when more remain', () => {
    const after = new Date('2026-12-01T10:00:00.000Z');
    expect(ticksBetween('* * * * *', after, new Date('2026-12-01T10:03:00.000Z'), 10)).toEqual({
      ticks: ['2026-12-01T10:01:00.000Z', '2026-12-01T10:02:00.000Z', '2026-12-01T10:03:00.000Z'],
      more: false,
    });
    expect(ticksBetween('* * * * *', after, new Date('2026-12-01T10:03:00.000Z'), 2)).toEqual({ ticks: ['2026-12-01T10:01:00.000Z', '2026-12-01T10:02:00.000Z'], more: true });
    expect(ticksBetween('@hourly', after, after, 10)).toEqual({ ticks: [], more: false });
    expect(nextTicks('@midnight', after, 2)).toEqual(['2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z']);
  });

  it('puts a valid example and the field order in every hint', async () => {
    const err = await expectRefusal(() => validateCron('0 0 2 * * * *'), 'INVALID_CRON', 'minute hour day-of-month month day-of-week');
    expect(() => validateCron(err.hint.match(/"([^"]+)"/)![1]!)).not.toThrow();
  });
});
