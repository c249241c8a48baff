import { z } from 'zod';
import { safeName, safeText } from './names.js';

/*
 * A runbook: seed 003's rollback procedure made executable. An ordered list of steps, each with the
 * time it is expected to take, so a rehearsal can compare the real recovery time with the plan.
 * Workflows are named, not referred to by id, so one runbook serves the sandbox and every server.
 * Every object is strict: a misspelt key (`expect_satus`) is refused rather than silently ignored.
 * These schemas cross every boundary (files, IPC, HTTP), so they live in the contract.
 */

const workflowName = safeName(z.string({ error: 'expected a workflow name' }).trim().min(1, 'expected a workflow name').max(200));
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
  title: safeText(z.string({ error: 'expected a title' }).trim().min(1, 'expected a title').max(200)),
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
    z.strictObject({ kind: z.literal('checklist'), ...common, items: z.array(safeText(z.string().trim().min(1, 'expected a non-empty item')), { error: 'expected a list of items' }).min(1, 'expected at least one item') }),
    z.strictObject({ kind: z.literal('action'), ...common, action: actionSchema }),
    z.strictObject({ kind: z.literal('health_check'), ...common, check: healthCheckSchema }),
    waitSchema,
    z.strictObject({ kind: z.literal('note'), ...common, text: safeText(z.string({ error: 'expected text' }).min(1, 'expected text')) }),
  ],
  { error: 'expected kind to be one of checklist, action, health_check, wait, note' },
);
export type RunbookStep = z.infer<typeof stepSchema>;
export type StepKind = RunbookStep['kind'];

export const runbookSchema = z.strictObject(
  {
    name: safeName(z.string({ error: 'expected a name' }).trim().min(1, 'expected a name').max(200)),
    description: safeText(z.string({ error: 'expected a description' }).max(5000)),
    level: z.enum(rollbackLevels, { error: `expected one of ${rollbackLevels.join(', ')}` }).optional(),
    /** The scenario (main/runbooks/scenarios.ts) that sets up the incident this runbook answers. */
    scenario: z.string().min(1).max(200).optional(),
    steps: z.array(stepSchema, { error: 'expected a list of steps' }).min(1, 'expected at least one step').max(200, 'expected at most 200 steps'),
  },
  { error: 'expected a runbook: an object with name, description and steps' },
);
export type Runbook = z.infer<typeof runbookSchema>;


