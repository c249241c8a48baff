import { create } from 'zustand';
import type { RewindErrorData, WaitingApproval } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { focusWhenReady } from '../shared/focus.js';
import { useApprovals } from './approvals-store.js';
import { useConnections } from './connections-store.js';
import { useInspector } from './inspector-store.js';
import { selectIsProduction } from './selectors.js';

/*
 * answering an approval: idle → (production: confirming → ) sending → idle | failed
 *
 * On a production connection Approve and Deny ask first, in a confirmation naming the prompt. After
 * the answer, focus goes to the next step where the operator is: on the home, the next request's
 * Approve (or the home's heading when none is left); in the inspector, the run as it moves on.
 */

export type ApprovalDecision = 'approve' | 'deny';
/** Where the answer was given: what focus moves to afterwards. */
export type AnswerOrigin = 'home' | 'inspector';

export interface ApprovalAnswerState {
  confirming: { approval: WaitingApproval; decision: ApprovalDecision; origin: AnswerOrigin } | null;
  /** The comment typed in the confirmation (the inspector's panel keeps its own). */
  comment: string;
  sendingRunId: string | null;
  /** The last refusal, with the run it was about. */
  error: { runId: string; error: RewindErrorData } | null;
}

export const approvalAnswerInitialState: ApprovalAnswerState = { confirming: null, comment: '', sendingRunId: null, error: null };

interface ApprovalAnswerActions {
  /** Answers at once, or — on a production connection — asks for the confirmation first. */
  ask(approval: WaitingApproval, decision: ApprovalDecision, origin: AnswerOrigin, comment?: string): Promise<void>;
  setComment(comment: string): void;
  confirm(): Promise<void>;
  cancel(): void;
}

/** The home's next request after the one answered, or its heading when none is left. */
function focusAfterHome(answeredRunId: string): void {
  const left = useApprovals.getState().waiting.some((a) => a.run.run_id !== answeredRunId);
  focusWhenReady(left ? `[data-testid="home-waiting"]:not([data-run-id="${answeredRunId}"]) [data-testid="home-approve"]` : '[data-testid="home-title"]');
}

export const useApprovalAnswer = create<ApprovalAnswerState & ApprovalAnswerActions>()((set, get) => {
  const send = async (approval: WaitingApproval, decision: ApprovalDecision, origin: AnswerOrigin, comment: string) => {
    const runId = approval.run.run_id;
    set({ sendingRunId: runId, error: null });
    try {
      const text = comment.trim();
      await unwrap(api().runs.approve({ run_id: runId, decision, ...(text ? { comment: text } : {}) }));
      set({ sendingRunId: null, confirming: null, comment: '' });
      await useApprovals.getState().load();
      if (useInspector.getState().runId === runId) {
        useInspector.getState().setApprovalComment('');
        await useInspector.getState().refresh();
      }
      if (origin === 'home') focusAfterHome(runId);
      else focusWhenReady('[data-testid="inspector-title"]');
    } catch (e) {
      set({ sendingRunId: null, error: { runId, error: toErrorData(e) } });
      if (!get().confirming) focusWhenReady(origin === 'home' ? `[data-testid="home-waiting"][data-run-id="${runId}"] [data-testid="home-approval-error"]` : '[data-testid="approval-error"]');
    }
  };

  return {
    ...approvalAnswerInitialState,
    async ask(approval, decision, origin, comment = '') {
      if (get().sendingRunId !== null) return;
      if (selectIsProduction(useConnections.getState())) {
        set({ confirming: { approval, decision, origin }, comment, error: null });
        return;
      }
      await send(approval, decision, origin, comment);
    },
    setComment(comment) {
      set({ comment });
    },
    async confirm() {
      const c = get().confirming;
      if (!c || get().sendingRunId !== null) return;
      await send(c.approval, c.decision, c.origin, get().comment);
    },
    cancel() {
      set({ confirming: null, comment: '', error: null });
    },
  };
});
