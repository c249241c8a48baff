import { create } from 'zustand';
import type { RewindErrorData, StoredRunbook } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

export type RunbookTab = 'rehearse' | 'history' | 'edit';
export type RunbookFormat = 'yaml' | 'json';

/*
 * editor: idle → importing → idle (saved) | idle (error: the step and field at fault)
 */
export interface RunbookEditorState {
  /** The runbook being edited; null for a new one. */
  runbookId: string | null;
  text: string;
  format: RunbookFormat;
  importing: boolean;
  error: RewindErrorData | null;
  /** The name of the runbook the last import saved. */
  saved: string | null;
}

/** A mirror of the connection's runbooks plus the editor's draft. */
export interface RunbooksState {
  runbooks: StoredRunbook[];
  loaded: boolean;
  loading: boolean;
  error: RewindErrorData | null;
  selectedId: string | null;
  tab: RunbookTab;
  editor: RunbookEditorState;
  exportError: RewindErrorData | null;
}

const editorInitial: RunbookEditorState = { runbookId: null, text: '', format: 'yaml', importing: false, error: null, saved: null };

export const runbooksInitialState: RunbooksState = {
  runbooks: [],
  loaded: false,
  loading: false,
  error: null,
  selectedId: null,
  tab: 'rehearse',
  editor: editorInitial,
  exportError: null,
};

/** What a new runbook starts from: the smallest valid one, to be edited. */
export const NEW_RUNBOOK_YAML = `name: New runbook
description: What incident this answers, and when to use it.
level: application
steps:
  - kind: checklist
    title: Before rolling back
    expected_ms: 60000
    items:
      - Record the active version and the failing node
  - kind: action
    title: Roll back to the previous version
    expected_ms: 30000
    action:
      type: rollback
      workflow: ml-training-pipeline
      to: previous
`;

interface RunbooksActions {
  load(): Promise<void>;
  select(id: string | null, tab?: RunbookTab): void;
  setTab(tab: RunbookTab): void;
  /** Opens the editor on a new runbook, or on a pasted/imported text. */
  editNew(text?: string, format?: RunbookFormat): void;
  /** Opens the editor on a stored runbook, as YAML. */
  editExisting(id: string): Promise<void>;
  setText(text: string): void;
  setFormat(format: RunbookFormat): void;
  /** Validates and saves the editor's text through `runbooks:import`. */
  importText(): Promise<StoredRunbook | null>;
  exportText(id: string, format: RunbookFormat): Promise<string | null>;
}

/** A file's format from its name, or from its first character when the name says nothing. */
export function guessFormat(fileName: string, text: string): RunbookFormat {
  if (/\.json$/i.test(fileName)) return 'json';
  if (/\.ya?ml$/i.test(fileName)) return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

export const useRunbooks = create<RunbooksState & RunbooksActions>()((set, get) => ({
  ...runbooksInitialState,
  async load() {
    set({ loading: true, error: null });
    try {
      const { runbooks } = await unwrap(api().runbooks.list({}));
      const selectedId = get().selectedId;
      set({
        runbooks,
        loaded: true,
        loading: false,
        selectedId: selectedId && runbooks.some((r) => r.id === selectedId) ? selectedId : (runbooks[0]?.id ?? null),
      });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  select(id, tab) {
    set({ selectedId: id, tab: tab ?? (get().tab === 'edit' ? 'rehearse' : get().tab), exportError: null });
  },
  setTab(tab) {
    set({ tab });
  },
  editNew(text = NEW_RUNBOOK_YAML, format = 'yaml') {
    set({ tab: 'edit', editor: { ...editorInitial, text, format } });
  },
  async editExisting(id) {
    set({ selectedId: id, tab: 'edit', editor: { ...editorInitial, runbookId: id, importing: true } });
    try {
      const { text } = await unwrap(api().runbooks.export({ runbook: id, format: 'yaml' }));
      if (get().editor.runbookId === id) set({ editor: { ...get().editor, text, importing: false } });
    } catch (e) {
      set({ editor: { ...get().editor, importing: false, error: toErrorData(e) } });
    }
  },
  setText(text) {
    set({ editor: { ...get().editor, text, saved: null } });
  },
  setFormat(format) {
    set({ editor: { ...get().editor, format } });
  },
  async importText() {
    const { text, format } = get().editor;
    set({ editor: { ...get().editor, importing: true, error: null, saved: null } });
    try {
      const stored = await unwrap(api().runbooks.import({ text, format }));
      set({ editor: { ...get().editor, runbookId: stored.id, importing: false, saved: stored.name }, selectedId: stored.id });
      await get().load();
      return stored;
    } catch (e) {
      set({ editor: { ...get().editor, importing: false, error: toErrorData(e) } });
      return null;
    }
  },
  async exportText(id, format) {
    set({ exportError: null });
    try {
      const { text } = await unwrap(api().runbooks.export({ runbook: id, format }));
      return text;
    } catch (e) {
      set({ exportError: toErrorData(e) });
      return null;
    }
  },
}));
