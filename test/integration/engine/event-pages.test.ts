import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog, appendEvent, type NewEvent } from '../../../main/engine/event-log.js';
import { type EventQuery, readEventPage } from '../../../main/engine/event-query.js';
import { RewindError } from '../../../main/engine/errors.js';
import type { Store } from '../../../main/engine/store/port.js';
import type { RewindEvent } from '../../../preload/contract/entities.js';
import { stores } from '../../support/stores.js';

/*
 * The event log's pages (`events:list`): backward pages from the head with the `before` cursor,
 * forward pages with `after`, each server-side filter alone and combined, on both stores. Every case
 * walks a query to its end through the cursors the answers give and compares what it collected with
 * the same filter applied to the whole log in memory — so a page that loses, repeats or misorders an
 * event, or a cursor that stops early, fails.
 */

const EVENTS = 600;
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const MINUTE = 60_000;

/** A log with common and rare types, actors and workflows, one event a minute. */
function eventAt(seq: number): NewEvent {
  const type = seq % 97 === 0 ? 'workflow_rollback' : seq % 41 === 0 ? 'run_failed' : seq % 2 === 0 ? 'run_started' : 'run_succeeded';
  const actor = seq % 53 === 0 ? 'ben.rare' : seq % 3 === 0 ? 'scheduler' : 'ana';
  const workflow = seq % 5 === 0 ? null : seq % 5 === 1 ? 'wf-b' : 'wf-a';
  return { type, actor, workflow_id: workflow, run_id: workflow === null ? null : `run-${Math.floor(seq / 4)}`, ts: new Date(T0 + seq * MINUTE).toISOString(), payload: { n: seq } };
}

async function fill(store: Store, count: number, first = 1): Promise<void> {
  for (let start = first; start < first + count; start += 200) {
    await store.transaction(async (tx) => {
      let head = await tx.lockHead();
      for (let seq = start; seq < Math.min(first + count, start + 200); seq++) {
        const e = await appendEvent(tx, head, eventAt(seq));
        head = { seq: e.seq, hash: e.hash };
      }
      await tx.setHead(head);
    });
  }
}

function matches(e: RewindEvent, q: EventQuery): boolean {
  if (e.seq <= q.after || (q.before !== undefined && e.seq >= q.before)) return false;
  if (q.workflowId !== undefined && e.workflow_id !== q.workflowId) return false;
  if (q.runId !== undefined && e.run_id !== q.runId) return false;
  if (q.types !== undefined && !q.types.includes(e.type)) return false;
  if (q.actor !== undefined && e.actor !== q.actor) return false;
  if (q.since !== undefined && e.ts < new Date(q.since).toISOString()) return false;
  if (q.until !== undefined && e.ts >= new Date(q.until).toISOString()) return false;
  return true;
}

const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

/** Queries covering each filter alone, the combinations, both directions and time ranges. */
const QUERIES: Array<{ name: string; q: Omit<EventQuery, 'limit'> }> = [
  { name: 'the whole log, newest first', q: { after: 0, before: EVENTS + 1 } },
  { name: 'the whole log, oldest first', q: { after: 0 } },
  { name: 'below a cursor inside the log', q: { after: 0, before: 333 } },
  { name: 'a window between two cursors', q: { after: 120, before: 333 } },
  { name: 'one workflow', q: { after: 0, before: EVENTS + 1, workflowId: 'wf-b' } },
  { name: 'one run', q: { after: 0, before: EVENTS + 1, workflowId: 'wf-a', runId: 'run-42' } },
  { name: 'a rare type', q: { after: 0, before: EVENTS + 1, types: ['workflow_rollback'] } },
  { name: 'a set of types', q: { after: 0, before: EVENTS + 1, types: ['workflow_rollback', 'run_failed'] } },
  { name: 'a rare actor', q: { after: 0, before: EVENTS + 1, actor: 'ben.rare' } },
  { name: 'a time range', q: { after: 0, before: EVENTS + 1, since: at(100), until: at(250) } },
  { name: 'a range given with an offset', q: { after: 0, before: EVENTS + 1, since: '2026-11-01T03:00:00+02:00', until: '2026-11-01T04:30:00+02:00' } },
  { name: 'since only', q: { after: 0, before: EVENTS + 1, since: at(550) } },
  { name: 'until only, oldest first', q: { after: 0, until: at(37) } },
  { name: 'type and actor', q: { after: 0, before: EVENTS + 1, types: ['run_started'], actor: 'scheduler' } },
  { name: 'a common type and a rare actor', q: { after: 0, before: EVENTS + 1, types: ['run_started', 'run_succeeded'], actor: 'ben.rare' } },
  { name: 'workflow, type and actor', q: { after: 0, before: EVENTS + 1, workflowId: 'wf-a', types: ['run_started'], actor: 'ana' } },
  { name: 'workflow, types and a time range', q: { after: 0, before: EVENTS + 1, workflowId: 'wf-a', types: ['run_failed', 'workflow_rollback'], since: at(40), until: at(500) } },
  { name: 'every filter, oldest first', q: { after: 10, workflowId: 'wf-a', types: ['run_started'], actor: 'scheduler', since: at(30), until: at(590) } },
  { name: 'nothing matches', q: { after: 0, before: EVENTS + 1, actor: 'nobody' } },
];

