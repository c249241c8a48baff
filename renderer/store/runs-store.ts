import { create } from 'zustand';
import type { RewindErrorData, RewindEvent, Run, RunStatus } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

export interface RunsFilter {
  workflowId: string | null;
  status: RunStatus | null;
}

/*
 * The run list holds the pages read so far, newest first: the first on opening, the next ones as the
 * list scrolls. Live events re-read only the runs they name (one small read each), never the list.
 */
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
  /** The newest page of the filter. */
  load(): Promise<void>;
  /** The next older page, as the list scrolls near its end. */
  loadMore(): Promise<void>;
  setFilter(filter: Partial<RunsFilter>): Promise<void>;
  /** A live event: the run it names is read again (and shown, if it is new and matches). */
  applyEvent(event: RewindEvent): void;
}

/** A few screens of rows. */
export const RUNS_PAGE = 100;
/** Live run events are gathered this long, so a burst re-reads each run once. */
const REFRESH_MS = 150;

const query = (filter: RunsFilter) => ({
  ...(filter.workflowId ? { workflow_id: filter.workflowId } : {}),
  ...(filter.status ? { status: filter.status } : {}),
  limit: RUNS_PAGE,
});

const matches = (r: Run, f: RunsFilter) => (!f.workflowId || r.workflow_id === f.workflowId) && (!f.status || r.status === f.status);
/** The list's order: newest first, as the server pages it. */
const newestFirst = (a: Run, b: Run) => (a.created_at === b.created_at ? (a.run_id < b.run_id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1);

export const useRuns = create<RunsState & RunsActions>()((set, get) => {
  const stale = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const refreshStale = async () => {
    timer = null;
    const ids = [...stale];
    stale.clear();
    const filter = get().filter;
    const fresh = await Promise.all(ids.map((run_id) => unwrap(api().runs.get({ run_id })).catch(() => null)));
    if (get().filter !== filter || !get().loaded) return;
    const byId = new Map(get().runs.map((r) => [r.run_id, r]));
    const oldest = get().runs[get().runs.length - 1];
    let added = 0;
    for (const run of fresh) {
      if (!run) continue;
      const had = byId.has(run.run_id);
      if (!matches(run, filter)) {
        if (had) {
          byId.delete(run.run_id);
          added -= 1;
        }
        continue;
      }
      // A run older than every loaded one belongs to a page not read yet.
      if (!had && oldest && get().nextCursor !== null && newestFirst(run, oldest) > 0) continue;
      if (!had) added += 1;
      byId.set(run.run_id, run);
    }
    set({ runs: [...byId.values()].sort(newestFirst), total: Math.max(0, get().total + added) });
  };

  return {
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
      const { filter, nextCursor, loadingMore, loading } = get();
      if (nextCursor === null || loadingMore || loading) return;
      set({ loadingMore: true });
      try {
        const page = await unwrap(api().runs.list({ ...query(filter), after: nextCursor }));
        if (get().filter !== filter || get().nextCursor !== nextCursor) return;
        // A run held already (a reload between the pages, a live event) is not shown twice.
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
    applyEvent(event) {
      if (!event.run_id || !get().loaded) return;
      stale.add(event.run_id);
      timer ??= setTimeout(() => void refreshStale(), REFRESH_MS);
    },
  };
});
