import { create } from 'zustand';
import type { IncidentSummary, RewindErrorData } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useIncidentRecords } from './incident-records-store.js';

/** A mirror of the connection's incident summary (`incidents:summary`), re-read as events arrive. */
export interface IncidentsState {
  summary: IncidentSummary | null;
  loading: boolean;
  error: RewindErrorData | null;
}

export const incidentsInitialState: IncidentsState = { summary: null, loading: false, error: null };

interface IncidentsActions {
  load(): Promise<void>;
}

export const useIncidents = create<IncidentsState & IncidentsActions>()((set) => ({
  ...incidentsInitialState,
  async load() {
    set({ loading: true });
    // The open records are re-read with the summary: the cards show them beside the counts.
    void useIncidentRecords.getState().load();
    try {
      const summary = await unwrap(api().incidents.summary({}));
      set({ summary, loading: false, error: null });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
}));
