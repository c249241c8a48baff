import { afterAll, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { buildVersionRuns } from '../../bench/history/generate.js';
import { openStoreAt } from '../../support/open-store.js';
import { type StoreFactory, stores } from '../../support/stores.js';

/*
 * A long page (events:list, runs:list) lets other work run while it is read: on SQLite, whose
 * statements are synchronous, it is read in steps with the event loop let through between them (a
 * page read in one go held every other request of the server, its /health too, for as long as it
 * took); on PostgreSQL the read waits on its socket. The steps must add up to the page a single read
 * gives, at every boundary, with every filter and in both directions.
 */

const RUNS = 620;

/** Whether a callback queued before the read ran before it finished (the read let the event loop turn). */
async function letThrough<T>(read: () => Promise<T>): Promise<{ value: T; turned: boolean }> {
  let turned = false;
  setImmediate(() => (turned = true));
  const value = await read();
  return { value, turned };
}

describe.each(stores)('long reads on $kind', (factory: StoreFactory) => {
  afterAll(() => factory.dispose());

  it('hands out a long page in steps that add up to the whole page, letting other work run between them', async () => {
    const name = `long_reads_${factory.kind}`;
    const built = await buildVersionRuns(await factory.open(name), { runs: RUNS, seed: 11 });
    const sb = new EngineBackend(await Engine.open({ store: await openStoreAt(factory.location(name), name) }), 'tester');
    try {
      const all = await sb.call('runs:list', { limit: 1000 });
      expect(all.runs).toHaveLength(RUNS);
      expect(all.has_more).toBe(false);
      const newestFirst = [...all.runs].sort((a, b) => (a.created_at === b.created_at ? b.run_id.localeCompare(a.run_id) : b.created_at.localeCompare(a.created_at)));
      expect(all.runs.map((r) => r.run_id)).toEqual(newestFirst.map((r) => r.run_id));

      const page = await letThrough(() => sb.call('runs:list', { workflow_id: built.workflow_id, limit: 600 }));
      expect(page.turned).toBe(true);
      expect(page.value.runs.map((r) => r.run_id)).toEqual(all.runs.slice(0, 600).map((r) => r.run_id));
      expect(page.value.has_more).toBe(true);
      const rest = await sb.call('runs:list', { workflow_id: built.workflow_id, limit: 600, after: page.value.next_cursor! });
      expect(rest.runs.map((r) => r.run_id)).toEqual(all.runs.slice(600).map((r) => r.run_id));
      expect(rest.has_more).toBe(false);
      // Back from the oldest: the 510 newer than the 10 oldest, newest first, with more before them.
      const back = await sb.call('runs:list', { limit: 510, before: rest.prev_cursor! });
      expect(back.runs.map((r) => r.run_id)).toEqual(all.runs.slice(90, 600).map((r) => r.run_id));
      expect(back.has_more).toBe(true);
      const offset = await sb.call('runs:list', { limit: 300, offset: 100 });
      expect(offset.runs.map((r) => r.run_id)).toEqual(all.runs.slice(100, 400).map((r) => r.run_id));

      const events = (await sb.call('events:list', { after: 0, limit: 2000 })).events;
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: built.events }, (_, i) => i + 1));
      const expected = events.filter((e) => e.seq > 3 && e.workflow_id === built.workflow_id).slice(0, 700).map((e) => e.seq);
      // The engine's forward read (catch-up, rebuilds) steps; the audit route's page is bounded by its scan budget instead (event-query.ts).
      const stepped = await letThrough(() => sb.engine.events.list(3, 700, built.workflow_id));
      expect(stepped.turned).toBe(true);
      expect(stepped.value.map((e) => e.seq)).toEqual(expected);
      expect((await sb.call('events:list', { after: 3, limit: 700, workflow_id: built.workflow_id })).events.map((e) => e.seq)).toEqual(expected);
      const run = all.runs[300]!.run_id;
      const ofRun = await sb.call('events:list', { after: 0, limit: 1000, run_id: run });
      expect(ofRun.events.map((e) => e.seq)).toEqual(events.filter((e) => e.run_id === run).map((e) => e.seq));
      expect(ofRun.events.length).toBeGreaterThan(0);
    } finally {
      await sb.close();
    }
  });
});
