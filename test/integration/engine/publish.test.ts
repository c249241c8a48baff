import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { linkProblem } from '../../../main/engine/chain.js';
import { EngineCore } from '../../../main/engine/core.js';
import { type EventRow, GENESIS_HASH } from '../../../main/engine/event-log.js';
import type { ChainHead, Store } from '../../../main/engine/store/port.js';
import type { RewindEvent } from '../../../preload/contract/entities.js';
import { openStoreAt } from '../../support/open-store.js';
import { skipWithoutConcurrentInstances, stores } from '../../support/stores.js';
import { eventually } from '../server/harness.js';

/*
 * How an engine hands committed events to its listeners (the server's stream, the webhook worker):
 * the events of its own units of work as they were appended, without reading them back — but only
 * when they follow the last seq it published; when another process or replica committed in between
 * and it has not read that yet, it reads the log first. Two engines on one store stand for two
 * replicas (or the console and the CLI on one file).
 */

const at = () => new Date().toISOString();

describe.each(stores)('publishing committed events on $kind', (factory) => {
  const open: Store[] = [];
  const cores: EngineCore[] = [];
  let n = 0;
  afterEach(async () => {
    for (const c of cores.splice(0)) c.stop();
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(() => factory.dispose());

  async function pair(): Promise<[EngineCore, EngineCore]> {
    const name = `publish_${n++}`;
    const first = await factory.open(name);
    const second = await openStoreAt(factory.location(name), `${name}-b`);
    open.push(first, second);
    const a = await EngineCore.open(first, () => new Date());
    const b = await EngineCore.open(second, () => new Date());
    cores.push(a, b);
    return [a, b];
  }

  const appendOne = (core: EngineCore, type: string, payload: Record<string, unknown> = {}) =>
    core.mutate(() => core.append({ type, actor: 'tester', ts: at(), payload }));

  it('hands out its own events before the mutation returns, exactly as the log holds them', async () => {
    const [a] = await pair();
    const heard: RewindEvent[] = [];
    a.onEvent((e) => heard.push(e));
    await a.mutate(async () => {
      await a.append({ type: 'note_added', actor: 'tester', ts: at(), payload: { text: 'first', nested: { n: 1 } } });
      await a.append({ type: 'note_added', actor: 'tester', ts: at(), payload: { text: 'second' } });
    });
    expect(heard.map((e) => e.seq)).toEqual([1, 2]);
    expect(a.publishedSeq).toBe(2);
    // Field for field (and in the same key order, which the stream serializes) what a reader of the log gets.
    const logged = await a.events.list(0, 10);
    expect(heard).toEqual(logged);
    expect(heard.map((e) => Object.keys(e))).toEqual(logged.map((e) => Object.keys(e)));
  });

  it('reads what another engine committed before handing out its own next events: every listener sees seq order, no gap', async () => {
    const [a, b] = await pair();
    const heard: number[] = [];
    a.onEvent((e) => heard.push(e.seq));
    await appendOne(a, 'note_added', { by: 'a' });
    // B commits, and A appends at once, before it has heard of B's commit.
    await appendOne(b, 'note_added', { by: 'b' });
    await appendOne(a, 'note_added', { by: 'a' });
    await appendOne(b, 'note_added', { by: 'b' });
    await eventually(() => heard.length >= 4, 10_000, 'A heard every event');
    await appendOne(a, 'note_added', { by: 'a' });
    expect(heard).toEqual([1, 2, 3, 4, 5]);
    // The chain the two wrote is whole: each link points at the one before.
    let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
    for (const row of await a.store.read.all<EventRow>('SELECT * FROM events ORDER BY seq')) {
      expect(linkProblem(row, prev)).toBeNull();
      prev = { seq: row.seq, hash: row.hash };
    }
  });

  it('does not hand out twice an event that a read in flight also returns', async () => {
    if (skipWithoutConcurrentInstances(factory, 'concurrent writers on two engines')) return;
    const [a, b] = await pair();
    const heard: number[] = [];
    a.onEvent((e) => heard.push(e.seq));
    // Wakes from B's commits start reads on A while A's own mutations commit and hand out directly.
    await Promise.all([
      (async () => {
        for (let i = 0; i < 10; i++) await appendOne(a, 'note_added', { by: 'a', i });
      })(),
      (async () => {
        for (let i = 0; i < 10; i++) await appendOne(b, 'note_added', { by: 'b', i });
      })(),
    ]);
    await eventually(() => heard.length >= 20, 10_000, 'A heard every event');
    await a.publish();
    expect(heard).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe.each(stores.filter((f) => f.kind === 'postgres'))('a unit of work re-run after a deadlock on $kind', (factory) => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('runs the follow-ups and publishes the events of the attempt that committed, not of the one rolled back', async () => {
    const store = await factory.open('rerun');
    const other = await openStoreAt(factory.location('rerun'), 'rerun-other');
    open.push(store, other);
    const core = await EngineCore.open(store, () => new Date());
    await store.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('x', '0')"));
    const heard: RewindEvent[] = [];
    core.onEvent((e) => heard.push(e));

    let attempts = 0;
    const followUps: number[] = [];
    let holdsHead!: () => void;
    const headHeld = new Promise<void>((r) => (holdsHead = r));
    let proceed!: () => void;
    const mayProceed = new Promise<void>((r) => (proceed = r));
    // The engine holds the chain head (its first statement), then — once the other side holds row x
    // and waits for the head — asks for x: a deadlock that the engine's request closes, so the
    // engine's session is the one that finds it and is rolled back, and its unit of work re-run.
    const mutation = core.mutate(async () => {
      const attempt = ++attempts;
      core.afterCommit(() => {
        followUps.push(attempt);
      });
      holdsHead();
      await mayProceed;
      await core.q().run("SET LOCAL deadlock_timeout = '50ms'");
      await core.q().run("UPDATE meta SET value = ? WHERE key = 'x'", [`attempt ${attempt}`]);
      await core.append({ type: 'note_added', actor: 'tester', ts: at(), payload: { attempt } });
    });
    await headHeld;
    const otherSide = other.transaction(async (tx) => {
      await tx.run("SET LOCAL deadlock_timeout = '60s'");
      await tx.run("UPDATE meta SET value = 'other' WHERE key = 'x'");
      await tx.lockHead();
    });
    await eventually(
      async () => ((await store.read.get<{ n: number }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"))?.n ?? 0) >= 1,
      10_000,
      'the other side waiting for the chain head',
    );
    proceed();
    await Promise.all([mutation, otherSide]);

    expect(attempts).toBe(2);
    expect(followUps).toEqual([2]);
    expect(heard.map((e) => e.payload)).toEqual([{ attempt: 2 }]);
    expect(await store.read.get("SELECT value FROM meta WHERE key = 'x'")).toEqual({ value: 'attempt 2' });
  });
});
