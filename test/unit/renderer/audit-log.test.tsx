// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../renderer/audit/AuditLog.js';
import { AUDIT_MAX_HELD, AUDIT_PAGE, useAudit } from '../../../renderer/store/audit-store.js';
import { startLive } from '../../../renderer/store/live.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { resetConnectionData } from '../../../renderer/store/reset.js';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { demoWorld, FakeBridge, iso } from './fake-bridge.js';
import { freshConsole } from './setup.js';
import { setApi } from '../../../renderer/api/client.js';

/*
 * The audit log never holds the log: it reads the newest page from the head, older pages as it
 * scrolls back, filters on the server, and follows the live stream from the head. The fake bridge
 * pages and filters as the server does (main/engine/event-query.ts), over a log of 1,000 events.
 */

const LOG = 1000;
const TYPES = ['run_started', 'run_succeeded', 'run_failed', 'workflow_rollback'];
const ACTORS = ['ana', 'ben', 'scheduler'];

function bigLog(): RewindEvent[] {
  return Array.from({ length: LOG }, (_, i) => {
    const seq = i + 1;
    return {
      seq,
      ts: iso(seq),
      type: TYPES[seq % 7 === 0 ? 3 : seq % 5 === 0 ? 2 : seq % 2]!,
      workflow_id: seq % 3 === 0 ? 'wf-etl' : 'wf-ml',
      run_id: `run-${seq}`,
      actor: ACTORS[seq % 3]!,
      payload: {},
      prev_hash: `h${seq - 1}`,
      hash: `h${seq}`,
    };
  });
}

// happy-dom does no layout: give the virtual list's scroll box a size so that rows render.
for (const [prop, px] of [['clientHeight', 600], ['clientWidth', 800]] as const) {
  const base = Object.getOwnPropertyDescriptor(HTMLElement.prototype, prop) ?? Object.getOwnPropertyDescriptor(Element.prototype, prop);
  Object.defineProperty(HTMLElement.prototype, prop, {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('vlist') ? px : (base?.get?.call(this) ?? 0);
    },
  });
}

let fake: FakeBridge;
beforeEach(() => {
  freshConsole();
  fake = new FakeBridge({ ...demoWorld(), events: bigLog() });
  setApi(fake.bridge);
});

const seqs = () => useAudit.getState().events.map((e) => e.seq);
const listCalls = () => fake.callsOf('events:list') as Array<Record<string, unknown>>;
/** The next event of the log, appended on the server and pushed as main pushes it. */
function appendLive(partial: Partial<RewindEvent> = {}): RewindEvent {
  const seq = fake.world.events.length + 1;
  const e: RewindEvent = { seq, ts: iso(seq), type: 'run_started', workflow_id: 'wf-ml', run_id: `run-${seq}`, actor: 'ana', payload: {}, prev_hash: `h${seq - 1}`, hash: `h${seq}`, ...partial };
  fake.world.events.push(e);
  return e;
}

