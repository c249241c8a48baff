import { afterAll, describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../../../main/engine/engine.js';
import { GENESIS_HASH, hashEvent } from '../../../main/engine/event-log.js';
import type { Store } from '../../../main/engine/store/port.js';
import { SqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import { type StoreFactory, stores } from '../../support/stores.js';
import { openStoreAt } from '../../support/open-store.js';
import { linearDsl } from '../../unit/engine/fixtures.js';

/*
 * The chain guard: a start verifies only the events after the stored verified head; an edit of an
 * event verified before is found by a whole-chain walk (in the background, or on verify), announced
 * once and remembered by the store for the next start; a log cut back below its verified head is
 * refused at start. On both stores (PostgreSQL: its head row, replicas).
 */

let counter = 0;

interface VerifiedRow {
  seq: number;
  hash: string;
  verified_by: string | null;
  verified_at: string | null;
  full_seq: number | null;
  broken_seq: number | null;
}

/** What an attacker with write access to the database does: lift the append-only guard, change rows, put it back. */
async function tamper(store: Store, sql: string, params: Array<string | number> = []): Promise<void> {
  if (store instanceof SqliteStore) {
    store.db.exec('DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS events_append_only_delete;');
    store.db.prepare(sql).run(...params);
    return;
  }
  await store.read.run('ALTER TABLE events DISABLE TRIGGER USER');
  await store.read.run(sql, params);
  await store.read.run('ALTER TABLE events ENABLE TRIGGER USER');
}

const verifiedRow = async (store: Store) => (await store.read.get<VerifiedRow>('SELECT seq, hash, verified_by, verified_at, full_seq, broken_seq FROM chain_verified WHERE id = 1'))!;

describe.each(stores)('the chain guard on $kind', (factory: StoreFactory) => {
  afterAll(() => factory.dispose());

  /** A log of `workflows` created workflows, each with a draft (two events each), closed; its location. */
  async function writeLog(workflows = 3): Promise<{ name: string; location: string; events: number }> {
    const name = `chain_${(counter += 1)}`;
    const engine = await Engine.open({ store: await factory.open(name) });
    for (let i = 0; i < workflows; i++) {
      const wf = await engine.workflows.create({ name: `wf-${i}`, description: '', dsl: linearDsl(), source_type: 'MANUAL' }, 'writer');
      await engine.versions.createDraft({ workflow_id: wf.id, dsl: linearDsl(0.03), change_log: 'tune', expected_revision: undefined }, 'writer');
    }
    const events = await engine.latestSeq();
    await engine.close();
    return { name, location: factory.location(name), events };
  }

  const reopen = async (location: string, options: Partial<EngineOptions> = {}) => Engine.open({ store: await openStoreAt(location, `guard-${(counter += 1)}`), ...options });

  it('stores the verified head (seq, hash, who, when) and reads only the tail after it at the next open', async () => {
    const { location, events } = await writeLog();
    const engine = await reopen(location);
    try {
      const row = await verifiedRow(engine.store);
      const [last] = await engine.events.list(events - 1, 1);
      expect(row).toMatchObject({ seq: events, hash: last!.hash, verified_by: expect.stringMatching(/^rewind@/), verified_at: expect.any(String) });
      // An edit of an event verified before is not read at open (nothing before the verified head is)…
      await tamper(engine.store, "UPDATE events SET actor = 'mallory' WHERE seq = 2");
    } finally {
      await engine.close();
    }
    const again = await reopen(location);
    try {
      expect(again.chainAtOpen).toMatchObject({ ok: true, length: events });
      // …but a walk of the whole chain finds it.
      expect(await again.verifyChain()).toMatchObject({ ok: false, first_broken_seq: 2, reason: expect.stringMatching(/event 2 was altered/) });
      expect(again.chain).toMatchObject({ ok: false, first_broken_seq: 2 });
    } finally {
      await again.close();
    }
  });

  it('finds at open an edit of an event after the verified head (the tail), and of the verified head itself', async () => {
    const { location, events } = await writeLog();
    const engine = await reopen(location);
    await tamper(engine.store, 'UPDATE chain_verified SET seq = ?, hash = (SELECT hash FROM events WHERE seq = ?) WHERE id = 1', [3, 3]);
    await tamper(engine.store, "UPDATE events SET actor = 'mallory' WHERE seq = 5");
    await engine.close();
    const tail = await reopen(location);
    expect(tail.chainAtOpen).toMatchObject({ ok: false, first_broken_seq: 5, reason: expect.stringMatching(/event 5 was altered/) });
    // Nothing is stored over a broken chain: the verified head stays where it was.
    expect((await verifiedRow(tail.store)).seq).toBe(3);
    await tamper(tail.store, "UPDATE events SET actor = 'writer' WHERE seq = 5");
    await tamper(tail.store, "UPDATE events SET actor = 'mallory' WHERE seq = 3");
    await tail.close();
    const head = await reopen(location);
    try {
      expect(head.chainAtOpen).toMatchObject({ ok: false, first_broken_seq: 3, reason: expect.stringMatching(/not the event verified by rewind@/) });
      expect(events).toBeGreaterThan(5);
    } finally {
      await head.close();
    }
  });

  it('refuses at open a log cut back below its verified head, naming who verified the lost events', async () => {
    const { location, events } = await writeLog();
    const engine = await reopen(location);
    await tamper(engine.store, 'DELETE FROM events WHERE seq > ?', [events - 2]);
    if (engine.store.kind === 'postgres') await engine.store.read.run('UPDATE chain_head SET seq = ?, hash = (SELECT hash FROM events WHERE seq = ?) WHERE id = 1', [events - 2, events - 2]);
    await engine.close();
    const cut = await reopen(location);
    try {
      expect(cut.chainAtOpen).toMatchObject({ ok: false, first_broken_seq: events - 1, reason: expect.stringMatching(new RegExp(`events ${events - 1}–${events} were verified by rewind@.* and are gone: the log was cut back to event ${events - 2}`)) });
      // A whole-chain walk that finds every link whole does not undo it: the verified events are still gone.
      expect(await cut.verifyChain()).toMatchObject({ ok: false, first_broken_seq: events - 1 });
    } finally {
      await cut.close();
    }
  });

  it('walks the whole chain in the background: finds an edit of a verified event, marks it, announces it once, and the next open knows it', async () => {
    const { location } = await writeLog();
    const quiet = await reopen(location);
    await tamper(quiet.store, "UPDATE events SET payload = '{}' WHERE seq = 4");
    await quiet.close();

    const engine = await reopen(location, { backgroundVerify: { pauseMs: 0 } });
    const heard: number[] = [];
    engine.onChainBroken((state) => heard.push(state.first_broken_seq ?? -1));
    expect(engine.chainAtOpen.ok).toBe(true);
    await expect.poll(() => engine.chain.ok, { timeout: 20_000 }).toBe(false);
    expect(engine.chain).toMatchObject({ first_broken_seq: 4, reason: expect.stringMatching(/event 4 was altered/) });
    expect(heard).toEqual([4]);
    await expect.poll(async () => (await engine.events.list(0, 1000)).filter((e) => e.type === 'chain_broken').length, { timeout: 10_000 }).toBe(1);
    // verify finds the same break and announces nothing more.
    expect(await engine.verifyChain()).toMatchObject({ ok: false, first_broken_seq: 4 });
    const announced = (await engine.events.list(0, 1000)).filter((e) => e.type === 'chain_broken');
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ workflow_id: null, payload: { first_broken_seq: 4, found_by: 'background', reason: expect.stringMatching(/altered/) } });
    expect(await verifiedRow(engine.store)).toMatchObject({ broken_seq: 4 });
    await engine.close();

    const next = await reopen(location);
    try {
      expect(next.chainAtOpen).toMatchObject({ ok: false, first_broken_seq: 4, reason: expect.stringMatching(/event 4 was altered/) });
    } finally {
      await next.close();
    }
  });

  it('finds the newest event rewritten with its hash recomputed (its chain is whole, but not the one verified)', async () => {
    const { location, events } = await writeLog();
    const engine = await reopen(location);
    try {
      const [last] = await engine.events.list(events - 1, 1);
      const forged = { ...last!, actor: 'mallory', payload: JSON.stringify(last!.payload) };
      const { hash: _old, ...rest } = forged;
      await tamper(engine.store, "UPDATE events SET actor = 'mallory', hash = ? WHERE seq = ?", [hashEvent(rest), events]);
      if (engine.store.kind === 'postgres') await engine.store.read.run('UPDATE chain_head SET hash = (SELECT hash FROM events WHERE seq = ?) WHERE id = 1', [events]);
      expect(await engine.verifyChain()).toMatchObject({ ok: false, first_broken_seq: events, reason: expect.stringMatching(/not the event verified before/) });
    } finally {
      await engine.close();
    }
  });

  it('moves the verified head along as events arrive and counts the walk in verified_seq', async () => {
    const { location, events } = await writeLog(1);
    const engine = await reopen(location, { backgroundVerify: { pauseMs: 0 } });
    try {
      await expect.poll(() => engine.chain.verified_seq, { timeout: 20_000 }).toBe(events);
      const wf = await engine.workflows.create({ name: 'later', description: '', dsl: linearDsl(), source_type: 'MANUAL' }, 'writer');
      await engine.workflows.pause({ workflow_id: wf.id, expected_revision: undefined }, 'writer');
      // Checked as each arrived: the walk's count follows the head.
      expect(engine.chain).toMatchObject({ ok: true, verified_seq: events + 2 });
      expect((await verifiedRow(engine.store)).full_seq).toBe(events);
    } finally {
      await engine.close();
    }
    const row = await (async () => {
      const again = await reopen(location);
      try {
        return await verifiedRow(again.store);
      } finally {
        await again.close();
      }
    })();
    expect(row.seq).toBe(events + 2);
  });

  it('yields the event loop between the chunks of a walk', async () => {
    const { location } = await writeLog(12);
    const engine = await reopen(location, { chainChunk: 4 });
    try {
      // 24 events in chunks of 4: a timer set before the walk fires before it ends.
      let fired = false;
      setTimeout(() => (fired = true), 0);
      let firedBeforeEnd = false;
      const walk = engine.verifyChain().then((status) => {
        firedBeforeEnd = fired;
        return status;
      });
      expect(await walk).toMatchObject({ ok: true });
      expect(firedBeforeEnd).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('verifies a fresh log from the first event, and an empty one at the genesis hash', async () => {
    const engine = await Engine.open({ store: await factory.open(`chain_empty_${(counter += 1)}`) });
    try {
      expect(engine.chainAtOpen).toEqual({ ok: true, length: 0, head_hash: GENESIS_HASH, first_broken_seq: null, reason: null });
      expect(await verifiedRow(engine.store)).toMatchObject({ seq: 0, hash: GENESIS_HASH });
    } finally {
      await engine.close();
    }
  });
});
