import { create } from 'zustand';
import type { ApiInput, ChainStatus, RewindErrorData, RewindEvent } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';

/** The audit log's filters, applied by the server (`events:list`); '' is "any". Times are ISO. */
export interface AuditFilter {
  workflowId: string;
  actor: string;
  type: string;
  since: string;
  until: string;
}

/*
 * The audit log never holds the log: it reads the newest page from the head, older pages as the
 * operator scrolls back (keyset cursor `before`), and follows the live stream from the head.
 *
 * audit: idle → loading → shown (⇄ loading older) ; a filter change, a reset or a gap too wide to
 * fill goes back to loading from the head.
 */
export interface AuditState {
  /** The pages read so far that match the filter, newest first. */
  events: RewindEvent[];
  /** The newest seq of the log this view has seen (whatever the filter): live pushes continue from it. */
  headSeq: number;
  /** The `before` of the next older page; null when nothing older matches. */
  nextBefore: number | null;
  loaded: boolean;
  loading: boolean;
  loadingOlder: boolean;
  error: RewindErrorData | null;
  filter: AuditFilter;
  chain: ChainStatus | null;
  verifying: boolean;
  chainError: RewindErrorData | null;
}

export const auditInitialState: AuditState = {
  events: [],
  headSeq: 0,
  nextBefore: null,
  loaded: false,
  loading: false,
  loadingOlder: false,
  error: null,
  filter: { workflowId: '', actor: '', type: '', since: '', until: '' },
  chain: null,
  verifying: false,
  chainError: null,
};

interface AuditActions {
  /** Reads the newest page of the log from its head: the first load, after a reset or a filter change. */
  load(): Promise<void>;
  /** The next older page, as the list scrolls near its end. */
  loadOlder(): Promise<void>;
  /** A live event of the selected connection. */
  append(event: RewindEvent): void;
  /** After the console's own connection came back: reads what was appended meanwhile, if anything. */
  catchUp(): Promise<void>;
  setFilter(filter: Partial<AuditFilter>): void;
  verify(): Promise<void>;
  /** Back to the initial state (a connection switch): answers still on their way are dropped. */
  reset(): void;
}

/** Rows per page: a few screens, ~40 KB. */
export const AUDIT_PAGE = 200;
/** A page shorter than this (a rare filter) is followed by the next one, up to FOLLOW_SHORT_PAGES requests. */
const SCREENFUL = 50;
const FOLLOW_SHORT_PAGES = 10;
/**
 * Live events prepended beyond this many held rows push the oldest ones out (they are read again on
 * scrolling back): a console left open for a week holds what it did on the first day.
 */
export const AUDIT_MAX_HELD = 20_000;

/** The filter as `events:list` takes it. */
export function auditQuery(f: AuditFilter): Partial<ApiInput<'events:list'>> {
  return {
    ...(f.workflowId ? { workflow_id: f.workflowId } : {}),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.type ? { type: f.type } : {}),
    ...(f.since ? { since: f.since } : {}),
    ...(f.until ? { until: f.until } : {}),
  };
}

/** Whether a live event belongs in the filtered view (the same test the server applies). */
export function matchesAudit(e: RewindEvent, f: AuditFilter): boolean {
  if (f.workflowId && e.workflow_id !== f.workflowId) return false;
  if (f.actor && e.actor !== f.actor) return false;
  if (f.type && !f.type.split(',').includes(e.type)) return false;
  if (f.since && Date.parse(e.ts) < Date.parse(f.since)) return false;
  if (f.until && Date.parse(e.ts) >= Date.parse(f.until)) return false;
  return true;
}