describe('the audit store', () => {
  it('reads the newest page from the head, never the log from seq 0', async () => {
    await useAudit.getState().load();
    expect(fake.callsOf('events:head')).toHaveLength(1);
    expect(listCalls()).toEqual([{ before: LOG + 1, limit: AUDIT_PAGE }]);
    expect(seqs()).toEqual(Array.from({ length: AUDIT_PAGE }, (_, i) => LOG - i));
    expect(useAudit.getState()).toMatchObject({ headSeq: LOG, nextBefore: LOG - AUDIT_PAGE + 1, loaded: true });
  });

  it('pages back as it scrolls, each event once, until nothing older is left', async () => {
    await useAudit.getState().load();
    while (useAudit.getState().nextBefore !== null) await useAudit.getState().loadOlder();
    expect(seqs()).toEqual(Array.from({ length: LOG }, (_, i) => LOG - i));
    expect(listCalls().map((c) => c.before)).toEqual([1001, 801, 601, 401, 201, 1]);
    // Nothing older: a further scroll asks nothing.
    await useAudit.getState().loadOlder();
    expect(listCalls()).toHaveLength(6);
  });

  it('filters on the server by type, actor, workflow and time, and pages the matches', async () => {
    useAudit.getState().setFilter({ type: 'workflow_rollback', actor: 'ben', workflowId: 'wf-ml', since: iso(100), until: iso(900) });
    await vi.waitFor(() => expect(useAudit.getState().loaded).toBe(true));
    expect(listCalls().at(-1)).toEqual({ type: 'workflow_rollback', actor: 'ben', workflow_id: 'wf-ml', since: iso(100), until: iso(900), before: LOG + 1, limit: AUDIT_PAGE });
    const expected = bigLog()
      .filter((e) => e.type === 'workflow_rollback' && e.actor === 'ben' && e.workflow_id === 'wf-ml' && e.seq >= 100 && e.seq < 900)
      .map((e) => e.seq)
      .reverse();
    expect(expected.length).toBeGreaterThan(0);
    expect(seqs()).toEqual(expected);
    expect(useAudit.getState().nextBefore).toBeNull();
  });

  it('follows the short pages of a rare filter (the server bounds each scan) until a screen is filled, a bounded number of requests at a time', async () => {
    fake.eventScanBudget = 50;
    useAudit.getState().setFilter({ type: 'workflow_rollback', actor: 'ben' });
    await vi.waitFor(() => expect(useAudit.getState().loaded).toBe(true));
    const matches = bigLog()
      .filter((e) => e.type === 'workflow_rollback' && e.actor === 'ben')
      .map((e) => e.seq)
      .reverse();
    // One request would have shown the 3 matches among the newest 50 events; ten read back 500.
    expect(listCalls().map((c) => c.before)).toEqual(Array.from({ length: 10 }, (_, i) => LOG + 1 - 50 * i));
    expect(seqs()).toEqual(matches.filter((s) => s > LOG - 500));
    expect(useAudit.getState().nextBefore).toBe(LOG - 500 + 1);
    await useAudit.getState().loadOlder();
    expect(seqs()).toEqual(matches);
    expect(useAudit.getState().nextBefore).toBeNull();
  });

  it('follows the live stream from the head: a matching event on top, each once, the others only move the head', async () => {
    useAudit.getState().setFilter({ actor: 'ana' });
    await vi.waitFor(() => expect(useAudit.getState().loaded).toBe(true));
    const mine = appendLive({ actor: 'ana' });
    useAudit.getState().append(mine);
    useAudit.getState().append(mine);
    expect(seqs()[0]).toBe(mine.seq);
    expect(seqs().filter((s) => s === mine.seq)).toHaveLength(1);
    const other = appendLive({ actor: 'ben' });
    useAudit.getState().append(other);
    expect(seqs()[0]).toBe(mine.seq);
    expect(useAudit.getState().headSeq).toBe(other.seq);
  });

  it('reads a gap of missed pushes in one request, and starts again from the head when the gap is wide', async () => {
    await useAudit.getState().load();
    const a = appendLive();
    appendLive();
    const c = appendLive();
    useAudit.getState().append(c);
    await vi.waitFor(() => expect(useAudit.getState().headSeq).toBe(c.seq));
    expect(listCalls().at(-1)).toEqual({ after: LOG, before: c.seq + 1, limit: AUDIT_PAGE });
    expect(seqs().slice(0, 4)).toEqual([c.seq, c.seq - 1, a.seq, LOG]);

    for (let i = 0; i < AUDIT_PAGE + 5; i++) appendLive();
    const last = fake.world.events[fake.world.events.length - 1]!;
    useAudit.getState().append(last);
    await vi.waitFor(() => expect(useAudit.getState().headSeq).toBe(last.seq));
    expect(listCalls().at(-1)).toEqual({ before: last.seq + 1, limit: AUDIT_PAGE });
    expect(seqs()).toHaveLength(AUDIT_PAGE);
    expect(seqs()[0]).toBe(last.seq);
  });

  it('holds pushes that arrive while the newest page is on its way, and shows each once', async () => {
    const loading = useAudit.getState().load();
    const during = appendLive();
    useAudit.getState().append(during);
    await loading;
    await vi.waitFor(() => expect(seqs()[0]).toBe(during.seq));
    expect(seqs().filter((s) => s === during.seq)).toHaveLength(1);
    expect(seqs()[1]).toBe(during.seq - 1);
  });

  it('catches up after the console reconnects: what was appended meanwhile, from the held head', async () => {
    await useAudit.getState().load();
    const missed = [appendLive(), appendLive()];
    await useAudit.getState().catchUp();
    expect(seqs().slice(0, 3)).toEqual([missed[1]!.seq, missed[0]!.seq, LOG]);
    expect(listCalls().at(-1)).toMatchObject({ after: LOG });
  });

  it('drops the answers of the old connection after a reset, and reads the new one from its head', async () => {
    await useConnections.getState().load();
    const stale = useAudit.getState().load();
    await resetConnectionData();
    await stale;
    expect(useAudit.getState()).toMatchObject({ loaded: false, events: [], headSeq: 0 });
    await useAudit.getState().load();
    expect(useAudit.getState().headSeq).toBe(LOG);
  });

  it('keeps at most a bounded number of rows while following the stream for long', async () => {
    await useAudit.getState().load();
    const oldest = useAudit.getState().events.at(-1)!;
    useAudit.setState({ events: Array.from({ length: AUDIT_MAX_HELD }, (_, i) => ({ ...oldest, seq: LOG - i })) });
    const e = appendLive();
    useAudit.getState().append(e);
    expect(useAudit.getState().events).toHaveLength(AUDIT_MAX_HELD);
    expect(seqs()[0]).toBe(e.seq);
    // What was pushed out is read again on scrolling back.
    expect(useAudit.getState().nextBefore).toBe(seqs().at(-1));
  });
});

