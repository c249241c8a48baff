import type { Backend, CallContext } from '../backends/backend.js';
import { RewindError, toErrorData } from '../engine/errors.js';
import { isReviewRequested } from '../../preload/contract/reviews.js';
import { evaluateCheck, resolveWorkflow, type CheckResult } from './checks.js';
import type { Scenario } from './scenarios.js';
import type { HealthCheck, RehearsalRecord, RollbackRecord, Runbook, RunbookAction, RunbookStep, StepKind, StepRecord } from '../engine/runbooks/format.js';

export { reportMarkdown } from '../engine/runbooks/report.js';

/*
 * A rehearsal executes a runbook for real against a backend (the sandbox, or a live server): actions
 * change it, health checks evaluate, waits wait, checklists wait for the operator. Each step is timed
 * and the whole is the time to recover. The first step that fails ends the rehearsal, as it would
 * stop an operator; the steps after it are recorded as not reached.
 */

export type RehearsalProgress =
  | { type: 'scenario'; name: string; detail: string }
  | { type: 'step-started'; index: number; title: string; kind: StepKind; expected_ms: number; next: string | null; elapsed_ms: number }
  | { type: 'step-finished'; step: StepRecord; elapsed_ms: number }
  | { type: 'finished'; record: RehearsalRecord };

export interface RehearsalClock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

type ChecklistStep = Extract<RunbookStep, { kind: 'checklist' }>;
type ActionStep = Extract<RunbookStep, { kind: 'action' }>;
export type PacedStep = Extract<RunbookStep, { kind: 'action' | 'health_check' | 'note' }>;

export interface RehearseOptions {
  backend: Backend;
  runbook: Runbook;
  /** Sets up the incident before the first step; its time is not counted. */
  scenario?: Scenario;
  /** A person confirms a checklist step; false fails it. */
  confirm: (step: ChecklistStep, index: number) => Promise<boolean>;
  /** A live execution asks before each action, as the console does before a manual one; false fails the step. */
  confirmAction?: (step: ActionStep, index: number) => Promise<boolean>;
  /**
   * A paced rehearsal: the operator's go before every action, health check and note (a wait runs by
   * itself), so each step's time includes the operator's. Without it the steps run by themselves
   * (automatic, as in CI). False fails the step. An action a live execution already confirms is asked once.
   */
  confirmStep?: (step: PacedStep, index: number) => Promise<boolean>;
  /** Stops at the step under way (a wait or a confirmation ends at once); what ran is kept and the rehearsal fails. */
  signal?: AbortSignal;
  onProgress?: (progress: RehearsalProgress) => void;
  /** 1-based step numbers not to execute (to show what happens without them). */
  skipSteps?: number[];
  clock?: RehearsalClock;
  /** Real ms slept per ms a wait step names; 0 makes waits instant (tests). */
  timeScale?: number;
  /** Recorded as the actor of every change the rehearsal makes. */
  actor?: string;
}

const realClock: RehearsalClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** A step's result; `interrupted` when an abort cut it short. */
interface StepResult extends CheckResult {
  interrupted?: boolean;
}

const DEFAULT_POLL_MS = 1000;

