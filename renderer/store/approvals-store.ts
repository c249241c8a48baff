import { create } from 'zustand';
import type { RewindErrorData, Run, WaitingApproval } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

/** A mirror of the connection's runs held at an approval node, with what each asks, re-read as run events arrive. */
export interface ApprovalsState {
  /** Oldest request first: the one that has waited longest is answered first. */
  waiting: WaitingApproval[];
  /** More runs wait than were read (the badge then says "N+"). */
  more: boolean;
  error: RewindErrorData | null;
}

export const approvalsInitialState: ApprovalsState = { waiting: [], more: false, error: null };

/** Far more than an operator answers by hand; the total still shows when it is exceeded. */
const WAITING_LIMIT = 500;

/** A waiting run as a server from before `approvals:list` lets us see it: no prompt, nothing known done. */
const unknownRequest = (run: Run): WaitingApproval => ({ run, workflow_name: run.workflow_id, node_id: null, prompt: null, requested_at: null, timeout_ms: null, done: [], nodes_total: 0 });

interface ApprovalsActions {
  load(): Promise<void>;
}

export const useApprovals = create<ApprovalsState & ApprovalsActions>()((set) => ({
  ...approvalsInitialState,
  async load() {
    try {
      const answer = await api().approvals.list({ limit: WAITING_LIMIT });
      if (!answer.ok && answer.error.code === 'NOT_FOUND') {
        // A server that predates approvals:list: the waiting runs, without what they ask.
        const { runs, total } = await unwrap(api().runs.list({ status: 'waiting', limit: WAITING_LIMIT }));
        set({ waiting: runs.map(unknownRequest), more: total > runs.length, error: null });
        return;
      }
      const { approvals, total } = await unwrap(Promise.resolve(answer));
      set({ waiting: approvals, more: total > approvals.length, error: null });
    } catch (e) {
      set({ error: toErrorData(e) });
    }
  },
}));

/** How many runs of each workflow wait for an answer. */
export function waitingByWorkflow(waiting: WaitingApproval[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of waiting) out.set(a.run.workflow_id, (out.get(a.run.workflow_id) ?? 0) + 1);
  return out;
}
