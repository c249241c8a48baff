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
  /** Where the older runs after those held start (the server's cursor); null when none are left. */
  nextCursor: string | null;
  loaded: boolean;
  loading: boolean;
  loadingMore: boolean;
  error: RewindErrorData | null;
}

export const runsInitialState: RunsState = {
  runs: [],
  total: 0,
  filter: { workflowId: null, status: null },
  nextCursor: null,
  loaded: false,
  loading: false,
  loadingMore: false,
  error: null,
};

interface RunsActions {
  load(): Promise<void>;
  /** Appends the next page of older runs (keyset: after the last run held). */
  loadMore(): Promise<void>;
  setFilter(filter: Partial<RunsFilter>): Promise<void>;
}

const PAGE = 2000;

const query = (filter: RunsFilter) => ({
  ...(filter.workflowId ? { workflow_id: filter.workflowId } : {}),
  ...(filter.status ? { status: filter.status } : {}),
  limit: PAGE,
});

export const useRuns = create<RunsState & RunsActions>()((set, get) => ({
  ...runsInitialState,
  async load() {
    const filter = get().filter;
    set({ loading: true, error: null });
    try {
      const page = await unwrap(api().runs.list(query(filter)));
      // A newer filter may have been set while this answer was on its way.
      if (get().filter !== filter) return;
      set({ runs: page.runs, total: page.total, nextCursor: page.next_cursor ?? null, loaded: true, loading: false });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  async loadMore() {
    const { filter, nextCursor, loadingMore } = get();
    if (nextCursor === null || loadingMore) return;
    set({ loadingMore: true });
    try {
      const page = await unwrap(api().runs.list({ ...query(filter), after: nextCursor }));
      if (get().filter !== filter || get().nextCursor !== nextCursor) return;
      // A run held already (a reload between the pages) is not shown twice.
      const held = new Set(get().runs.map((r) => r.run_id));
      set({ runs: [...get().runs, ...page.runs.filter((r) => !held.has(r.run_id))], total: page.total, nextCursor: page.next_cursor ?? null, loadingMore: false });
    } catch (e) {
      set({ loadingMore: false, error: toErrorData(e) });
    }
  },
  async setFilter(partial) {
    set({ filter: { ...get().filter, ...partial } });
    await get().load();
  },
}));