export const useAudit = create<AuditState & AuditActions>()((set, get) => {
  /** Bumped by every load from the head: answers of an older one are dropped. */
  let generation = 0;
  /** Pushes that arrive while the newest page (or a gap) is being read; replayed once it has landed. */
  let held: RewindEvent[] | null = null;

  const replayHeld = () => {
    const pending = held ?? [];
    held = null;
    for (const e of pending.sort((a, b) => a.seq - b.seq)) get().append(e);
  };

  /** Prepends newest-first rows, keeping at most AUDIT_MAX_HELD (the oldest go, and become the cursor). */
  const prepend = (rows: RewindEvent[]) => {
    const events = [...rows, ...get().events];
    if (events.length <= AUDIT_MAX_HELD) return set({ events });
    const kept = events.slice(0, AUDIT_MAX_HELD);
    set({ events: kept, nextBefore: kept[kept.length - 1]!.seq });
  };

  /** Reads what fell between the held head and `upTo` (missed pushes), or starts again from the head when it is wide. */
  const fill = async (upTo: number, pushed: RewindEvent | null) => {
    const mine = generation;
    held = pushed ? [pushed] : [];
    const from = get().headSeq;
    if (upTo - from > AUDIT_PAGE) {
      held = null;
      return get().load();
    }
    try {
      const page = await unwrap(api().events.list({ ...auditQuery(get().filter), after: from, before: upTo + 1, limit: AUDIT_PAGE }));
      if (mine !== generation) return;
      // Within one page of seqs nothing is left over; a cursor beyond `from` would mean it was.
      if (typeof page.next_before === 'number' && page.next_before > from + 1) {
        held = null;
        return get().load();
      }
      set({ headSeq: Math.max(get().headSeq, upTo) });
      prepend(page.events);
      replayHeld();
    } catch (e) {
      if (mine !== generation) return;
      held = null;
      set({ error: toErrorData(e) });
    }
  };

  return {
    ...auditInitialState,
    async load() {
      const mine = ++generation;
      held = [];
      const filter = get().filter;
      set({ loading: true, loadingOlder: false, error: null });
      try {
        const head = await unwrap(api().events.head({}));
        const page = await readBack(filter, head.seq + 1);
        if (mine !== generation) return;
        set({ events: page.events, headSeq: head.seq, nextBefore: page.nextBefore, loading: false, loaded: true });
        replayHeld();
      } catch (e) {
        if (mine !== generation) return;
        held = null;
        set({ loading: false, error: toErrorData(e) });
      }
    },
    async loadOlder() {
      const { nextBefore, loadingOlder, loading, filter } = get();
      if (nextBefore === null || loadingOlder || loading) return;
      const mine = generation;
      set({ loadingOlder: true });
      try {
        const page = await readBack(filter, nextBefore);
        if (mine !== generation) return;
        // A live prepend may have pushed the cursor meanwhile: keep only what is older than what is held.
        const oldest = get().events[get().events.length - 1]?.seq ?? Number.POSITIVE_INFINITY;
        set({ events: [...get().events, ...page.events.filter((e) => e.seq < oldest)], nextBefore: page.nextBefore, loadingOlder: false });
      } catch (e) {
        if (mine !== generation) return;
        set({ loadingOlder: false, error: toErrorData(e) });
      }
    },
    append(event) {
      if (held) {
        held.push(event);
        return;
      }
      const { loaded, headSeq } = get();
      // Not opened yet: it reads from the head when it is.
      if (!loaded) return;
      // Each event once, in order: the stream and a page may both deliver one.
      if (event.seq <= headSeq) return;
      if (event.seq > headSeq + 1) {
        // Pushes were missed (a reconnect): read what fell between, or start again from the head.
        void fill(event.seq, event);
        return;
      }
      set({ headSeq: event.seq });
      if (matchesAudit(event, get().filter)) prepend([event]);
    },
    async catchUp() {
      if (!get().loaded || held) return;
      const mine = generation;
      try {
        const head = await unwrap(api().events.head({}));
        if (mine !== generation || held || head.seq <= get().headSeq) return;
        await fill(head.seq, null);
      } catch (e) {
        if (mine === generation) set({ error: toErrorData(e) });
      }
    },
    setFilter(partial) {
      const filter = { ...get().filter, ...partial };
      const before = get().filter;
      if ((Object.keys(filter) as Array<keyof AuditFilter>).every((k) => filter[k] === before[k])) return;
      set({ filter });
      void get().load();
    },
    reset() {
      generation += 1;
      held = null;
      set(auditInitialState);
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
  };
});

/** The next older page's cursor (optional in the contract: without it, a short page is the last). */
function olderCursor(page: { events: RewindEvent[]; next_before?: number | null | undefined }, limit: number): number | null {
  if (page.next_before !== undefined) return page.next_before;
  return page.events.length < limit ? null : page.events[page.events.length - 1]!.seq;
}

/**
 * Reads back from `before` until a screen's worth matched: a rare combination of filters is answered
 * in short pages (the server bounds each request's scan), which are followed here, a few at most.
 */
async function readBack(filter: AuditFilter, before: number): Promise<{ events: RewindEvent[]; nextBefore: number | null }> {
  const events: RewindEvent[] = [];
  let cursor: number | null = before;
  for (let asked = 0; cursor !== null && asked < FOLLOW_SHORT_PAGES && events.length < SCREENFUL; asked++) {
    const limit = AUDIT_PAGE - events.length;
    const page = await unwrap(api().events.list({ ...auditQuery(filter), before: cursor, limit }));
    events.push(...page.events);
    cursor = olderCursor(page, limit);
  }
  return { events, nextBefore: cursor };
}
