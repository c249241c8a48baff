import { create } from 'zustand';
import type { EventPage, RewindErrorData, RewindEvent, VersionDiff, VersionListItem } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { eventVersions } from '../shared/event-text.js';

/**
 * One row of the timeline: a version (carrying its publish, so a publish is one row), or a rollback —
 * or a publish whose version is not loaded — drawn between versions at the time it happened. `seq` is
 * the event's (for a version, its `version_created` event's) and orders rows within one second.
 */
export type TimelineRow =
  | { kind: 'version'; key: string; time: string; seq: number | null; version: VersionListItem; published: RewindEvent | null }
  | { kind: 'publish'; key: string; time: string; seq: number; event: RewindEvent; version: number | null }
  | { kind: 'rollback'; key: string; time: string; seq: number; event: RewindEvent; from: number | null; to: number | null };

export interface TimelineState {
  workflowId: string | null;
  /** Newest first: the pages loaded so far (without their DSL; a diff or an opened version fetches its own). */
  versions: VersionListItem[];
  /** Every version the workflow has; more than `versions.length` while pages remain to load. */
  total: number;
  /** Where the next page starts; null once every version is loaded. */
  nextOffset: number | null;
  loadingMore: boolean;
  /** version_created, version_published and workflow_rollback events of this workflow back to the oldest loaded version, in seq order. */
  lifecycle: RewindEvent[];
  /** Where the lifecycle events older than those held end (the `before` of the next read); null once all are held. */
  lifecycleBefore: number | null;
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
  total: 0,
  nextOffset: null,
  loadingMore: false,
  lifecycle: [],
  lifecycleBefore: null,
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
  /** The next page of older versions, as the timeline scrolls near its end. */
  loadMore(): Promise<void>;
  /** Every remaining page, one after another (End on the timeline). */
  loadAll(): Promise<void>;
  toggleSelect(version: number): void;
  clearSelection(): void;
  /** Keeps the timeline current from the live stream without reloading every version. */
  applyEvent(event: RewindEvent): Promise<void>;
}

const LIFECYCLE = new Set(['version_created', 'version_published', 'workflow_rollback']);
const LIFECYCLE_TYPES = [...LIFECYCLE].join(',');
// Pages small enough that no answer nears the 1 MB cap, large enough to fill many screens.
const EVENT_PAGE = 2000;
export const VERSION_PAGE = 500;

/**
 * The rows of the loaded versions, with the rollbacks among them; a publish is drawn on its version's
 * row. While older pages remain (`complete` false), events older than the oldest loaded version wait
 * for their page, so a row never jumps once drawn.
 */
export function buildRows(versions: VersionListItem[], lifecycle: RewindEvent[], complete = true): TimelineRow[] {
  const created = new Map<number, number>();
  const published = new Map<number, RewindEvent>();
  const loaded = new Set(versions.map((v) => v.version));
  const rows: TimelineRow[] = [];
  const oldest = versions[versions.length - 1]?.created_at;
  for (const e of lifecycle) {
    const vs = eventVersions(e);
    if (e.type === 'version_created') {
      if (vs.to !== null) created.set(vs.to, e.seq);
      continue;
    }
    if (e.type === 'version_published' && vs.to !== null && loaded.has(vs.to)) {
      published.set(vs.to, e);
      continue;
    }
    if (!complete && oldest !== undefined && e.ts < oldest) continue;
    rows.push(
      e.type === 'workflow_rollback'
        ? { kind: 'rollback', key: `e${e.seq}`, time: e.ts, seq: e.seq, event: e, from: vs.from, to: vs.to }
        : { kind: 'publish', key: `e${e.seq}`, time: e.ts, seq: e.seq, event: e, version: vs.to },
    );
  }
  for (const v of versions) {
    rows.push({ kind: 'version', key: `v${v.version}`, time: v.created_at, seq: created.get(v.version) ?? null, version: v, published: published.get(v.version) ?? null });
  }
  return rows.sort(newestFirst);
}

/**
 * Newest first by the second shown; within one second the log's order (seq) decides, since clocks
 * at second precision cannot. Without a seq (a version whose creation event is not loaded), a
 * lifecycle event sorts above the version it acts on.
 */
function newestFirst(a: TimelineRow, b: TimelineRow): number {
  const sa = a.time.slice(0, 19);
  const sb = b.time.slice(0, 19);
  if (sa !== sb) return sa < sb ? 1 : -1;
  if (a.seq !== null && b.seq !== null) return b.seq - a.seq;
  if (a.time !== b.time) return a.time < b.time ? 1 : -1;
  if (a.kind === 'version' && b.kind === 'version') return b.version.version - a.version.version;
  if (a.kind === 'version') return 1;
  if (b.kind === 'version') return -1;
  return b.seq - a.seq;
}

