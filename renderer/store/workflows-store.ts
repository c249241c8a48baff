import { create } from 'zustand';
import type { RewindErrorData, Workflow } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

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
};

interface WorkflowsActions {
  load(): Promise<void>;
  setQuery(query: string): void;
  select(id: string | null): void;
  togglePause(id: string): Promise<void>;
  clearActionError(): void;
}

export const useWorkflows = create<WorkflowsState & WorkflowsActions>()((set, get) => ({
  ...workflowsInitialState,
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
}));
