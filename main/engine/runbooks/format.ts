import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { type Runbook, runbookSchema } from '../../../preload/contract/runbooks.js';
import { RewindError } from '../errors.js';

/* Parsing and printing runbooks; the schemas themselves are the contract's (preload/contract/runbooks.ts). */
export * from '../../../preload/contract/runbooks.js';
export type RunbookFormat = 'yaml' | 'json';

const HINT = 'Fix the field named in the message and import the runbook again; docs: assets/runbooks/ holds working examples.';

/** Parses and validates a runbook file; a bad one is refused naming the step, its title and the field at fault. */
export function parseRunbook(text: string, format: RunbookFormat): Runbook {
  let raw: unknown;
  try {
    raw = format === 'yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    const why = (err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)).replace(/:$/, '');
    throw new RewindError('INVALID_RUNBOOK', `The runbook is not valid ${format === 'yaml' ? 'YAML' : 'JSON'}: ${why}`, HINT, { format });
  }
  const parsed = runbookSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  throw new RewindError('INVALID_RUNBOOK', describeIssue(raw, issue), HINT, { path: issue.path.map(String).join('.') });
}

export function validateRunbook(value: unknown): Runbook {
  return parseRunbook(JSON.stringify(value), 'json');
}

export function exportRunbook(runbook: Runbook, format: RunbookFormat): string {
  return format === 'yaml' ? stringifyYaml(runbook, { lineWidth: 0 }) : `${JSON.stringify(runbook, null, 2)}\n`;
}

/** "Step 3 ('Roll back'): action.to: expected a version number or 'previous'". */
function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  const path = [...issue.path];
  // An unknown key is reported on its object; name the key itself.
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  const message = issueMessage(raw, issue, path);
  if (path[0] === 'steps' && typeof path[1] === 'number') {
    const step = at(raw, path.slice(0, 2));
    const title = typeof step === 'object' && step !== null && typeof (step as Record<string, unknown>).title === 'string' ? (step as Record<string, string>).title : 'untitled';
    const field = path.slice(2).map(String).join('.');
    return `Step ${path[1] + 1} ('${title}'): ${field === '' ? '' : `${field}: `}${message}`;
  }
  return path.length === 0 ? `Runbook: ${message}` : `Runbook: ${path.map(String).join('.')}: ${message}`;
}

function issueMessage(raw: unknown, issue: z.core.$ZodIssue, path: PropertyKey[]): string {
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  const value = at(raw, path);
  if (value === undefined && issue.code !== 'custom' && path.length > 0) return 'required';
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) return `expected ${issue.expected}`;
  return issue.message;
}

function at(raw: unknown, path: PropertyKey[]): unknown {
  let current = raw;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
