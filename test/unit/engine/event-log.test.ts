import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { Engine } from '../../../main/engine/engine.js';
import { GENESIS_HASH, hashEvent } from '../../../main/engine/event-log.js';
import { createWorkflow, eventsOf, linearDsl, onCleanup, openTempEngine, openTempSandbox, sqliteDb, tempDbPath } from './fixtures.js';

function createInput(name: string) {
  return { name, description: '', dsl: linearDsl(), source_type: 'MANUAL' as const };
}

/** A sandbox with a short history: 2 workflows, a draft, a publish, a rollback, a pause (6 events). */
async function history(path?: string) {
  const sb = await openTempSandbox(path === undefined ? {} : { path });
  const a = await createWorkflow(sb, 'a');
  await createWorkflow(sb, 'b');
  await sb.call('versions:createDraft', { workflow_id: a.id, dsl: linearDsl(0.03) });
  await sb.call('versions:publish', { workflow_id: a.id, version: 2 });
  await sb.call('versions:rollback', { workflow_id: a.id, version: 1 });
  await sb.call('workflows:pause', { workflow_id: a.id });
  return { sb, a };
}

function dropTriggers(db: Database.Database): void {
  db.exec('DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;');
}

describe('event log: append', () => {
  it('numbers events 1..n without gaps and chains each to the previous hash', async () => {
    const { sb } = await history();
    const events = await eventsOf(sb.engine);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.map((e) => e.type)).toEqual(['workflow_created', 'workflow_created', 'version_created', 'version_published', 'workflow_rollback', 'workflow_paused']);
    expect(events[0]!.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i += 1) expect(events[i]!.prev_hash).toBe(events[i - 1]!.hash);
    for (const e of events) {
      const { hash, ...rest } = e;
      expect(hashEvent({ ...rest, payload: JSON.stringify(e.payload) })).toBe(hash);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await sb.engine.latestSeq()).toBe(6);
  });

  it('lists events after a seq, with a limit, and for one workflow', async () => {
    const { sb, a } = await history();
    expect((await sb.engine.events.list(4, 100)).map((e) => e.seq)).toEqual([5, 6]);
    expect((await sb.engine.events.list(0, 2)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await sb.engine.events.list(0, 100, a.id)).map((e) => e.seq)).toEqual([1, 3, 4, 5, 6]);
    const viaBackend = await sb.call('events:list', { after: 3, workflow_id: a.id });
    expect(viaBackend.events.map((e) => e.type)).toEqual(['version_published', 'workflow_rollback', 'workflow_paused']);
  });

  it('refuses UPDATE and DELETE on events (append-only triggers)', async () => {
    const { sb } = await history();
    const db = sqliteDb(sb.engine);
    expect(() => db.prepare("UPDATE events SET payload = '{}' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => db.prepare('UPDATE events SET actor = ? WHERE seq = 1').run('mallory')).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM events WHERE seq = 6').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    expect(await eventsOf(sb.engine)).toHaveLength(6);
    expect((await sb.engine.verifyChain()).ok).toBe(true);
  });
});

describe('event log: verify', () => {
  it('reports an intact chain ok with its length and head hash', async () => {
    const { sb } = await history();
    const events = await eventsOf(sb.engine);
    const status = await sb.engine.verifyChain();
    expect(status).toEqual({ ok: true, length: 6, head_hash: events[5]!.hash, first_broken_seq: null, reason: null });
    expect(await sb.call('events:verify', {})).toEqual(status);
    expect(sb.engine.chainAtOpen).toEqual({ ok: true, length: 0, head_hash: GENESIS_HASH, first_broken_seq: null, reason: null });
  });

  it('finds an altered payload: first_broken_seq is that event, the reason says altered', async () => {
    const { sb } = await history();
    const before = await eventsOf(sb.engine);
    dropTriggers(sqliteDb(sb.engine));
    sqliteDb(sb.engine).prepare('UPDATE events SET payload = ? WHERE seq = 4').run(JSON.stringify({ from_version: 1, to_version: 3, revision: 3 }));
    const status = await sb.engine.verifyChain();
    expect(status).toMatchObject({ ok: false, first_broken_seq: 4, length: 3, head_hash: before[2]!.hash });
    expect(status.reason).toContain('event 4 was altered');
  });

  it('finds a deleted event: the next seq is reported, naming the missing one', async () => {
    const { sb } = await history();
    dropTriggers(sqliteDb(sb.engine));
    sqliteDb(sb.engine).prepare('DELETE FROM events WHERE seq = 3').run();
    const status = await sb.engine.verifyChain();
    expect(status).toMatchObject({ ok: false, first_broken_seq: 4, length: 2 });
    expect(status.reason).toContain('missing');
    expect(status.reason).toContain('3');
  });

  it('finds a broken prev_hash link', async () => {
    const { sb } = await history();
    dropTriggers(sqliteDb(sb.engine));
    sqliteDb(sb.engine).prepare('UPDATE events SET prev_hash = ? WHERE seq = 5').run('f'.repeat(64));
    const status = await sb.engine.verifyChain();
    expect(status).toMatchObject({ ok: false, first_broken_seq: 5, length: 4 });
    expect(status.reason).toContain('event 5 does not point at the hash of event 4');
  });

  it('finds a rewritten event even when its hash was recomputed (the next link breaks)', async () => {
    const { sb } = await history();
    dropTriggers(sqliteDb(sb.engine));
    const e2 = (await eventsOf(sb.engine))[1]!;
    const forged = { ...e2, actor: 'mallory', payload: JSON.stringify(e2.payload) };
    const { hash: _old, ...rest } = forged;
    sqliteDb(sb.engine).prepare('UPDATE events SET actor = ?, hash = ? WHERE seq = 2').run('mallory', hashEvent(rest));
    const status = await sb.engine.verifyChain();
    expect(status).toMatchObject({ ok: false, first_broken_seq: 3 });
  });

  it('verifies at open the events no process verified yet, and reports the tampering then', async () => {
    const path = tempDbPath();
    const { sb } = await history(path);
    dropTriggers(sqliteDb(sb.engine));
    sqliteDb(sb.engine).prepare("UPDATE events SET actor = 'mallory' WHERE seq = 2").run();
    await sb.close();
    // Verified while it was written: the open reads only what came after (nothing), a whole-chain walk finds the edit.
    const trusting = await Engine.open({ path });
    expect(trusting.chainAtOpen).toMatchObject({ ok: true, length: 6 });
    expect(await trusting.verifyChain()).toMatchObject({ ok: false, first_broken_seq: 2, reason: expect.stringContaining('altered') });
    await trusting.close();
    // A log written before the verified head was kept (or by a process killed before it stored it): the open walks it all.
    const db = new Database(path);
    db.prepare("UPDATE chain_verified SET seq = 0, hash = ?, broken_seq = NULL, broken_reason = NULL WHERE id = 1").run(GENESIS_HASH);
    db.close();
    const reopened = await Engine.open({ path });
    onCleanup(() => reopened.close());
    expect(reopened.chainAtOpen).toMatchObject({ ok: false, first_broken_seq: 2 });
    expect(reopened.chainAtOpen.reason).toContain('altered');
  });
});

describe('event log: listeners', () => {
  it('hears each event once, in seq order, only after its transaction has committed', async () => {
    const path = tempDbPath();
    const engine = await openTempEngine({ path });
    const reader = new Database(path, { readonly: true });
    onCleanup(() => {
      reader.close();
    });
    const heard: Array<{ event: RewindEvent; visibleToOtherConnection: boolean }> = [];
    engine.onEvent((event) => {
      const row = reader.prepare('SELECT seq FROM events WHERE seq = ?').get(event.seq);
      heard.push({ event, visibleToOtherConnection: row !== undefined });
    });
    await engine.mutate(async () => {
      await engine.workflows.create(createInput('one'), 'tester');
      await engine.workflows.create(createInput('two'), 'tester');
      expect(heard).toEqual([]);
    });
    expect(heard.map((h) => h.event.seq)).toEqual([1, 2]);
    expect(heard.every((h) => h.visibleToOtherConnection)).toBe(true);
  });

  it('hears nothing from a transaction that rolled back, and the seq is not consumed', async () => {
    const engine = await openTempEngine();
    const heard: number[] = [];
    engine.onEvent((e) => heard.push(e.seq));
    await expect(
      engine.mutate(async () => {
        await engine.workflows.create(createInput('doomed'), 'tester');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(heard).toEqual([]);
    expect(await engine.latestSeq()).toBe(0);
    expect(await engine.workflows.list()).toEqual([]);
    await engine.workflows.create(createInput('kept'), 'tester');
    expect(heard).toEqual([1]);
  });

  it('hears nothing from a nested mutation that rolled back inside a committed one', async () => {
    const engine = await openTempEngine();
    const heard: RewindEvent[] = [];
    engine.onEvent((e) => heard.push(e));
    await engine.mutate(async () => {
      try {
        await engine.mutate(async () => {
          await engine.workflows.create(createInput('doomed'), 'tester');
          throw new Error('inner refusal');
        });
      } catch {
        // the outer transaction carries on without the inner one
      }
      await engine.workflows.create(createInput('kept'), 'tester');
    });
    const stored = await eventsOf(engine);
    expect(stored.map((e) => [e.seq, (e.payload['workflow'] as { name: string }).name])).toEqual([[1, 'kept']]);
    expect(heard.map((e) => e.seq)).toEqual([1]);
    expect(heard).toEqual(stored);
  });

  it('stops hearing events once unsubscribed', async () => {
    const sb = await openTempSandbox();
    const heard: number[] = [];
    const off = sb.engine.onEvent((e) => heard.push(e.seq));
    await createWorkflow(sb, 'a');
    off();
    await createWorkflow(sb, 'b');
    expect(heard).toEqual([1]);
  });
});