export async function rehearse(options: RehearseOptions): Promise<RehearsalRecord> {
  const { backend, runbook, scenario, signal } = options;
  const clock = options.clock ?? realClock;
  const timeScale = options.timeScale ?? 1;
  const skip = new Set(options.skipSteps ?? []);
  const ctx: CallContext = options.actor === undefined ? {} : { actor: options.actor };
  const rollbacks: RollbackRecord[] = [];

  if (scenario) {
    const detail = await scenario.setup(backend);
    options.onProgress?.({ type: 'scenario', name: scenario.name, detail });
  }

  const exec: Executor = { backend, ctx, clock, timeScale, rollbacks, signal, options };
  const started = clock.now();
  const steps: StepRecord[] = [];
  let failedAt: number | null = null;

  for (const [i, step] of runbook.steps.entries()) {
    const index = i + 1;
    const base = { index, title: step.title, kind: step.kind, expected_ms: step.expected_ms };
    const notRun =
      signal?.aborted ? 'not reached: aborted by the operator'
      : failedAt !== null ? `not reached: step ${failedAt} failed`
      : skip.has(index) ? 'skipped by the operator'
      : null;
    if (notRun !== null) {
      const record: StepRecord = { ...base, outcome: 'skipped', duration_ms: 0, detail: notRun };
      steps.push(record);
      options.onProgress?.({ type: 'step-finished', step: record, elapsed_ms: clock.now() - started });
      continue;
    }
    options.onProgress?.({ type: 'step-started', ...base, next: runbook.steps[i + 1]?.title ?? null, elapsed_ms: clock.now() - started });
    const t0 = clock.now();
    let result: StepResult;
    try {
      result = await runStep(exec, step, index);
    } catch (err) {
      const e = toErrorData(err);
      result = { ok: false, detail: `${e.code}: ${e.message} ${e.hint}` };
    }
    const detail = result.interrupted ? `aborted by the operator ${result.detail}` : result.detail;
    const record: StepRecord = { ...base, outcome: result.ok && !result.interrupted ? 'passed' : 'failed', duration_ms: clock.now() - t0, detail };
    if (record.outcome === 'failed') failedAt = index;
    steps.push(record);
    options.onProgress?.({ type: 'step-finished', step: record, elapsed_ms: clock.now() - started });
  }

  const finished = clock.now();
  const record: RehearsalRecord = {
    runbook_name: runbook.name,
    scenario: scenario?.name ?? null,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(finished).toISOString(),
    total_ms: finished - started,
    passed: failedAt === null && !signal?.aborted,
    steps,
    rollbacks,
    time_scale: options.timeScale ?? 1,
    auto_executed: options.confirmAction === undefined && options.confirmStep === undefined,
    scratch_copy: null,
    pace: options.confirmStep === undefined ? 'automatic' : 'paced',
  };
  options.onProgress?.({ type: 'finished', record });
  return record;
}

interface Executor {
  backend: Backend;
  ctx: CallContext;
  clock: RehearsalClock;
  timeScale: number;
  rollbacks: RollbackRecord[];
  signal: AbortSignal | undefined;
  options: RehearseOptions;
}

/** The operator's answer, or false once the rehearsal is aborted: nobody is left to answer. */
async function ask(exec: Executor, question: () => Promise<boolean>): Promise<StepResult | null> {
  const { signal } = exec;
  if (signal?.aborted) return { ok: false, interrupted: true, detail: 'while awaiting confirmation' };
  let stop = () => undefined as void;
  const aborted = new Promise<false>((resolve) => {
    const onAbort = () => resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    stop = () => signal?.removeEventListener('abort', onAbort);
  });
  try {
    const confirmed = await Promise.race([question(), aborted]);
    if (signal?.aborted) return { ok: false, interrupted: true, detail: 'while awaiting confirmation' };
    return confirmed ? null : { ok: false, detail: 'not confirmed by the operator' };
  } finally {
    stop();
  }
}

/** A paced step waits for the operator's go; an automatic one goes at once (null: go on). */
function go(exec: Executor, step: PacedStep, index: number): Promise<StepResult | null> {
  const { confirmStep } = exec.options;
  return confirmStep ? ask(exec, () => confirmStep(step, index)) : Promise.resolve(null);
}

async function runStep(exec: Executor, step: RunbookStep, index: number): Promise<StepResult> {
  switch (step.kind) {
    case 'checklist': {
      const refused = await ask(exec, () => exec.options.confirm(step, index));
      return refused ?? { ok: true, detail: `confirmed ${step.items.length} item${step.items.length === 1 ? '' : 's'}` };
    }
    case 'note': {
      const refused = await go(exec, step, index);
      return refused ?? { ok: true, detail: exec.options.confirmStep ? 'read by the operator' : 'read' };
    }
    case 'action': {
      const { confirmAction } = exec.options;
      const refused = confirmAction ? await ask(exec, () => confirmAction(step, index)) : await go(exec, step, index);
      return refused ?? runAction(exec, step.action);
    }
    case 'health_check': {
      const refused = await go(exec, step, index);
      return refused ?? evaluateCheck(exec.backend, step.check, exec.ctx);
    }
    case 'wait':
      if (step.until === undefined) {
        await exec.clock.sleep((step.ms ?? 0) * exec.timeScale, exec.signal);
        if (exec.signal?.aborted) return { ok: false, interrupted: true, detail: `during a wait of ${step.ms ?? 0} ms` };
        return { ok: true, detail: `waited ${step.ms ?? 0} ms` };
      }
      return waitUntil(exec, step.until, step.timeout_ms ?? 0, step.poll_ms ?? DEFAULT_POLL_MS);
  }
}

