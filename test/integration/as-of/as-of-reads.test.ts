import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { RewindError } from '../../../main/engine/errors.js';
import type { Dsl, RewindEvent, Run } from '../../../preload/contract/entities.js';
import { stores } from '../../support/stores.js';

/*
 * As-of reads (issue 22 item 1) on both stores, over random histories: at every seq, each listed read
 * as of that seq answers what the same read answered when the log ended there, and the runs equal a
 * rebuild of the run events up to that seq.
 */

const pipeline = (n: number): Dsl => ({
  nodes: [
    { id: 'fetch', type: 'transform', params: { set: { step: n } }, next: ['check'] },
    { id: 'check', type: 'transform', params: { set: { checked: true } }, next: [] },
  ],
  defaults: {},
});

/** mulberry32: a small seeded generator, so a failing history can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seen {
  seq: number;
  workflows: unknown;
  versions: Record<string, unknown>;
  runs: unknown;
  workflowRuns: Record<string, unknown>;
  failedRuns: unknown;
  incidents: unknown;
}

/** Runs as the log rebuilds them: run_started opens one, its end event closes it. */
function rebuildRuns(events: readonly RewindEvent[]): Map<string, Pick<Run, 'run_id' | 'workflow_id' | 'version' | 'kind' | 'status' | 'created_at' | 'finished_at' | 'error' | 'failed_node'>> {
  const runs = new Map<string, Pick<Run, 'run_id' | 'workflow_id' | 'version' | 'kind' | 'status' | 'created_at' | 'finished_at' | 'error' | 'failed_node'>>();
  for (const e of events) {
    if (!e.run_id) continue;
    const p = e.payload;
    if (e.type === 'run_started') {
      runs.set(e.run_id, { run_id: e.run_id, workflow_id: e.workflow_id!, version: Number(p.version), kind: p.kind as Run['kind'], status: 'running', created_at: e.ts, finished_at: null, error: null, failed_node: null });
    } else if (/^run_(succeeded|failed|cancelled|interrupted|denied)$/.test(e.type)) {
      const r = runs.get(e.run_id)!;
      Object.assign(r, { status: e.type.slice(4), finished_at: e.ts, error: (p.error as string | null) ?? null, failed_node: (p.failed_node as string | null) ?? null });
    }
  }
  return runs;
}

const pick = (r: Run) => ({ run_id: r.run_id, workflow_id: r.workflow_id, version: r.version, kind: r.kind, status: r.status, created_at: r.created_at, finished_at: r.finished_at, error: r.error, failed_node: r.failed_node });

type Reader = Pick<EngineBackend, 'call'>;

async function expectChangesAreTheDifference(backend: Reader, from: number, to: number): Promise<void> {
  const changes = await backend.call('changes:list', { from: String(from), to: String(to) });
  expect([changes.from_seq, changes.to_seq]).toEqual([from, to]);
  const at = async (seq: number) => {
    const { workflows } = await backend.call('workflows:list', { as_of: String(seq) });
    const out = new Map<string, { wf: (typeof workflows)[number]; published: Set<number>; runs: number; failed: number; succeeded: number }>();
    for (const wf of workflows) {
      const { versions } = await backend.call('versions:list', { workflow_id: wf.id, as_of: String(seq) });
      const count = async (status?: Run['status']) => (await backend.call('runs:list', { workflow_id: wf.id, as_of: String(seq), limit: 1, ...(status ? { status } : {}) })).total;
      out.set(wf.id, { wf, published: new Set(versions.filter((v) => v.published_at !== null).map((v) => v.version)), runs: await count(), failed: await count('failed'), succeeded: await count('succeeded') });
    }
    return out;
  };
  const [before, after] = [await at(from), await at(to)];
  const listed = new Map(changes.workflows.map((c) => [c.workflow_id, c]));
  for (const [id, then] of after) {
    const was = before.get(id);
    const c = listed.get(id);
    const newlyPublished = [...then.published].filter((v) => !was?.published.has(v)).sort();
    const runs = { started: then.runs - (was?.runs ?? 0), failed: then.failed - (was?.failed ?? 0), succeeded: then.succeeded - (was?.succeeded ?? 0) };
    if (was?.wf.revision === then.wf.revision && runs.started === 0 && runs.failed === 0 && runs.succeeded === 0) {
      expect(c, `${id} did not change between ${from} and ${to}`).toBeUndefined();
      continue;
    }
    expect(c, `${id} changed between ${from} and ${to}`).toBeDefined();
    expect(c!.active_before).toBe(was?.wf.active_version ?? null);
    expect(c!.active_after).toBe(then.wf.active_version);
    expect([...new Set(c!.published.map((p) => p.version))].sort()).toEqual(newlyPublished);
    expect(c!.runs).toEqual(runs);
    if ((was?.wf.status ?? 'active') !== then.wf.status) expect(c!.pauses.at(-1)?.status).toBe(then.wf.status);
    if ((was?.wf.schedule ?? null) !== then.wf.schedule) expect(c!.schedule_changes.at(-1)?.schedule).toBe(then.wf.schedule);
    if (was && was.wf.canary?.started_at !== then.wf.canary?.started_at) expect(c!.canary_changes.length).toBeGreaterThan(0);
  }
}

