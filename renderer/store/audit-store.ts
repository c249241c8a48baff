import { create } from 'zustand';
import type { ChainStatus, RewindErrorData, RewindEvent } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

export interface AuditFilter {
  workflowId: string;
  actor: string;
  type: string;
}

export interface AuditState {
  /** Seq order, oldest first. */
  events: RewindEvent[];
  lastSeq: number;
  loaded: boolean;
  loading: boolean;
  error: RewindErrorData | null;
  filter: AuditFilter;
  chain: ChainStatus | null;
  verifying: boolean;
  chainError: RewindErrorData | null;
}

export const auditInitialState: AuditState = {
  events: [],
  lastSeq: 0,
  loaded: false,
  loading: false,
  error: null,
  filter: { workflowId: '', actor: '', type: '' },
  chain: null,
  verifying: false,
  chainError: null,
};

interface AuditActions {
  /** Loads every event after the last one held: the first load and the catch-up after a reconnect alike. */
  catchUp(): Promise<void>;
  append(event: RewindEvent): void;
  setFilter(filter: Partial<AuditFilter>): void;
  verify(): Promise<void>;
}

const PAGE = 10000;
/** Pushes that arrive before the first load finishes; merged once it has. */
let early: RewindEvent[] = [];

export const useAudit = create<AuditState & AuditActions>()((set, get) => ({
  ...auditInitialState,
  async catchUp() {
    if (get().loading) return;
    set({ loading: true, error: null });
    try {
      for (;;) {
        const { events } = await unwrap(api().events.list({ after: get().lastSeq, limit: PAGE }));
        const fresh = events.filter((e) => e.seq > get().lastSeq);
        if (fresh.length > 0) set({ events: [...get().events, ...fresh], lastSeq: fresh[fresh.length - 1]!.seq });
        if (events.length < PAGE) break;
      }
      const held = early.filter((e) => e.seq > get().lastSeq).sort((a, b) => a.seq - b.seq);
      early = [];
      if (held.length > 0) set({ events: [...get().events, ...held], lastSeq: held[held.length - 1]!.seq });
      set({ loading: false, loaded: true });
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  append(event) {
    const { lastSeq, events, loaded } = get();
    if (!loaded) {
      early.push(event);
      return;
    }
    // Each event once, in order: the stream and a catch-up may both deliver one.
    if (event.seq <= lastSeq) return;
    if (event.seq > lastSeq + 1) {
      // A gap means pushes were missed (a reconnect): fetch everything after the last held seq.
      void get().catchUp();
      return;
    }
    set({ events: [...events, event], lastSeq: event.seq });
  },
  setFilter(partial) {
    set({ filter: { ...get().filter, ...partial } });
  },
  async verify() {
    set({ verifying: true, chainError: null });
    try {
      const chain = await unwrap(api().events.verify({}));
      set({ chain, verifying: false });
    } catch (e) {
      set({ verifying: false, chainError: toErrorData(e) });
    }
  },
}));