describe.each(stores)('event log pages on $kind', (factory) => {
  let store: Store;
  let log: EventLog;
  let all: RewindEvent[];

  beforeAll(async () => {
    store = await factory.open('event-pages');
    await fill(store, EVENTS);
    log = new EventLog(() => store.read);
    all = await log.list(0, 10_000);
    expect(all).toHaveLength(EVENTS);
  }, 120_000);
  afterAll(async () => {
    await store.close();
    await factory.dispose();
  });

  /** Follows the cursors to the end: what the console does as an operator scrolls. */
  async function walk(q: Omit<EventQuery, 'limit'>, limit: number, budget?: number): Promise<{ seen: number[]; pages: number }> {
    const seen: number[] = [];
    let cursor: EventQuery = { ...q, limit };
    for (let pages = 1; pages < 1000; pages++) {
      const page = await readEventPage<RewindEvent>(store.read, cursor, budget);
      seen.push(...page.rows.map((r) => r.seq));
      expect(page.rows.length).toBeLessThanOrEqual(limit);
      if (q.before !== undefined) {
        if (page.nextBefore === null) return { seen, pages };
        cursor = { ...cursor, before: page.nextBefore };
      } else {
        if (page.nextAfter === null) return { seen, pages };
        cursor = { ...cursor, after: page.nextAfter };
      }
    }
    throw new Error('the cursors never ended');
  }

  for (const { name, q } of QUERIES) {
    it(`${name}: every match once, in order, through the cursors`, async () => {
      const expected = all.filter((e) => matches(e, { ...q, limit: 0 })).map((e) => e.seq);
      if (q.before !== undefined) expected.reverse();
      // A page size that splits the answer, and a scan budget small enough that combined filters run out of it.
      expect((await walk(q, 25)).seen).toEqual(expected);
      expect((await walk(q, 25, 30)).seen).toEqual(expected);
    });
  }

  it('answers the newest page below the cursor, newest first, with the next cursor', async () => {
    const page = await log.page({ after: 0, before: EVENTS + 1, limit: 10 });
    expect(page.events.map((e) => e.seq)).toEqual([600, 599, 598, 597, 596, 595, 594, 593, 592, 591]);
    expect(page.next_before).toBe(591);
    expect(page).not.toHaveProperty('next_after');
    const next = await log.page({ after: 0, before: page.next_before!, limit: 3 });
    expect(next.events.map((e) => e.seq)).toEqual([590, 589, 588]);
    // The oldest page says there is nothing older.
    expect((await log.page({ after: 0, before: 3, limit: 10 })).next_before).toBeNull();
  });

  it('keeps after working as before: oldest first, a full page points past itself, the last one to nothing', async () => {
    const page = await log.page({ after: 595, limit: 3 });
    expect(page.events.map((e) => e.seq)).toEqual([596, 597, 598]);
    expect(page.next_after).toBe(598);
    const last = await log.page({ after: 598, limit: 3 });
    expect(last.events.map((e) => e.seq)).toEqual([599, 600]);
    expect(last.next_after).toBeNull();
    expect(await log.list(595, 3)).toEqual(page.events);
  });

  it('a combined filter that runs out of its scan budget says where to go on, never stops early', async () => {
    // Each filter alone matches hundreds of events, together about one in thirty: 30 index entries find few.
    const q: EventQuery = { after: 0, before: EVENTS + 1, limit: 50, workflowId: 'wf-b', types: ['run_started'], actor: 'scheduler' };
    const first = await readEventPage<RewindEvent>(store.read, q, 30);
    expect(first.rows.length).toBeLessThan(50);
    expect(first.nextBefore).not.toBeNull();
    expect(first.rows.every((r) => r.seq >= first.nextBefore!)).toBe(true);
  });

  it('drives a combined filter by its sparsest index: a rare actor answers in one page', async () => {
    const q: EventQuery = { after: 0, before: EVENTS + 1, limit: 50, types: ['run_started', 'run_succeeded'], actor: 'ben.rare' };
    const page = await readEventPage<RewindEvent>(store.read, q, 30);
    expect(page.rows.map((r) => r.seq)).toEqual(all.filter((e) => matches(e, q)).map((e) => e.seq).reverse());
    expect(page.nextBefore).toBeNull();
  });

  it('refuses a time range that ends before it starts, saying what to send', async () => {
    const err = await log.page({ after: 0, before: 10, limit: 5, since: at(10), until: at(5) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RewindError);
    expect(err).toMatchObject({ code: 'INVALID_RANGE' });
    expect((err as RewindError).hint).toMatch(/until comes after its since/);
  });

  it('finds an event whose clock was a little out of step with its neighbours', async () => {
    // A replica's clock 2 minutes behind: its event sorts by seq after events stamped later.
    await store.transaction(async (tx) => {
      const head = await tx.lockHead();
      const e = await appendEvent(tx, head, { type: 'run_failed', actor: 'skewed', workflow_id: 'wf-a', run_id: null, ts: at(EVENTS - 2), payload: {} });
      await tx.setHead({ seq: e.seq, hash: e.hash });
    });
    const page = await log.page({ after: 0, before: EVENTS + 2, limit: 10, since: at(EVENTS - 2), until: at(EVENTS - 1) });
    expect(page.events.map((e) => [e.seq, e.actor])).toEqual([
      [EVENTS + 1, 'skewed'],
      [EVENTS - 2, eventAt(EVENTS - 2).actor],
    ]);
  });
});
