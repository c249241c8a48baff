import { create } from 'zustand';
import type { BackfillResult, RewindErrorData, ScheduleInfo } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useRuns } from './runs-store.js';

/*
 * The selected workflow's schedule (its next fire times), and the backfill dialog:
 * backfill: closed → editing → previewed (the ticks listed) → starting → started | failed
 * Runs start only from a preview of the very range shown: changing the range asks for a new one.
 */
export interface ScheduleState {
  info: ScheduleInfo | null;
  infoError: RewindErrorData | null;
  backfillOpen: boolean;
  from: string;
  to: string;
  /** The backfill's limit on runs in flight, as typed; empty: every run starts at once. */
  maxConcurrent: string;
  /** The dry run of [from, to) as last previewed; null after the range changed. */
  preview: BackfillResult | null;
  previewing: boolean;
  starting: boolean;
  result: BackfillResult | null;
  error: RewindErrorData | null;
}

export const scheduleInitialState: ScheduleState = {
  info: null,
  infoError: null,
  backfillOpen: false,
  from: '',
  to: '',
  maxConcurrent: '',
  preview: null,
  previewing: false,
  starting: false,
  result: null,
  error: null,
};

interface ScheduleActions {
  load(workflowId: string): Promise<void>;
  openBackfill(): void;
  closeBackfill(): void;
  setRange(range: { from?: string; to?: string }): void;
  setMaxConcurrent(value: string): void;
  previewBackfill(workflowId: string): Promise<void>;
  startBackfill(workflowId: string): Promise<boolean>;
}

export const useSchedule = create<ScheduleState & ScheduleActions>()((set, get) => ({
  ...scheduleInitialState,
  async load(workflowId) {
    try {
      const info = await unwrap(api().schedules.get({ workflow_id: workflowId }));
      set({ info, infoError: null });
    } catch (e) {
      set({ info: null, infoError: toErrorData(e) });
    }
  },
  openBackfill() {
    set({ backfillOpen: true, from: '', to: '', maxConcurrent: '', preview: null, result: null, error: null });
  },
  closeBackfill() {
    set({ backfillOpen: false, preview: null, result: null, error: null, previewing: false, starting: false });
  },
  setRange(range) {
    set({ ...range, preview: null, result: null, error: null });
  },
  setMaxConcurrent(value) {
    set({ maxConcurrent: value, result: null, error: null });
  },
  async previewBackfill(workflowId) {
    const { from, to } = get();
    set({ previewing: true, error: null, preview: null });
    try {
      const preview = await unwrap(api().schedules.backfill({ workflow_id: workflowId, from, to, dry_run: true }));
      // A range edited while the preview was on its way is not what it lists.
      if (get().from === from && get().to === to) set({ preview, previewing: false });
      else set({ previewing: false });
    } catch (e) {
      set({ previewing: false, error: toErrorData(e) });
    }
  },
  async startBackfill(workflowId) {
    const { from, to, preview } = get();
    if (!preview) return false;
    set({ starting: true, error: null });
    try {
      const limit = get().maxConcurrent.trim();
      // The server checks the range (1–1000) and names the field when it refuses.
      const result = await unwrap(api().schedules.backfill({ workflow_id: workflowId, from, to, ...(limit === '' ? {} : { max_concurrent: Number(limit) }) }));
      set({ starting: false, result });
      void useRuns.getState().load();
      void get().load(workflowId);
      return true;
    } catch (e) {
      set({ starting: false, error: toErrorData(e) });
      return false;
    }
  },
}));
