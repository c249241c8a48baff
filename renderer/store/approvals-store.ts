import { create } from 'zustand';
import type { RewindErrorData, Run } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

/** A mirror of the connection's runs held at an approval node, re-read as run events arrive. */
export interface ApprovalsState {
  waiting: Run[];
  /** More runs wait than were read (the badge then says "N+"). */
  more: boolean;
  error: RewindErrorData | null;
}

export const approvalsInitialState: ApprovalsState = { waiting: [], more: false, error: null };

/** Far more than an operator answers by hand; the total still shows when it is exceeded. */
const WAITING_LIMIT = 500;

interface ApprovalsActions {
  load(): Promise<void>;
}

export const useApprovals = create<ApprovalsState & ApprovalsActions>()((set) => ({
  ...approvalsInitialState,
  async load() {
    try {
      const { runs, total } = await unwrap(api().runs.list({ status: 'waiting', limit: WAITING_LIMIT }));
      set({ waiting: runs, more: total > runs.length, error: null });
    } catch (e) {
      set({ error: toErrorData(e) });
    }
  },
}));

/** How many runs of each workflow wait for an answer. */
export function waitingByWorkflow(waiting: Run[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of waiting) out.set(r.workflow_id, (out.get(r.workflow_id) ?? 0) + 1);
  return out;
}
