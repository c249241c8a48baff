import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RewindError } from '../../../main/engine/errors.js';
import { openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { latestSchemaVersion } from '../../../main/engine/store/postgres/migrations/index.js';
import type { ChainHead, Store, Tx } from '../../../main/engine/store/port.js';
import { openSqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import { freshDatabase } from '../../support/postgres.js';
import { SQLITE_NO_CONCURRENT_INSTANCES } from '../../support/stores.js';

/*
 * What the engine relies on from a store, checked the same way on every adapter (Temporal's
 * persistence tests are the model). A factory gives a fresh, migrated database; `open` may be called
 * more than once for several instances on it (several processes or replicas).
 */

export interface StoreFactory {
  kind: Store['kind'];
  freshDatabase(): Promise<{ open(): Promise<Store> }>;
  /** Removes what the factory made, after every store is closed. */
  dispose?(): void;
  /**
   * Why two instances in this one process cannot hold interleaved units of work, if they cannot:
   * the concurrent-appenders case is then skipped here and the reason printed.
   */
  noConcurrentInstances?: string;
}

const sqliteDir = { path: null as string | null };
const sqlite: StoreFactory = {
  kind: 'sqlite',
  freshDatabase: async () => {
    sqliteDir.path ??= mkdtempSync(join(tmpdir(), 'rewind-conformance-'));
    const file = join(sqliteDir.path, `${Math.random().toString(36).slice(2)}.db`);
    return { open: async () => openSqliteStore(file) };
  },
  noConcurrentInstances: SQLITE_NO_CONCURRENT_INSTANCES,
  dispose: () => {
    if (sqliteDir.path) rmSync(sqliteDir.path, { recursive: true, force: true });
    sqliteDir.path = null;
  },
};

const postgres: StoreFactory = {
  kind: 'postgres',
  freshDatabase: async () => {
    const url = await freshDatabase('conformance');
    let n = 0;
    return { open: () => openPostgresStore({ url, replicaId: `conformance-${++n}` }) };
  },
};

// One line per adapter.
for (const factory of [sqlite, postgres]) describePortConformance(factory);

const GENESIS = '0'.repeat(64);

async function append(tx: Tx, type: string): Promise<ChainHead> {
  const head = await tx.lockHead();
  const payload = JSON.stringify({ type });
  const next = { seq: head.seq + 1, hash: createHash('sha256').update(head.hash + payload).digest('hex') };
  await tx.run('INSERT INTO events (seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?)', [
    next.seq,
    new Date().toISOString(),
    type,
    'conformance',
    payload,
    head.hash,
    next.hash,
  ]);
  await tx.setHead(next);
  return next;
}

function describePortConformance(factory: StoreFactory): void {
  describe(`the storage port on ${factory.kind}`, () => {
    const open: Store[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    afterAll(() => factory.dispose?.());
    const openOne = async (): Promise<{ store: Store; openAnother: () => Promise<Store> }> => {
      const db = await factory.freshDatabase();
      const openAnother = async () => {
        const s = await db.open();
        open.push(s);
        return s;
      };
      return { store: await openAnother(), openAnother };
    };

    it('opens migrated, healthy, of its kind, at an empty chain', async () => {
      const { store } = await openOne();
      expect(store.kind).toBe(factory.kind);
      expect(store.healthy).toBe(true);
      expect(store.schemaVersion).toBe(latestSchemaVersion);
      expect(await store.transaction((tx) => tx.lockHead())).toEqual({ seq: 0, hash: GENESIS });
    });

    it('binds ? placeholders in order, leaving a ? inside a quoted literal alone', async () => {
      const { store } = await openOne();
      await store.transaction(async (tx) => {
        await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', ['what?', "it's ? here"]);
        await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', ['plain', '?']);
      });
      expect(await store.read.get<{ value: string }>("SELECT value FROM meta WHERE key = ? AND value <> '?'", ['what?'])).toEqual({ value: "it's ? here" });
      expect(await store.read.all<{ key: string }>("SELECT key FROM meta WHERE value = '?' OR key = ? ORDER BY key", ['what?'])).toEqual([
        { key: 'plain' },
        { key: 'what?' },
      ]);
      expect(await store.read.get('SELECT value FROM meta WHERE key = ?', ['absent'])).toBeUndefined();
    });

    it('returns integer columns, counts and sums as JS numbers, and counts the rows a statement changed', async () => {
      const { store } = await openOne();
      await store.transaction(async (tx) => {
        for (let i = 0; i < 3; i++) await append(tx, `e${i}`);
      });
      const row = await store.read.get<{ n: unknown; total: unknown; top: unknown }>('SELECT count(*) AS n, sum(seq) AS total, max(seq) AS top FROM events');
      expect(row).toEqual({ n: 3, total: 6, top: 3 });
      const seqs = await store.read.all<{ seq: unknown }>('SELECT seq FROM events ORDER BY seq');
      expect(seqs.map((r) => typeof r.seq)).toEqual(['number', 'number', 'number']);

      await store.transaction(async (tx) => {
        await tx.run('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)', ['a', '1', 'b', '1']);
        expect(await tx.run('UPDATE meta SET value = ? WHERE value = ?', ['2', '1'])).toEqual({ changes: 2 });
        expect(await tx.run('DELETE FROM meta WHERE key = ?', ['none'])).toEqual({ changes: 0 });
      });
    });

    it('commits a unit of work with its result, and rolls all of it back when it throws', async () => {
      const { store } = await openOne();
      expect(await store.transaction(async (tx) => (await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', ['kept', 'yes'])).changes)).toBe(1);

      const refusal = new RewindError('STALE_REVISION', 'stale', 'reload');
      await expect(
        store.transaction(async (tx) => {
          await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', ['lost', 'no']);
          await append(tx, 'never');
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(await store.read.all('SELECT key FROM meta ORDER BY key')).toEqual([{ key: 'kept' }]);
      expect(await store.read.get('SELECT count(*) AS n FROM events')).toEqual({ n: 0 });
      // The head did not move either: the next append is seq 1 after the genesis hash.
      expect(await store.transaction((tx) => append(tx, 'first'))).toMatchObject({ seq: 1 });
    });

    if (factory.noConcurrentInstances) console.log(`port conformance on ${factory.kind}: skipping "orders concurrent appenders on two instances": ${factory.noConcurrentInstances}`);
    it.skipIf(factory.noConcurrentInstances !== undefined)('orders concurrent appenders on two instances of one database into one gapless chain', async () => {
      const { store, openAnother } = await openOne();
      const other = await openAnother();
      const N = 40;
      const heads = await Promise.all(Array.from({ length: N }, (_, i) => (i % 2 === 0 ? store : other).transaction((tx) => append(tx, `concurrent-${i}`))));
      expect(heads.map((h) => h.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));

      const events = await other.read.all<{ seq: number; payload: string; prev_hash: string; hash: string }>('SELECT seq, payload, prev_hash, hash FROM events ORDER BY seq');
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      let prev = GENESIS;
      for (const e of events) {
        expect(e.prev_hash).toBe(prev);
        expect(e.hash).toBe(createHash('sha256').update(prev + e.payload).digest('hex'));
        prev = e.hash;
      }
      expect(await store.transaction((tx) => tx.lockHead())).toEqual({ seq: N, hash: prev });
    });

    it('wakes the other instance when one commits an append', async () => {
      const { store, openAnother } = await openOne();
      const other = await openAnother();
      let early = 0;
      const stopEarly = other.onExternalCommit(() => early++);
      const woken = new Promise<void>((resolve) => other.onExternalCommit(resolve));
      await store.transaction((tx) => append(tx, 'from-the-first'));
      await woken;
      expect(early).toBeGreaterThanOrEqual(1);

      // Unsubscribed: the next commit wakes the remaining listeners only.
      stopEarly();
      const before = early;
      const again = new Promise<void>((resolve) => other.onExternalCommit(resolve));
      await store.transaction((tx) => append(tx, 'second'));
      await again;
      expect(early).toBe(before);
    });

    it('orders and matches text bytewise or case-insensitively through the dialect, and compares stored timestamps with isoAgo', async () => {
      const { store } = await openOne();
      const now = new Date();
      await store.transaction(async (tx) => {
        for (const key of ['B', 'a', 'C']) await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', [key, now.toISOString()]);
        await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', ['old', new Date(now.getTime() - 2 * 86_400_000).toISOString()]);
      });
      const keys = async (order: string) => (await store.read.all<{ key: string }>(`SELECT key FROM meta WHERE key <> 'old' ORDER BY ${order}`)).map((r) => r.key);
      expect(await keys('key')).toEqual(['B', 'C', 'a']);
      expect(await keys(store.dialect.nocase('key'))).toEqual(['a', 'B', 'C']);
      const matching = await store.read.all<{ key: string }>(`SELECT key FROM meta WHERE ${store.dialect.ilike('key')} ORDER BY key`, ['%b%']);
      expect(matching.map((r) => r.key)).toEqual(['B']);

      const recent = await store.read.all<{ key: string }>(`SELECT key FROM meta WHERE value > ${store.dialect.isoAgo('1 day')} ORDER BY key`);
      expect(recent.map((r) => r.key)).toEqual(['B', 'C', 'a']);
      const ago = await store.read.get<{ t: string }>(`SELECT ${store.dialect.isoAgo('1 day')} AS t`);
      expect(ago?.t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      // The same instant as JavaScript's, give or take the clock between two statements.
      expect(Math.abs(Date.parse(ago!.t) - (Date.now() - 86_400_000))).toBeLessThan(600_000);
    });
  });
}
