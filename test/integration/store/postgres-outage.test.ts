import { afterEach, describe, expect, it } from 'vitest';
import { RewindError } from '../../../main/engine/errors.js';
import { type PostgresStore, openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { httpStatusOf } from '../../../preload/contract/errors.js';
import { privatePostgres } from '../../support/postgres.js';

/*
 * The database stopped and started again under a running store: requests get a 503-coded refusal
 * with a hint and a Retry-After, `healthy` says so, nothing half-applied survives, and the store
 * comes back by itself. The server here is the test's own, so stopping it disturbs no other file.
 */

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  // Bounded by the test's timeout: recovery is asserted, its speed is the benchmarks' business.
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

async function unavailable(promise: Promise<unknown>): Promise<RewindError> {
  const err = await promise.then(
    () => {
      throw new Error('expected STORE_UNAVAILABLE');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RewindError);
  const r = err as RewindError;
  expect(r.code).toBe('STORE_UNAVAILABLE');
  expect(httpStatusOf(r.code)).toBe(503);
  expect(r.hint).toMatch(/Retry/);
  expect(r.details?.retry_after_s).toEqual(expect.any(Number));
  expect(r.details?.retry_after_s as number).toBeGreaterThanOrEqual(1);
  expect(`${r.message} ${r.hint}`).not.toMatch(/bug in Rewind/i);
  return r;
}

describe('PostgreSQL away and back', () => {
  const stores: PostgresStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('answers 503-coded refusals while the database is down, applies nothing half-way, and recovers by itself', async () => {
    const server = await privatePostgres();
    const url = await server.freshDatabase('outage');
    const store = await openPostgresStore({ url, replicaId: 'outage-a' });
    const other = await openPostgresStore({ url, replicaId: 'outage-b' });
    stores.push(store, other);
    await store.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('before', 'kept')"));
    let wakes = 0;
    store.onExternalCommit(() => wakes++);

    // A unit of work in flight when the database stops: its first write must not survive.
    const inFlight = store.transaction(async (tx) => {
      await tx.run("INSERT INTO meta (key, value) VALUES ('half', 'applied?')");
      await server.stop();
      await tx.run("INSERT INTO meta (key, value) VALUES ('second', 'write')");
    });
    const failed = await unavailable(inFlight);
    expect(failed.message).toContain('nothing was changed');

    // While it is down: reads and units of work are refused the same way, and health says so.
    await unavailable(store.read.get('SELECT 1'));
    await unavailable(store.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('during', 'outage')")));
    expect(store.healthy).toBe(false);
    const wakesWhileDown = wakes;

    await server.start();
    // No statement from the test: the store notices by itself that the database is back.
    await until(() => store.healthy);
    // … and wakes its listeners, since notifications sent meanwhile may have been missed.
    await until(() => wakes > wakesWhileDown);

    expect(await store.read.all('SELECT key, value FROM meta ORDER BY key')).toEqual([{ key: 'before', value: 'kept' }]);
    await store.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('after', 'ok')"));

    // The other instance, idle throughout, works too and is heard again.
    const heard = wakes;
    await other.transaction(async (tx) => {
      const head = await tx.lockHead();
      await tx.run("INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (?, 'ts', 't', 'a', '{}', ?, 'h1')", [head.seq + 1, head.hash]);
      await tx.setHead({ seq: head.seq + 1, hash: 'h1' });
    });
    await until(() => wakes > heard);
    expect(await other.read.get('SELECT count(*) AS n FROM meta')).toEqual({ n: 2 });
  });
});
