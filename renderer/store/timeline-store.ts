import { create } from 'zustand';
import type { RewindErrorData, RewindEvent, VersionDiff, WorkflowVersion } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { eventVersions } from '../shared/event-text.js';

/** One row of the timeline: a version, or a publish/rollback drawn between versions at the time it happened. */
export type TimelineRow =
  | { kind: 'version'; key: string; time: string; version: WorkflowVersion }
  | { kind: 'publish'; key: string; time: string; event: RewindEvent; version: number | null }
  | { kind: 'rollback'; key: string; time: string; event: RewindEvent; from: number | null; to: number | null };

export interface TimelineState {
  workflowId: string | null;
  /** Newest first. */
  versions: WorkflowVersion[];
  /** version_published and workflow_rollback events of this workflow, in seq order. */
  lifecycle: RewindEvent[];
  rows: TimelineRow[];
  loading: boolean;
  error: RewindErrorData | null;
  /** Up to two version numbers picked for the diff, in picking order. */
  selected: number[];
  diff: VersionDiff | null;
  diffLoading: boolean;
  diffError: RewindErrorData | null;
}

export const timelineInitialState: TimelineState = {
  workflowId: null,
  versions: [],
  lifecycle: [],
  rows: [],
  loading: false,
  error: null,
  selected: [],
  diff: null,
  diffLoading: false,
  diffError: null,
};

interface TimelineActions {
  load(workflowId: string): Promise<void>;
  toggleSelect(version: number): void;
  clearSelection(): void;
  /** Keeps the timeline current from the live stream without reloading every version. */
  applyEvent(event: RewindEvent): Promise<void>;
}

const LIFECYCLE = new Set(['version_published', 'workflow_rollback']);
const EVENT_PAGE = 10000;

export function buildRows(versions: WorkflowVersion[], lifecycle: RewindEvent[]): TimelineRow[] {
  const rows: TimelineRow[] = versions.map((v) => ({ kind: 'version', key: `v${v.version}`, time: v.created_at, version: v }));
  for (const e of lifecycle) {
    const vs = eventVersions(e);
    rows.push(
      e.type === 'workflow_rollback'
        ? { kind: 'rollback', key: `e${e.seq}`, time: e.ts, event: e, from: vs.from, to: vs.to }
        : { kind: 'publish', key: `e${e.seq}`, time: e.ts, event: e, version: vs.to },
    );
  }
  // Newest first; at the same instant a lifecycle event follows the version it acts on, so it sorts above it.
  return rows.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? 1 : -1;
    if (a.kind === 'version' && b.kind === 'version') return b.version.version - a.version.version;
    if (a.kind === 'version') return 1;
    if (b.kind === 'version') return -1;
    return b.event.seq - a.event.seq;
  });
}

async function fetchLifecycle(workflowId: string): Promise<RewindEvent[]> {
  const out: RewindEvent[] = [];
  let after = 0;
  for (;;) {
    const { events } = await unwrap(api().events.list({ workflow_id: workflowId, after, limit: EVENT_PAGE }));
    for (const e of events) if (LIFECYCLE.has(e.type)) out.push(e);
    if (events.length < EVENT_PAGE) return out;
    after = events[events.length - 1]!.seq;
  }
}

export const useTimeline = create<TimelineState & TimelineActions>()((set, get) => {
  const loadDiff = async (workflowId: string, a: number, b: number) => {
    set({ diffLoading: true, diffError: null, diff: null });
    try {
      const diff = await unwrap(api().versions.diff({ workflow_id: workflowId, from: Math.min(a, b), to: Math.max(a, b) }));
      if (get().workflowId === workflowId) set({ diff, diffLoading: false });
    } catch (e) {
      set({ diffLoading: false, diffError: toErrorData(e) });
    }
  };

  return {
    ...timelineInitialState,
    async load(workflowId) {
      const same = get().workflowId === workflowId;
      set({ ...(same ? {} : timelineInitialState), workflowId, loading: true, error: null });
      try {
        const [{ versions }, lifecycle] = await Promise.all([
          unwrap(api().versions.list({ workflow_id: workflowId })),
          fetchLifecycle(workflowId),
        ]);
        if (get().workflowId !== workflowId) return;
        set({ versions, lifecycle, rows: buildRows(versions, lifecycle), loading: false });
      } catch (e) {
        if (get().workflowId === workflowId) set({ loading: false, error: toErrorData(e) });
      }
    },
    toggleSelect(version) {
      const { selected, workflowId } = get();
      const next = selected.includes(version) ? selected.filter((v) => v !== version) : [...selected, version].slice(-2);
      set({ selected: next, diff: next.length === 2 ? get().diff : null, diffError: null });
      if (workflowId && next.length === 2) void loadDiff(workflowId, next[0]!, next[1]!);
    },
    clearSelection() {
      set({ selected: [], diff: null, diffError: null });
    },
    async applyEvent(event) {
      const workflowId = get().workflowId;
      if (!workflowId || event.workflow_id !== workflowId) return;
      const { from, to } = eventVersions(event);
      const touched = [from, to].filter((v): v is number => v !== null);
      if (touched.length === 0) return;
      try {
        const fresh = await Promise.all(touched.map((version) => unwrap(api().versions.get({ workflow_id: workflowId, version }))));
        if (get().workflowId !== workflowId) return;
        const byNumber = new Map(get().versions.map((v) => [v.version, v]));
        for (const v of fresh) byNumber.set(v.version, v);
        const versions = [...byNumber.values()].sort((a, b) => b.version - a.version);
        const lifecycle = LIFECYCLE.has(event.type) && !get().lifecycle.some((e) => e.seq === event.seq) ? [...get().lifecycle, event] : get().lifecycle;
        set({ versions, lifecycle, rows: buildRows(versions, lifecycle) });
      } catch (e) {
        set({ error: toErrorData(e) });
      }
    },
  };
});
