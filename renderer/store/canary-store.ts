import { create } from 'zustand';
import { type RewindErrorData, type ReviewRequested, type VersionMetrics, isReviewRequested } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useWorkflows } from './workflows-store.js';

/*
 * The open workflow's health per version (its timeline draws it) and the canary band's one pending
 * decision. Promote and abort change what new runs get, so each is asked first, then confirmed.
 *
 * decision: none → asking (promote | abort) → sending → none (done) | asking again with the refusal
 *                                                     ↘ sent for review (a server that reviews promotes)
 */
export type CanaryAction = 'promote' | 'abort';

export interface CanaryStoreState {
  workflowId: string | null;
  /** Health of each version with finished runs, by version number. */
  health: Record<number, VersionMetrics>;
  asking: { workflowId: string; action: CanaryAction } | null;
  sending: boolean;
  error: RewindErrorData | null;
  /** The promote became a review request: nothing promoted until another person approves. */
  sentForReview: ReviewRequested | null;
}

export const canaryInitialState: CanaryStoreState = { workflowId: null, health: {}, asking: null, sending: false, error: null, sentForReview: null };

interface CanaryActions {
  loadHealth(workflowId: string): Promise<void>;
  ask(workflowId: string, action: CanaryAction): void;
  cancel(): void;
  confirm(): Promise<void>;
}

export const useCanary = create<CanaryStoreState & CanaryActions>()((set, get) => ({
  ...canaryInitialState,
  async loadHealth(workflowId) {
    if (get().workflowId !== workflowId) set({ workflowId, health: {}, asking: null, error: null });
    try {
      const { versions } = await unwrap(api().workflows.health({ workflow_id: workflowId }));
      if (get().workflowId === workflowId) set({ health: Object.fromEntries(versions.map((v) => [v.version, v])) });
    } catch {
      // Health is a view on top of the timeline: a server without the route leaves it out, nothing more.
      if (get().workflowId === workflowId) set({ health: {} });
    }
  },
  ask(workflowId, action) {
    set({ asking: { workflowId, action }, error: null, sentForReview: null });
  },
  cancel() {
    set({ asking: null, error: null, sentForReview: null });
  },
  async confirm() {
    const asking = get().asking;
    if (!asking || get().sending) return;
    const wf = useWorkflows.getState().workflows.find((w) => w.id === asking.workflowId);
    set({ sending: true, error: null });
    try {
      const input = { workflow_id: asking.workflowId, ...(wf ? { expected_revision: wf.revision } : {}) };
      const done = await unwrap(asking.action === 'promote' ? api().canary.promote(input) : api().canary.abort(input));
      set({ sending: false, asking: null, sentForReview: isReviewRequested(done) ? done : null });
      await useWorkflows.getState().load();
    } catch (e) {
      set({ sending: false, error: toErrorData(e) });
    }
  },
}));