/** Polls the check until it passes or the timeout passes; time is counted in runbook ms, so a time scale of 0 still gives up. */
async function waitUntil(exec: Executor, check: HealthCheck, timeoutMs: number, pollMs: number): Promise<StepResult> {
  let waited = 0;
  for (;;) {
    const result = await evaluateCheck(exec.backend, check, exec.ctx);
    if (result.ok) return { ok: true, detail: `after ${waited} ms: ${result.detail}` };
    if (waited + pollMs > timeoutMs) return { ok: false, detail: `timed out after ${waited} ms: ${result.detail}` };
    await exec.clock.sleep(pollMs * exec.timeScale, exec.signal);
    if (exec.signal?.aborted) return { ok: false, interrupted: true, detail: `while waiting (after ${waited} ms: ${result.detail})` };
    waited += pollMs;
  }
}

async function runAction(exec: Executor, action: RunbookAction): Promise<CheckResult> {
  const { backend, ctx } = exec;
  // A fresh read just before each action: the rehearsal states the revision it acted on, like a console mutation.
  const { id } = await resolveWorkflow(backend, action.workflow);
  const wf = await backend.call('workflows:get', { workflow_id: id });
  switch (action.type) {
    case 'rollback': {
      const to = action.to === 'previous' ? await previousVersion(backend, wf.id, wf.name, wf.active_version) : action.to;
      const result = await backend.call('versions:rollback', { workflow_id: wf.id, version: to, expected_revision: wf.revision }, ctx);
      // A server that reviews rollbacks made a request of it: nothing rolled back yet, so the step has not passed.
      if (isReviewRequested(result)) return { ok: false, detail: `${wf.name}: ${result.message} (review ${result.review.review_id})` };
      exec.rollbacks.push({ workflow: wf.name, from_version: result.from_version, to_version: result.version });
      return { ok: true, detail: `${wf.name}: v${result.from_version ?? '?'} → v${result.version}` };
    }
    case 'pause':
      await backend.call('workflows:pause', { workflow_id: wf.id, expected_revision: wf.revision }, ctx);
      return { ok: true, detail: `${wf.name} paused` };
    case 'unpause':
      await backend.call('workflows:unpause', { workflow_id: wf.id, expected_revision: wf.revision }, ctx);
      return { ok: true, detail: `${wf.name} unpaused` };
    case 'start_run': {
      const run = await backend.call('runs:start', { workflow_id: wf.id, params: action.params ?? {}, wait: true }, ctx);
      return { ok: true, detail: `started ${run.run_id} on v${run.version}: ${run.status}` };
    }
    case 'resume_run': {
      const failed = await latestFailedRun(backend, wf.id, wf.name);
      const version = action.version === undefined || action.version === 'active' ? (wf.active_version ?? undefined) : action.version;
      const run = await backend.call('runs:resume', { run_id: failed, ...(version === undefined ? {} : { version }), wait: true }, ctx);
      return { ok: true, detail: `resumed ${failed} as ${run.run_id} on v${run.version}: ${run.status}` };
    }
  }
}

/** 'previous': the newest version below the active one that was once published (deprecated), so never a draft or an archived one. */
async function previousVersion(backend: Backend, workflowId: string, name: string, active: number | null): Promise<number> {
  const { versions } = await backend.call('versions:list', { workflow_id: workflowId });
  const previous = versions.filter((v) => v.status === 'deprecated' && (active === null || v.version < active)).sort((a, b) => b.version - a.version)[0];
  if (!previous) {
    throw new RewindError('ROLLBACK_VERSION_MISSING', `"${name}" has no earlier published version to roll back to.`, 'Name the version to roll back to in the runbook step.', { workflow: name });
  }
  return previous.version;
}

async function latestFailedRun(backend: Backend, workflowId: string, name: string): Promise<string> {
  const [failed, interrupted] = await Promise.all([
    backend.call('runs:list', { workflow_id: workflowId, status: 'failed', limit: 1 }),
    backend.call('runs:list', { workflow_id: workflowId, status: 'interrupted', limit: 1 }),
  ]);
  const latest = [...failed.runs, ...interrupted.runs].sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
  if (!latest) throw new RewindError('RUN_NOT_FOUND', `"${name}" has no failed or interrupted run to resume.`, 'Remove the resume step, or start a run instead.', { workflow: name });
  return latest.run_id;
}
