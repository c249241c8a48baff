import { create } from 'zustand';
import type { RewindErrorData, StoredRehearsal } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { downloadText } from '../shared/download.js';

/** One runbook's rehearsal history and the report being read. */
export interface HistoryState {
  runbookId: string | null;
  /** Newest first, as the backend answers. */
  rehearsals: StoredRehearsal[];
  loading: boolean;
  error: RewindErrorData | null;
  /** The rehearsal whose report is open. */
  reportId: string | null;
  markdown: string | null;
  reportLoading: boolean;
  reportError: RewindErrorData | null;
  /** Where the report was saved (a save dialog's file), or that it went out as a download. */
  reportSaved: { path: string | null } | null;
}

export const historyInitialState: HistoryState = {
  runbookId: null,
  rehearsals: [],
  loading: false,
  error: null,
  reportId: null,
  markdown: null,
  reportLoading: false,
  reportError: null,
  reportSaved: null,
};

interface HistoryActions {
  load(runbookId: string): Promise<void>;
  openReport(rehearsalId: string): Promise<void>;
  closeReport(): void;
  /** Saves the open report: a save dialog on the desktop, a download in browser mode. */
  saveReport(fileName: string): Promise<void>;
}

export const useHistory = create<HistoryState & HistoryActions>()((set, get) => ({
  ...historyInitialState,
  async load(runbookId) {
    const same = get().runbookId === runbookId;
    set({ runbookId, loading: true, error: null, ...(same ? {} : { rehearsals: [] }) });
    try {
      const { rehearsals } = await unwrap(api().rehearsals.list({ runbook: runbookId }));
      if (get().runbookId === runbookId) set({ rehearsals, loading: false });
    } catch (e) {
      if (get().runbookId === runbookId) set({ loading: false, error: toErrorData(e) });
    }
  },
  async openReport(rehearsalId) {
    set({ reportId: rehearsalId, markdown: null, reportLoading: true, reportError: null });
    try {
      const { markdown } = await unwrap(api().rehearsals.report({ rehearsal_id: rehearsalId }));
      if (get().reportId === rehearsalId) set({ markdown, reportLoading: false });
    } catch (e) {
      if (get().reportId === rehearsalId) set({ reportLoading: false, reportError: toErrorData(e) });
    }
  },
  closeReport() {
    set({ reportId: null, markdown: null, reportLoading: false, reportError: null, reportSaved: null });
  },
  async saveReport(fileName) {
    const markdown = get().markdown;
    if (markdown === null) return;
    set({ reportSaved: null, reportError: null });
    try {
      const result = await unwrap(api().files.saveText({ file_name: fileName, text: markdown }));
      // Browser mode has no save dialog: the page saves it as a download.
      if (result.download) downloadText(fileName, markdown, 'text/markdown');
      if (result.saved || result.download) set({ reportSaved: { path: result.path } });
    } catch (e) {
      set({ reportError: toErrorData(e) });
    }
  },
}));
