import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { RewindError } from '../engine/errors.js';

/*
 * A runbook: seed 003's rollback procedure made executable. An ordered list of steps, each with the
 * time it is expected to take, so a rehearsal can compare the real recovery time with the plan.
 * Workflows are named, not referred to by id, so one runbook serves the sandbox and every server.
 * Every object is strict: a misspelt key (`expect_satus`) is refused rather than silently ignored.
 */

const workflowName = z.string({ error: 'expected a workflow name' }).trim().min(1, 'expected a workflow name').max(200);
const params = z.record(z.string(), z.unknown(), { error: 'expected an object of run parameters' });
const positiveMs = z.number({ error: 'expected a duration in milliseconds' }).int('expected a whole number of milliseconds').nonnegative('expected a duration in milliseconds');
const rate = z.number({ error: 'expected a fraction between 0 and 1' }).gt(0, 'expected a fraction between 0 and 1').max(1, 'expected a fraction between 0 and 1');
const versionOr = <T extends string>(word: T) => {
  const message = `expected a version number or '${word}'`;
  return z.union([z.number().int(message).positive(message), z.literal(word)], { error: message });
};
const url = z.url({ error: 'expected an http(s) URL', protocol: /^https?$/ });

export const rollbackLevels = ['application', 'configuration', 'database', 'full-system'] as const;
export type RollbackLevel = (typeof rollbackLevels)[number];

export const actionSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('rollback'),
      workflow: workflowName,
      /** 'previous': the newest once-published (deprecated) version below the active one. */
      to: versionOr('previous'),
    }),
    z.strictObject({ type: z.literal('pause'), workflow: workflowName }),
    z.strictObject({ type: z.literal('unpause'), workflow: workflowName }),
    z.strictObject({ type: z.literal('start_run'), workflow: workflowName, params: params.optional() }),
    z.strictObject({
      type: z.literal('resume_run'),
      workflow: workflowName,
      run: z.literal('latest_failed', { error: "expected 'latest_failed'" }),
      /** The version to resume under; the active one when omitted. */
      version: versionOr('active').optional(),
    }),
  ],
  { error: 'expected type to be one of rollback, pause, unpause, start_run, resume_run' },
);
export type RunbookAction = z.infer<typeof actionSchema>;

export const healthCheckSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('workflow_failure_rate'),
      workflow: workflowName,
      /** How many of the active version's last finished runs to judge. */
      window: z.number({ error: 'expected a number of runs' }).int('expected a whole number of runs').min(1, 'expected at least 1 run').max(500, 'expected at most 500 runs'),
      below: rate,
    }),
    z.strictObject({ type: z.literal('run_succeeds'), workflow: workflowName, params: params.optional() }),
    z.strictObject({
      type: z.literal('http'),
      url,
      expect_status: z.number({ error: 'expected an HTTP status code' }).int().min(100, 'expected an HTTP status code').max(599, 'expected an HTTP status code'),
      /** A dot path into the JSON body, e.g. `status` or `checks.db`. */
      field: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a dot path such as status or checks.db').optional(),
      equals: z.json().optional(),
    }),
    z.strictObject({
      type: z.literal('metrics'),
      url,
      metric: z.enum(['5xx_rate', 'failure_rate', 'p95_latency_ms'], { error: 'expected one of 5xx_rate, failure_rate, p95_latency_ms' }),
      below: z.number({ error: 'expected a number' }).positive('expected a positive number'),
    }),
  ],
  { error: 'expected type to be one of workflow_failure_rate, run_succeeds, http, metrics' },
);
export type HealthCheck = z.infer<typeof healthCheckSchema>;

const common = {
  title: z.string({ error: 'expected a title' }).trim().min(1, 'expected a title').max(200),
  expected_ms: positiveMs,
};

const waitSchema = z
  .strictObject({
    kind: z.literal('wait'),
    ...common,
    ms: positiveMs.optional(),
    until: healthCheckSchema.optional(),
    timeout_ms: positiveMs.optional(),
    /** How often `until` is evaluated. */
    poll_ms: positiveMs.min(1, 'expected at least 1 ms').optional(),
  })
  .superRefine((w, ctx) => {
    if ((w.ms === undefined) === (w.until === undefined)) ctx.addIssue({ code: 'custom', path: ['ms'], message: 'give either ms or until (with timeout_ms), not both or neither' });
    if (w.until !== undefined && w.timeout_ms === undefined) ctx.addIssue({ code: 'custom', path: ['timeout_ms'], message: 'required with until' });
  });

export const stepSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('checklist'), ...common, items: z.array(z.string().trim().min(1, 'expected a non-empty item'), { error: 'expected a list of items' }).min(1, 'expected at least one item') }),
    z.strictObject({ kind: z.literal('action'), ...common, action: actionSchema }),
    z.strictObject({ kind: z.literal('health_check'), ...common, check: healthCheckSchema }),
    waitSchema,
    z.strictObject({ kind: z.literal('note'), ...common, text: z.string({ error: 'expected text' }).min(1, 'expected text') }),
  ],
  { error: 'expected kind to be one of checklist, action, health_check, wait, note' },
);
export type RunbookStep = z.infer<typeof stepSchema>;
export type StepKind = RunbookStep['kind'];

export const runbookSchema = z.strictObject(
  {
    name: z.string({ error: 'expected a name' }).trim().min(1, 'expected a name').max(200),
    description: z.string({ error: 'expected a description' }).max(5000),
    level: z.enum(rollbackLevels, { error: `expected one of ${rollbackLevels.join(', ')}` }).optional(),
    /** The scenario (main/runbooks/scenarios.ts) that sets up the incident this runbook answers. */
    scenario: z.string().min(1).max(200).optional(),
    steps: z.array(stepSchema, { error: 'expected a list of steps' }).min(1, 'expected at least one step').max(200, 'expected at most 200 steps'),
  },
  { error: 'expected a runbook: an object with name, description and steps' },
);
export type Runbook = z.infer<typeof runbookSchema>;
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