/** A runbook as a connection keeps it (sandbox file or workflow server). */
export const storedRunbookSchema = z.object({
  id: z.string(),
  name: z.string(),
  level: z.enum(rollbackLevels).nullable(),
  runbook: runbookSchema,
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type StoredRunbook = z.infer<typeof storedRunbookSchema>;

export const stepRecordSchema = z.object({
  /** 1-based, as the runbook's errors and the report number steps. */
  index: z.number().int().positive(),
  title: safeText(z.string()),
  kind: z.enum(['checklist', 'action', 'health_check', 'wait', 'note']),
  outcome: z.enum(['passed', 'failed', 'skipped']),
  expected_ms: z.number().nonnegative(),
  duration_ms: z.number().nonnegative(),
  detail: safeText(z.string()),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const rollbackRecordSchema = z.object({ workflow: z.string(), from_version: z.number().int().nullable(), to_version: z.number().int() });
export type RollbackRecord = z.infer<typeof rollbackRecordSchema>;

/**
 * How a rehearsal moves from step to step. paced (the console's default): every step but a wait
 * waits for the operator's go — the action, the check, the note read — so the clock measures the
 * operator. automatic (CI, the CLI): steps run by themselves (checklists and a live execution's
 * actions still ask), so the clock measures the machine.
 */
export const rehearsalPaceSchema = z.enum(['paced', 'automatic']);
export type RehearsalPace = z.infer<typeof rehearsalPaceSchema>;

/** One rehearsal (or live execution) of a runbook: per-step timings and outcomes, the total time to recover. */
export const rehearsalRecordSchema = z.object({
  runbook_name: z.string(),
  scenario: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
  total_ms: z.number().nonnegative(),
  passed: z.boolean(),
  steps: z.array(stepRecordSchema),
  /** The rollbacks the rehearsal applied: the report's affected and recovered versions. */
  rollbacks: z.array(rollbackRecordSchema),
  /**
   * The conditions, so rehearsals are compared like for like (null: recorded before they were kept).
   * time_scale: real ms per ms a wait step names (1: real time). auto_executed: actions ran without
   * asking (a sandbox rehearsal) rather than on an operator's confirmation (live). scratch_copy: it ran
   * on a scratch copy of the sandbox, leaving the operator's sandbox as it was. pace: `paced`, each
   * step waited for the operator's go, so the time to recover measures the operator; `automatic`,
   * the steps ran by themselves (CI), so it measures the machine.
   */
  time_scale: z.number().min(0).max(1).nullish(),
  auto_executed: z.boolean().nullish(),
  scratch_copy: z.boolean().nullish(),
  pace: rehearsalPaceSchema.nullish(),
});
export type RehearsalRecord = z.infer<typeof rehearsalRecordSchema>;

export const storedRehearsalSchema = rehearsalRecordSchema.extend({
  id: z.string(),
  runbook_id: z.string(),
  created_by: z.string(),
});
export type StoredRehearsal = z.infer<typeof storedRehearsalSchema>;

/** A scripted incident a sandbox rehearsal can start from. */
export const scenarioInfoSchema = z.object({ name: z.string(), description: z.string(), level: z.enum(rollbackLevels) });
export type ScenarioInfo = z.infer<typeof scenarioInfoSchema>;

/*
 * rehearsal session: running ⇄ awaiting_confirmation → finished | aborted
 * (`mode` live: against a remote server, where every action asks the same confirmation as by hand)
 */
export const rehearsalSessionSchema = z.object({
  session_id: z.string(),
  connection_id: z.string(),
  runbook_id: z.string(),
  runbook_name: z.string(),
  scenario: z.string().nullable(),
  mode: z.enum(['rehearsal', 'live']),
  /** Absent from consoles that predate paced rehearsals (they ran automatically). */
  pace: rehearsalPaceSchema.optional(),
  state: z.enum(['setting_up', 'running', 'awaiting_confirmation', 'finished', 'aborted']),
  /** 1-based index of the step under way (or awaiting confirmation); null before the first and after the last. */
  current_index: z.number().int().nullable(),
  next_title: z.string().nullable(),
  started_at: z.string(),
  /** Steps finished so far, in order. */
  steps: z.array(stepRecordSchema),
  /** Set once finished: the stored rehearsal's id and whether it passed. */
  rehearsal_id: z.string().nullable(),
  passed: z.boolean().nullable(),
  detail: z.string().nullable(),
});
export type RehearsalSession = z.infer<typeof rehearsalSessionSchema>;

const MIN = 60_000;
/** Seed 003's recovery-time target per rollback level (a full system has no upper bound). */
export const levelTargetMs: Record<RollbackLevel, { min: number; max: number | null }> = {
  application: { min: 5 * MIN, max: 10 * MIN },
  configuration: { min: 2 * MIN, max: 5 * MIN },
  database: { min: 30 * MIN, max: 60 * MIN },
  'full-system': { min: 60 * MIN, max: null },
};

/** `5–10 min`, `60+ min`: a level's target as the report and the console print it. */
export function levelTargetText(level: RollbackLevel): string {
  const { min, max } = levelTargetMs[level];
  return max === null ? `${min / MIN}+ min` : `${min / MIN}–${max / MIN} min`;
}

/** A runbook's planned time: the sum of its steps' expected durations. */
export const plannedMs = (runbook: Runbook): number => runbook.steps.reduce((sum, s) => sum + s.expected_ms, 0);

/** `6 min 30 s`, `12.5 s`, `800 ms`: a duration read at a glance. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
}
