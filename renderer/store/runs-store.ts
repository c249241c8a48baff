import { create } from 'zustand';
import type { RewindErrorData, Run, RunStatus } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

export interface RunsFilter {
  workflowId: string | null;
  status: RunStatus | null;
}

export interface RunsState {
  runs: Run[];
  total: number;
  filter: RunsFilter;
  loaded: boolean;
  loading: boolean;
  error: RewindErrorData | null;
}

export const runsInitialState: RunsState = {
  runs: [],
  total: 0,
  filter: { workflowId: null, status: null },
  loaded: false,
  loading: false,
  error: null,
};

interface RunsActions {
  load(): Promise<void>;
  setFilter(filter: Partial<RunsFilter>): Promise<void>;
}

const PAGE = 2000;

export const useRuns = create<RunsState & RunsActions>()((set, get) => ({
  ...runsInitialState,
  async load() {
    const filter = get().filter;
    set({ loading: true, error: null });
    try {
      const { runs, total } = await unwrap(
        api().runs.list({
          ...(filter.workflowId ? { workflow_id: filter.workflowId } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          limit: PAGE,
        }),
      );
      // A newer filter may have been set while this answer was on its way.
      if (get().filter !== filter) return;
      set({ runs, total, loaded: true, loading: false });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  async setFilter(partial) {
    set({ filter: { ...get().filter, ...partial } });
    await get().load();
  },
}));