describe.each(stores)('as-of reads ($kind)', (factory) => {
  const closers: Array<() => Promise<void>> = [];
  let counter = 0;
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  afterAll(() => factory.dispose());

  async function open() {
    counter += 1;
    const engine = await Engine.open({ store: await factory.open(`asof${counter}`) });
    const backend = new EngineBackend(engine, 'ana');
    closers.push(() => backend.close());
    return { engine, backend };
  }

  async function look(backend: EngineBackend, engine: Engine): Promise<Seen> {
    const seq = await engine.events.latestSeq();
    const { workflows } = await backend.call('workflows:list', {});
    const versions: Record<string, unknown> = {};
    const workflowRuns: Record<string, unknown> = {};
    for (const w of workflows) {
      versions[w.id] = await backend.call('versions:list', { workflow_id: w.id, include_dsl: true });
      workflowRuns[w.id] = await backend.call('runs:list', { workflow_id: w.id, limit: 3 });
    }
    const runs = await backend.call('runs:list', {});
    const failedRuns = await backend.call('runs:list', { status: 'failed' });
    // The summary is computed "now" then and "at the moment" as of it: the same moment but for the clock reading.
    const { generated_at: _at, ...incidents } = await backend.call('incidents:summary', {});
    return { seq, workflows, versions, runs, workflowRuns, failedRuns, incidents };
  }

  async function asOf(backend: EngineBackend, seen: Seen): Promise<Seen> {
    const as_of = String(seen.seq);
    const list = await backend.call('workflows:list', { as_of });
    expect(list.as_of_seq).toBe(seen.seq);
    const versions: Record<string, unknown> = {};
    const workflowRuns: Record<string, unknown> = {};
    for (const w of list.workflows) {
      const { as_of_seq, ...page } = await backend.call('versions:list', { workflow_id: w.id, include_dsl: true, as_of });
      expect(as_of_seq).toBe(seen.seq);
      versions[w.id] = page;
      const { as_of_seq: _s, ...runPage } = await backend.call('runs:list', { workflow_id: w.id, limit: 3, as_of });
      workflowRuns[w.id] = runPage;
      const { as_of_seq: _g, ...one } = await backend.call('workflows:get', { workflow_id: w.id, as_of });
      expect(one).toEqual(w);
    }
    const { as_of_seq: _r, ...runs } = await backend.call('runs:list', { as_of });
    const { as_of_seq: _f, ...failedRuns } = await backend.call('runs:list', { status: 'failed', as_of });
    const { as_of_seq: _i, generated_at: _at, ...incidents } = await backend.call('incidents:summary', { as_of });
    return { seq: seen.seq, workflows: list.workflows, versions, runs, workflowRuns, failedRuns, incidents };
  }

  it.each([1, 2, 3])('every read as of each seq equals what it answered then, and the rebuild of the log (history %i)', async (seed) => {
    const { engine, backend } = await open();
    const random = prng(seed);
    const seen: Seen[] = [await look(backend, engine)];
    const ids: string[] = [];
    const runIds: string[] = [];
    // A scripted start, so every history holds a bad version, its failures, a rollback, a resume and a canary.
    const first = await backend.call('workflows:create', { name: `wf-${seed}-first`, description: '', dsl: pipeline(0) });
    ids.push(first.id);
    const scripted: Array<() => Promise<unknown>> = [
      () => backend.call('versions:createDraft', { workflow_id: first.id, dsl: pipeline(1), change_log: 'bad' }),
      () => backend.call('versions:publish', { workflow_id: first.id, version: 2 }),
      async () => runIds.push((await backend.call('runs:start', { workflow_id: first.id, faults: { fail_node: 'check' }, wait: true })).run_id),
      () => backend.call('versions:rollback', { workflow_id: first.id, version: 1 }),
      async () => runIds.push((await backend.call('runs:resume', { run_id: runIds[0]!, wait: true })).run_id),
      () => backend.call('versions:createDraft', { workflow_id: first.id, dsl: pipeline(2), change_log: 'canary' }),
      () => backend.call('versions:publish', { workflow_id: first.id, version: 3, canary: { percent: 50, min_runs: 2, max_failure_rate: 0.5, promote: 'manual' } }),
      async () => runIds.push((await backend.call('runs:start', { workflow_id: first.id, faults: { fail_node: 'check' }, wait: true })).run_id),
    ];
    for (const act of scripted) {
      await act();
      seen.push(await look(backend, engine));
    }
    for (let step = 0; step < 30; step++) {
      const roll = random();
      const id = ids[Math.floor(random() * ids.length)];
      try {
        if (id === undefined || roll < 0.1) {
          ids.push((await backend.call('workflows:create', { name: `wf-${seed}-${step}`, description: `history ${seed}`, dsl: pipeline(step) })).id);
        } else if (roll < 0.3) {
          const draft = await backend.call('versions:createDraft', { workflow_id: id, dsl: pipeline(step), change_log: `step ${step}` });
          const how = random();
          if (how < 0.25) {
            const canary = { percent: 50, min_runs: 2, max_failure_rate: 0.5, promote: random() < 0.5 ? ('manual' as const) : ('auto' as const) };
            await backend.call('versions:publish', { workflow_id: id, version: draft.version, canary });
          } else if (how < 0.75) await backend.call('versions:publish', { workflow_id: id, version: draft.version });
        } else if (roll < 0.45) {
          const { versions } = await backend.call('versions:list', { workflow_id: id });
          const target = versions.find((v) => v.status === 'deprecated');
          if (target) await backend.call('versions:rollback', { workflow_id: id, version: target.version });
        } else if (roll < 0.52) {
          const wf = await backend.call('workflows:get', { workflow_id: id });
          await backend.call(wf.status === 'paused' ? 'workflows:unpause' : 'workflows:pause', { workflow_id: id });
        } else if (roll < 0.56) {
          await backend.call('workflows:setSchedule', { workflow_id: id, schedule: random() < 0.5 ? '*/5 * * * *' : null });
        } else if (roll < 0.61 && runIds.length > 0) {
          const parent = runIds[Math.floor(random() * runIds.length)]!;
          runIds.push((await backend.call('runs:resume', { run_id: parent, wait: true })).run_id);
        } else {
          const faults = random() < 0.35 ? { fail_node: 'check' } : {};
          runIds.push((await backend.call('runs:start', { workflow_id: id, faults, wait: true })).run_id);
        }
      } catch (err) {
        // A paused workflow refuses runs, a run that succeeded refuses a resume: refusals are part of any history.
        if (!(err instanceof RewindError)) throw err;
      }
      seen.push(await look(backend, engine));
    }
    // The history holds what the reads must get right: failing workflows, rollbacks, canaries, resumes.
    const summaries = seen.map((x) => x.incidents as { failing: unknown[]; recent_rollbacks: unknown[]; canaries: unknown[] });
    expect(summaries.some((x) => x.failing.length > 0)).toBe(true);
    expect(summaries.some((x) => x.canaries.length > 0)).toBe(true);
    const events = (await engine.events.list(0, 100_000)) as RewindEvent[];
    expect(events.some((e) => e.type === 'workflow_rollback')).toBe(true);
    expect(events.some((e) => e.type === 'run_started' && e.payload.kind === 'resume')).toBe(true);
    expect(events.length).toBeGreaterThan(30);
    for (const then of seen) expect(await asOf(backend, then)).toEqual(then);
    // Changes between two moments equal the difference of the two as-of states.
    for (let k = 0; k < 12; k++) {
      const [a, b] = [seen[Math.floor(random() * seen.length)]!, seen[Math.floor(random() * seen.length)]!].sort((x, y) => x.seq - y.seq) as [Seen, Seen];
      await expectChangesAreTheDifference(backend, a.seq, b.seq);
    }
    // Every seq, including those inside a run (started, not ended yet), which no read above saw.
    const byId = (a: { run_id: string }, b: { run_id: string }) => a.run_id.localeCompare(b.run_id);
    for (let seq = 0; seq <= events.length; seq++) {
      const rebuilt = [...rebuildRuns(events.filter((e) => e.seq <= seq)).values()].sort(byId);
      const { runs } = await backend.call('runs:list', { as_of: String(seq), limit: 10_000 });
      expect(runs.map(pick).sort(byId), `runs as of event ${seq}`).toEqual(rebuilt);
      for (const r of rebuilt.slice(0, 2)) expect(pick(await backend.call('runs:get', { run_id: r.run_id, as_of: String(seq) }))).toEqual(r);
    }
  });

  it('tells apart the events of one millisecond by seq (a clock that stands still)', async () => {
    counter += 1;
    const engine = await Engine.open({ store: await factory.open(`asof${counter}`), clock: () => new Date('2026-12-07T03:12:05.000Z') });
    const backend = new EngineBackend(engine, 'ana');
    closers.push(() => backend.close());
    const wf = await backend.call('workflows:create', { name: 'still', description: '', dsl: pipeline(0) });
    for (const fail of [false, true, false]) await backend.call('runs:start', { workflow_id: wf.id, faults: fail ? { fail_node: 'check' } : {}, wait: true });
    const events = (await engine.events.list(0, 1000)) as RewindEvent[];
    expect(new Set(events.map((e) => e.ts)).size).toBe(1);
    const byId = (a: { run_id: string }, b: { run_id: string }) => a.run_id.localeCompare(b.run_id);
    for (let seq = 0; seq <= events.length; seq++) {
      const rebuilt = [...rebuildRuns(events.filter((e) => e.seq <= seq)).values()].sort(byId);
      expect((await backend.call('runs:list', { as_of: String(seq) })).runs.map(pick).sort(byId), `runs as of event ${seq}`).toEqual(rebuilt);
      const failed = rebuilt.filter((r) => r.status === 'failed').length;
      if (seq > 0) expect((await backend.call('workflows:get', { workflow_id: wf.id, as_of: String(seq) })).failed_runs, `failed_runs as of event ${seq}`).toBe(failed);
    }
  });

  it('a time answers the last event at or before it; before the first event the state is empty; the future is refused', async () => {
    const { engine, backend } = await open();
    const empty = await backend.call('workflows:list', { as_of: '2000-01-01T00:00:00Z' });
    expect(empty).toEqual({ workflows: [], total: 0, as_of_seq: 0 });
    const wf = await backend.call('workflows:create', { name: 'timed', description: '', dsl: pipeline(1) });
    const head = await engine.events.head();
    const [created] = (await engine.events.list(head.seq - 1, 1)) as RewindEvent[];
    const byTime = await backend.call('workflows:list', { as_of: created!.ts });
    expect(byTime.as_of_seq).toBe(head.seq);
    expect(byTime.workflows.map((w) => w.id)).toEqual([wf.id]);
    expect((await backend.call('runs:list', { as_of: '1999-12-31T23:00:00+01:00' })).runs).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await expect(backend.call('workflows:list', { as_of: future })).rejects.toMatchObject({ code: 'AS_OF_IN_FUTURE' });
    await expect(backend.call('runs:get', { run_id: 'x', as_of: String(head.seq + 5) })).rejects.toMatchObject({ code: 'AS_OF_IN_FUTURE' });
    await expect(backend.call('workflows:get', { workflow_id: wf.id, as_of: '0' })).rejects.toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });
  });
});
