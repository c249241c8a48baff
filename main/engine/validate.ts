import type { z } from 'zod';
import { RewindError } from './errors.js';

/** Parses what crossed a boundary; a failure names the field and what was wrong with it. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const unknownKeys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
  throw new RewindError(
    'VALIDATION_FAILED',
    `${what}: ${path ? `${path}: ` : ''}${issue.message}${unknownKeys}`,
    'Correct that field and send the request again.',
    { path, issues: result.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  );
}