/** Where the page after this one starts: the server's word, else the end of what the page holds. */
function pageEnd(page: { versions: unknown[]; total: number; next_offset: number | null }, offset: number): number | null {
  if (page.next_offset !== null) return page.next_offset;
  const end = offset + page.versions.length;
  return end < page.total ? end : null;
}

/** `before` for the newest page: every seq is below it. */
const NEWEST = Number.MAX_SAFE_INTEGER;
/** Lifecycle events are read back to a minute before the oldest loaded version: its own creation is among them. */
const MARGIN_MS = 60_000;

/**
 * The workflow's lifecycle events (filtered by type on the server), newest first from `before`, back
 * to `since` (null: to the first) — what the loaded versions' rows need, never the workflow's runs.
 * Answers them in seq order, with the cursor of the next older page (null once none is left).
 */
async function fetchLifecycle(workflowId: string, before: number, since: string | null): Promise<{ events: RewindEvent[]; nextBefore: number | null }> {
  const out: RewindEvent[] = [];
  let cursor: number | null = before;
  const from = since === null ? {} : { since: new Date(Date.parse(since) - MARGIN_MS).toISOString() };
  while (cursor !== null) {
    const page: EventPage = await unwrap(api().events.list({ workflow_id: workflowId, type: LIFECYCLE_TYPES, before: cursor, limit: EVENT_PAGE, ...from }));
    out.push(...page.events);
    cursor = page.next_before !== undefined ? page.next_before : page.events.length < EVENT_PAGE ? null : page.events[page.events.length - 1]!.seq;
  }
  // What is older than `since` is read when older versions are: from where this read started going back.
  const nextBefore = since === null ? null : Math.min(before, ...out.map((e) => e.seq));
  return { events: out.reverse(), nextBefore };
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
        const page = await unwrap(api().versions.list({ workflow_id: workflowId, limit: VERSION_PAGE, include_dsl: false }));
        const nextOffset = pageEnd(page, 0);
        const oldest = nextOffset === null ? null : (page.versions[page.versions.length - 1]?.created_at ?? null);
        const { events: lifecycle, nextBefore } = await fetchLifecycle(workflowId, NEWEST, oldest);
        if (get().workflowId !== workflowId) return;
        set({ versions: page.versions, total: page.total, nextOffset, lifecycle, lifecycleBefore: nextBefore, rows: buildRows(page.versions, lifecycle, nextOffset === null), loading: false });
      } catch (e) {
        if (get().workflowId === workflowId) set({ loading: false, error: toErrorData(e) });
      }
    },
    async loadMore() {
      const { workflowId, nextOffset, loadingMore } = get();
      if (!workflowId || nextOffset === null || loadingMore) return;
      set({ loadingMore: true });
      try {
        const page = await unwrap(api().versions.list({ workflow_id: workflowId, offset: nextOffset, limit: VERSION_PAGE, include_dsl: false }));
        // A version created meanwhile shifts the offsets by one: never show a version twice.
        const seen = new Set(get().versions.map((v) => v.version));
        const versions = [...get().versions, ...page.versions.filter((v) => !seen.has(v.version))];
        const next = pageEnd(page, nextOffset);
        const before = get().lifecycleBefore;
        const older = before === null ? null : await fetchLifecycle(workflowId, before, next === null ? null : (versions[versions.length - 1]?.created_at ?? null));
        if (get().workflowId !== workflowId) return;
        const held = new Set(get().lifecycle.map((e) => e.seq));
        const lifecycle = older ? [...older.events.filter((e) => !held.has(e.seq)), ...get().lifecycle] : get().lifecycle;
        set({ versions, total: page.total, nextOffset: next, lifecycle, lifecycleBefore: older ? older.nextBefore : null, loadingMore: false, rows: buildRows(versions, lifecycle, next === null) });
      } catch (e) {
        set({ loadingMore: false, error: toErrorData(e) });
      }
    },
    async loadAll() {
      const workflowId = get().workflowId;
      while (get().workflowId === workflowId && get().nextOffset !== null && !get().error) {
        if (get().loadingMore) await new Promise((r) => setTimeout(r, 20));
        else await get().loadMore();
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
        for (const v of fresh) {
          const { dsl_definition: _dsl, ...item } = v;
          byNumber.set(v.version, item);
        }
        const versions = [...byNumber.values()].sort((a, b) => b.version - a.version);
        const lifecycle = LIFECYCLE.has(event.type) && !get().lifecycle.some((e) => e.seq === event.seq) ? [...get().lifecycle, event] : get().lifecycle;
        const added = versions.length - get().versions.length;
        set({ versions, total: get().total + added, lifecycle, rows: buildRows(versions, lifecycle, get().nextOffset === null) });
      } catch (e) {
        set({ error: toErrorData(e) });
      }
    },
  };
});
