import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import { rebuildFromEvents, snapshotState } from '../../../main/engine/rebuild.js';
import { openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import type { Store } from '../../../main/engine/store/port.js';
import { openSqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import { rewindEventSchema, runSchema } from '../../../preload/contract/entities.js';
import { type StoreFactory, stores } from '../../support/stores.js';
import { buildHistory } from '../../bench/history/generate.js';

/*
 * The history bench's generator writes runs in bulk, bypassing the run service for speed. These
 * cases hold it to the run service's own rows: the same workload built both ways gives the same
 * tables (ids aside), and the bulk-built log verifies and rebuilds the workflow state (invariant 4).
 */

const ENDS_AT = new Date('2026-11-30T12:00:00.000Z');
const EVENTS = 300;
/** Publishes (the first of each workflow bad), rollbacks, resumes and pauses packed into 300 events. */
const DENSE = { runsPerHour: 20, publishEveryHours: 4, pauseEveryHours: 6, badForHours: 1, resumeShare: 1 };

type Row = Record<string, unknown>;

const reopen = (factory: StoreFactory, name: string): Promise<Store> =>
  factory.kind === 'sqlite' ? Promise.resolve(openSqliteStore(factory.location(name))) : openPostgresStore({ url: factory.location(name) });

async function tables(store: Store) {
  const read = store.read;
  return {
    workflows: await read.all<Row>('SELECT * FROM workflows ORDER BY name'),
    versions: await read.all<Row>('SELECT v.*, w.name FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id ORDER BY w.name, v.version'),
    runs: await read.all<Row>('SELECT * FROM runs ORDER BY created_at, run_id'),
    checkpoints: await read.all<Row>('SELECT c.* FROM checkpoints c JOIN runs r ON r.run_id = c.run_id ORDER BY r.created_at, c.run_id, c.seq'),
    events: await read.all<Row>('SELECT * FROM events ORDER BY seq'),
  };
}

/** Replaces generated ids (workflows, versions, runs) by their order of appearance, and drops what depends on them (hashes) or on the process (runner). */
function normalise(t: Awaited<ReturnType<typeof tables>>): Record<keyof typeof t, Row[]> {
  const ids = new Map<string, string>();
  const as = (prefix: string, id: unknown) => {
    if (typeof id !== 'string') return id;
    if (!ids.has(id)) ids.set(id, `${prefix}${ids.size}`);
    return ids.get(id);
  };
  for (const w of t.workflows) as('wf', w.id);
  for (const v of t.versions) as('ver', v.version_id);
  for (const r of t.runs) as('run', r.run_id);
  const swap = (text: string) => [...ids].reduce((s, [from, to]) => s.split(from).join(to), text);
  return {
    workflows: t.workflows.map((w): Row => ({ ...w, id: as('wf', w.id) })),
    versions: t.versions.map((v): Row => ({ ...v, version_id: as('ver', v.version_id), workflow_id: as('wf', v.workflow_id) })),
    runs: t.runs.map((r): Row => ({ ...r, run_id: as('run', r.run_id), workflow_id: as('wf', r.workflow_id), parent_run_id: as('run', r.parent_run_id), runner_id: null })),
    checkpoints: t.checkpoints.map((c): Row => ({ ...c, run_id: as('run', c.run_id) })),
    events: t.events.map(({ hash: _h, prev_hash: _p, ...e }): Row => ({ ...e, workflow_id: as('wf', e.workflow_id), run_id: as('run', e.run_id), payload: swap(String(e.payload)) })),
  };
}

describe.each(stores)('the history generator on $kind', (factory) => {
  afterAll(() => factory.dispose());

  it('writes in bulk the rows the run service writes', async () => {
    await buildHistory(await factory.open('gen-bulk'), { events: EVENTS, endsAt: ENDS_AT, mode: 'bulk', batchRuns: 37, workload: DENSE });
    await buildHistory(await factory.open('gen-engine'), { events: EVENTS, endsAt: ENDS_AT, mode: 'engine', workload: DENSE });
    const bulk = await reopen(factory, 'gen-bulk');
    const engine = await reopen(factory, 'gen-engine');
    try {
      const [b, e] = [normalise(await tables(bulk)), normalise(await tables(engine))];
      // The workload has failures, resumes of a bad version's runs, rollbacks and pauses in this span.
      expect(b.runs.filter((r) => r.status === 'failed').length).toBeGreaterThan(0);
      expect(b.runs.filter((r) => r.kind === 'resume').length).toBeGreaterThan(0);
      expect(b.events.filter((x) => x.type === 'workflow_rollback').length).toBeGreaterThan(0);
      expect(b.events.filter((x) => x.type === 'workflow_paused').length).toBeGreaterThan(0);
      expect(JSON.stringify(b, null, 1)).toEqual(JSON.stringify(e, null, 1));
    } finally {
      await bulk.close();
      await engine.close();
    }
  });

  it('builds a log that verifies, reads through the contract, and rebuilds the workflow state', async () => {
    const manifest = await buildHistory(await factory.open('gen-verify'), { events: 2000, endsAt: ENDS_AT });
    expect(manifest.events).toBeGreaterThanOrEqual(2000);
    expect(manifest.events).toBeLessThan(2100);
    const engine = await Engine.open({ store: await reopen(factory, 'gen-verify') });
    try {
      expect(await engine.verifyChain()).toMatchObject({ ok: true, length: manifest.events, head_hash: manifest.head.hash });
      const events = await engine.events.list(0, manifest.events + 10);
      for (const e of events) rewindEventSchema.parse(e);
      // ts grows with seq: "the last event at or before a time" is well defined.
      expect(events.every((e, i) => i === 0 || e.ts >= events[i - 1]!.ts)).toBe(true);
      expect(rebuildFromEvents(events)).toEqual(await snapshotState(engine.store.read));
      const { runs } = await engine.runs.list({ workflow_id: manifest.busy_workflow_id, limit: 50, offset: 0 });
      for (const r of runs) runSchema.parse(r);
      expect((await engine.runs.checkpoints(manifest.sample_run_id)).length).toBe(10);
    } finally {
      await engine.close();
    }
  });
});
