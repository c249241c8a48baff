import { focusWhenReady } from '../shared/focus.js';
import { useApprovalAnswer } from '../store/approval-answer-store.js';
import { useInspector } from '../store/inspector-store.js';
import { useRunParams } from '../runs/run-params-store.js';
import { useRollback } from '../store/rollback-store.js';
import { useUi } from '../store/ui-store.js';
import { useWorkflows } from '../store/workflows-store.js';
import type { SuggestedAction } from './home-model.js';

/** The incident home's and the palette's actions: each one step, each leaving focus on the next step. */

export function openRun(runId: string): void {
  useUi.getState().setView('runs');
  void useInspector.getState().open(runId);
  focusWhenReady('[data-testid="resume-submit"], [data-testid="inspector-title"]');
}

/**
 * Starts a run of the workflow's active version and opens it, to watch it go; a refusal shows on the
 * workflow. A version that declares run params asks for them first (RunParamsDialog starts it).
 */
export async function startRunAndOpen(workflowId: string): Promise<void> {
  if (await useRunParams.getState().askIfDeclared(workflowId)) return;
  const run = await useWorkflows.getState().startRun(workflowId);
  if (run) openRun(run.run_id);
}

/**
 * Answers a waiting run from the palette, beside its inspector: an approval is given at once (the
 * run shows it moving on) — or, on a production connection, at the confirmation naming its prompt;
 * a denial, which ends the run, stops at the focused Deny button.
 */
export async function answerWaitingRun(runId: string, decision: 'approve' | 'deny'): Promise<void> {
  useUi.getState().setView('runs');
  await useInspector.getState().open(runId);
  if (decision === 'deny') return focusWhenReady('[data-testid="approval-deny"]');
  const { run, approvalRequest } = useInspector.getState();
  if (!run || run.run_id !== runId) return;
  await useApprovalAnswer.getState().ask(approvalRequest ?? { run, workflow_name: run.workflow_id, node_id: null, prompt: null, requested_at: null, timeout_ms: null, done: [], nodes_total: 0 }, 'approve', 'inspector');
}

export function openWorkflow(workflowId: string): void {
  useWorkflows.getState().select(workflowId);
  useUi.getState().setView('workflows');
}

/** Resumes a failed run under `version` and shows the child run (or the refusal, focused). */
export async function resumeFailedRun(runId: string, version: number): Promise<void> {
  useUi.getState().setView('runs');
  await useInspector.getState().open(runId);
  await useInspector.getState().setResumeVersion(version);
  const child = await useInspector.getState().resumeRun();
  focusWhenReady(child ? '[data-testid="inspector-title"]' : '[data-testid="resume-error"]');
}

export function runSuggested(a: SuggestedAction): void {
  if (a.kind === 'rollback') void useRollback.getState().openFor(a.workflowId, a.version);
  else if (a.kind === 'resume') void resumeFailedRun(a.runId, a.version);
  else openRun(a.runId);
}
