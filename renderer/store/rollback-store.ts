import { create } from 'zustand';
import { type RewindErrorData, type ReviewRequested, type RollbackPreview, type RollbackResult, type Run, type WorkflowVersion, isReviewRequested } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

/*
 * rollback dialog: closed → loading → ready → submitting → done
 *                              ↘ failed ↙ (refusal or error; "reload" goes back to loading)
 */
export type RollbackPhase = 'closed' | 'loading' | 'ready' | 'submitting' | 'done' | 'failed';

export interface RollbackState {
  phase: RollbackPhase;
  workflowId: string | null;
  version: number | null;
  preview: RollbackPreview | null;
  /** The active and target versions, for the side-by-side DSL. */
  fromVersion: WorkflowVersion | null;
  toVersion: WorkflowVersion | null;
  confirmName: string;
  confirmVersion: string;
  result: RollbackResult | null;
  /** A server that reviews rollbacks made a request of it: nothing rolled back until another person approves. */
  sentForReview: ReviewRequested | null;
  error: RewindErrorData | null;
  /** Resumes asked from the result, per failed run: under way, the child run, or the refusal. */
  resumes: Record<string, { busy: boolean; child: Run | null; error: RewindErrorData | null }>;
}

export const rollbackInitialState: RollbackState = {
  phase: 'closed',
  workflowId: null,
  version: null,
  preview: null,
  fromVersion: null,
  toVersion: null,
  confirmName: '',
  confirmVersion: '',
  result: null,
  sentForReview: null,
  error: null,
  resumes: {},
};

interface RollbackActions {
  openFor(workflowId: string, version: number): Promise<void>;
  reload(): Promise<void>;
  close(): void;
  /** A live change to the workflow: re-read the preview ("Active now") unless a rollback is under way or done. */
  refreshIfShowing(workflowId: string): void;
  setConfirmName(v: string): void;
  setConfirmVersion(v: string): void;
  submit(production: boolean): Promise<void>;
  /** Resumes a failed run the rollback made resumable, on the version rolled back to. */
  resumeRun(runId: string): Promise<void>;
}

/** The target version is bad (failure rate above the threshold, or its canary aborted): the dialog warns, and asks for the version too. */
export const targetIsBad = (p: RollbackPreview | null): boolean => p?.target_health?.bad === true;

/** Whether the typed confirmation asks for the target version besides the name: on production, and onto a bad version. */
export const needsVersionTyped = (p: RollbackPreview | null, production: boolean): boolean => production || targetIsBad(p);

/**
 * What the action is: going back to an older version ("Roll back … to v2"), or forward again to a
 * newer one that was active before ("Make v4 active again").
 */
export function rollbackWording(p: Pick<RollbackPreview, 'from_version' | 'to_version'> & { workflow_name?: string }): { forward: boolean; title: string; action: string } {
  const forward = p.from_version === null || p.to_version > p.from_version;
  const of = p.workflow_name ? ` of ${p.workflow_name}` : '';
  return forward
    ? { forward, title: `Make v${p.to_version}${of} active again`, action: `Make v${p.to_version} active again` }
    : { forward, title: `Roll back${p.workflow_name ? ` ${p.workflow_name}` : ''} to v${p.to_version}`, action: `Roll back to v${p.to_version}` };
}

/** The typed confirmation: the workflow's name, and — on production or onto a bad version — the target version too. */
export function confirmationMet(s: Pick<RollbackState, 'preview' | 'confirmName' | 'confirmVersion'>, production: boolean): boolean {
  if (!s.preview || s.preview.refusal) return false;
  if (s.confirmName.trim() !== s.preview.workflow_name) return false;
  if (!needsVersionTyped(s.preview, production)) return true;
  return s.confirmVersion.trim().replace(/^v/i, '') === String(s.preview.to_version);
}

export const useRollback = create<RollbackState & RollbackActions>()((set, get) => ({
  ...rollbackInitialState,
  async openFor(workflowId, version) {
    set({ ...rollbackInitialState, phase: 'loading', workflowId, version });
    await get().reload();
  },
  async reload() {
    const { workflowId, version } = get();
    if (!workflowId || version === null) return;
    set({ phase: 'loading', error: null, result: null, sentForReview: null });
    try {
      const preview = await unwrap(api().versions.rollbackPreview({ workflow_id: workflowId, version }));
      const [toVersion, fromVersion] = await Promise.all([
        unwrap(api().versions.get({ workflow_id: workflowId, version })),
        preview.from_version === null ? Promise.resolve(null) : unwrap(api().versions.get({ workflow_id: workflowId, version: preview.from_version })),
      ]);
      if (get().workflowId !== workflowId || get().version !== version) return;
      set({ phase: 'ready', preview, toVersion, fromVersion, error: null });
    } catch (e) {
      set({ phase: 'failed', error: toErrorData(e) });
    }
  },
  refreshIfShowing(workflowId) {
    const { phase } = get();
    if (get().workflowId !== workflowId || (phase !== 'ready' && phase !== 'failed')) return;
    void get().reload();
  },
  close() {
    // A rollback in flight is not abandoned by closing the dialog; its result still lands in the log.
    set(rollbackInitialState);
  },
  setConfirmName(confirmName) {
    set({ confirmName });
  },
  setConfirmVersion(confirmVersion) {
    set({ confirmVersion });
  },
  async submit(production) {
    const s = get();
    if (s.phase !== 'ready' || !s.preview || !confirmationMet(s, production)) return;
    set({ phase: 'submitting', error: null });
    try {
      const result = await unwrap(
        api().versions.rollback({ workflow_id: s.preview.workflow_id, version: s.preview.to_version, expected_revision: s.preview.revision }),
      );
      if (get().phase === 'submitting') set(isReviewRequested(result) ? { phase: 'done', sentForReview: result } : { phase: 'done', result });
    } catch (e) {
      if (get().phase === 'submitting') set({ phase: 'failed', error: toErrorData(e) });
    }
  },
  async resumeRun(runId) {
    const { result } = get();
    if (!result || get().resumes[runId]?.busy || get().resumes[runId]?.child) return;
    const put = (entry: RollbackState['resumes'][string]) => set({ resumes: { ...get().resumes, [runId]: entry } });
    put({ busy: true, child: null, error: null });
    try {
      const child = await unwrap(api().runs.resume({ run_id: runId, version: result.version }));
      put({ busy: false, child, error: null });
    } catch (e) {
      put({ busy: false, child: null, error: toErrorData(e) });
    }
  },
}));
