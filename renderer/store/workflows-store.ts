import { create } from 'zustand';
import type { RewindErrorData, Run, Workflow } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useToasts } from './toasts-store.js';

export interface WorkflowsState {
  workflows: Workflow[];
  loaded: boolean;
  loading: boolean;
  error: RewindErrorData | null;
  query: string;
  selectedId: string | null;
  /** Pause/unpause in progress or refused. */
  busy: boolean;
  actionError: RewindErrorData | null;
  /** The workflow whose pause waits for the operator's yes (pause: asked → paused, with Undo | cancelled). */
  pauseAsked: string | null;
}

export const workflowsInitialState: WorkflowsState = {
  workflows: [],
  loaded: false,
  loading: false,
  error: null,
  query: '',
  selectedId: null,
  busy: false,
  actionError: null,
  pauseAsked: null,
};

interface WorkflowsActions {
  load(): Promise<void>;
  /** Reads one workflow's row again (a live event named it); gathered, so a burst reads each once. */
  refreshOne(id: string): void;
  setQuery(query: string): void;
  select(id: string | null): void;
  /** Unpauses straight away; a pause is asked first (`askPause`), then offered for Undo. */
  togglePause(id: string): Promise<void>;
  askPause(id: string): void;
  cancelPause(): void;
  /** The yes to `askPause`: pauses, then a toast offers Undo (an unpause) for its few seconds. */
  confirmPause(): Promise<void>;
  clearActionError(): void;
  /** Starts a run of the active version (a running canary may draw it); the run, or null when refused (see actionError). */
  startRun(id: string): Promise<Run | null>;
}

/** Live events are gathered this long before the rows they name are read again. */
const REFRESH_MS = 150;

export const useWorkflows = create<WorkflowsState & WorkflowsActions>()((set, get) => {
  const stale = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const refreshStale = async () => {
    timer = null;
    const ids = [...stale].filter((id) => get().workflows.some((w) => w.id === id));
    stale.clear();
    const before = get().workflows;
    const fresh = await Promise.all(ids.map((workflow_id) => unwrap(api().workflows.get({ workflow_id })).catch(() => null)));
    // A list read meanwhile is newer than these rows.
    if (get().workflows !== before) return;
    const byId = new Map(fresh.filter((w): w is Workflow => w !== null).map((w) => [w.id, w]));
    set({ workflows: before.map((w) => byId.get(w.id) ?? w) });
  };
  return {
    ...workflowsInitialState,
    refreshOne(id) {
      stale.add(id);
      timer ??= setTimeout(() => void refreshStale(), REFRESH_MS);
    },
    async load() {
      set({ loading: true, error: null });
      try {
        const { workflows } = await unwrap(api().workflows.list({}));
        const selectedId = get().selectedId;
        set({
          workflows,
          loaded: true,
          loading: false,
          selectedId: selectedId && workflows.some((w) => w.id === selectedId) ? selectedId : null,
        });
      } catch (e) {
        set({ loading: false, error: toErrorData(e) });
      }
    },
    setQuery(query) {
      set({ query });
    },
    select(id) {
      set({ selectedId: id, actionError: null });
    },
    clearActionError() {
      set({ actionError: null });
    },
    askPause(id) {
      set({ pauseAsked: id, actionError: null });
    },
    cancelPause() {
      set({ pauseAsked: null });
    },
    async confirmPause() {
      const id = get().pauseAsked;
      const wf = get().workflows.find((w) => w.id === id);
      if (!id || !wf) return set({ pauseAsked: null });
      if (wf.status !== 'active') return set({ pauseAsked: null });
      await get().togglePause(id);
      if (get().actionError) return;
      set({ pauseAsked: null });
      const toastId = useToasts.getState().push({
        kind: 'info',
        title: `Paused ${wf.name}`,
        body: 'New runs and schedules wait until it is unpaused.',
        action: {
          label: 'Undo',
          focusAfter: '[data-testid="workflow-pause-toggle"]',
          run: () => {
            useToasts.getState().dismiss(toastId);
            const now = get().workflows.find((w) => w.id === id);
            // Someone may have unpaused it meanwhile: Undo never pauses.
            if (now?.status === 'paused') void get().togglePause(id);
          },
        },
      });
    },
    async startRun(id) {
      const wf = get().workflows.find((w) => w.id === id);
      if (!wf) return null;
      set({ busy: true, actionError: null });
      try {
        const run = await unwrap(api().runs.start({ workflow_id: id, trigger: 'manual' }));
        set({ busy: false });
        useToasts.getState().push({ kind: 'success', title: `Started a run of ${wf.name} on v${run.version}`, body: run.drawn_reason ? `${run.run_id} · ${run.drawn_reason}` : run.run_id });
        return run;
      } catch (e) {
        set({ busy: false, actionError: toErrorData(e) });
        return null;
      }
    },
    async togglePause(id) {
      const wf = get().workflows.find((w) => w.id === id);
      if (!wf) return;
      set({ busy: true, actionError: null });
      try {
        const input = { workflow_id: id, expected_revision: wf.revision };
        const next = await unwrap(wf.status === 'active' ? api().workflows.pause(input) : api().workflows.unpause(input));
        set({ busy: false, workflows: get().workflows.map((w) => (w.id === id ? next : w)) });
      } catch (e) {
        set({ busy: false, actionError: toErrorData(e) });
      }
    },
  };
});