describe('the audit log view', () => {
  it('reads its first page when shown, scrolls back, filters by actor and follows live events on top', async () => {
    await useConnections.getState().load();
    const stop = startLive(fake.bridge);
    render(<AuditLog />);
    await waitFor(() => expect(screen.getAllByTestId('audit-row')[0]!.dataset.seq).toBe(String(LOG)));
    expect(screen.getByTestId('audit-count').textContent).toBe('1,000 events');
    expect(screen.getAllByTestId('audit-row').length).toBeLessThan(40);

    // Scrolled near the end of the first page, the next older one is read.
    const list = screen.getByTestId('audit-list');
    list.scrollTop = (AUDIT_PAGE - 10) * 40;
    fireEvent.scroll(list);
    await waitFor(() => expect(useAudit.getState().events).toHaveLength(2 * AUDIT_PAGE));
    expect(listCalls().at(-1)).toEqual({ before: LOG - AUDIT_PAGE + 1, limit: AUDIT_PAGE });
    list.scrollTop = 0;
    fireEvent.scroll(list);

    const actor = screen.getByTestId('audit-filter-actor');
    fireEvent.change(actor, { target: { value: 'scheduler' } });
    fireEvent.keyDown(actor, { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('audit-count').textContent).toBe(`${AUDIT_PAGE}+ matching`));
    expect(listCalls().at(-1)).toMatchObject({ actor: 'scheduler' });

    const live = appendLive({ actor: 'scheduler', type: 'workflow_rollback', payload: { from_version: 2, to_version: 1 } });
    act(() => fake.push('events:appended', { connection_id: 'sandbox', event: live }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')[0]!.dataset.seq).toBe(String(live.seq)));
    stop();
  });

  it("filters by a time range in the operator's local time, asking again only when a whole time is given", async () => {
    await useConnections.getState().load();
    render(<AuditLog />);
    await waitFor(() => expect(screen.getAllByTestId('audit-row').length).toBeGreaterThan(0));
    const calls = listCalls().length;
    const since = screen.getByTestId('audit-filter-since');
    // A half-typed time reads as empty: nothing to ask yet.
    fireEvent.change(since, { target: { value: '' } });
    expect(listCalls()).toHaveLength(calls);
    fireEvent.change(since, { target: { value: '2026-11-20T20:00' } });
    const from = new Date('2026-11-20T20:00').toISOString();
    await waitFor(() => expect(listCalls().at(-1)).toMatchObject({ since: from }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row').every((r) => Date.parse(bigLog()[Number(r.dataset.seq) - 1]!.ts) >= Date.parse(from))).toBe(true));
    fireEvent.change(screen.getByTestId('audit-filter-until'), { target: { value: '2026-11-20T21:00' } });
    await waitFor(() => expect(listCalls().at(-1)).toMatchObject({ since: from, until: new Date('2026-11-20T21:00').toISOString() }));
    const until = Date.parse(new Date('2026-11-20T21:00').toISOString());
    const expected = bigLog().filter((e) => Date.parse(e.ts) >= Date.parse(from) && Date.parse(e.ts) < until).length;
    await waitFor(() => expect(screen.getByTestId('audit-count').textContent).toBe(`${expected} matching`));
  });
});
