import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { RewindError } from '../../../main/engine/errors.js';
import type { RetentionPolicy } from '../../../main/engine/retention.js';
import { SqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import type { Checkpoint, Dsl, RewindEvent, Run } from '../../../preload/contract/entities.js';
import { openStoreAt } from '../../support/open-store.js';
import { skipWithoutConcurrentInstances, stores } from '../../support/stores.js';

/*
 * Retention on each store: finished runs older than the window lose their checkpoints (the run row
 * stays, marked pruned), old idempotency keys, schedule ticks and webhook deliveries go, events stay
 * and one `runs_pruned` records each pass; one process prunes at a time (the retention lease).
 */

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const NINETY: RetentionPolicy = { retainMs: 90 * DAY, label: '90 days', keepFailedCheckpoints: false };

const dsl: Dsl = {
  defaults: { defect_rate: 0.02 },
  nodes: [
    { id: 'extract', type: 'task', params: { duration_ms: 1, output: { rows: 120 } }, next: ['judge'] },
    { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'pass' }, next: ['load'] },
    { id: 'load', type: 'task', params: { duration_ms: 1, output: { loaded: true } }, next: ['report'] },
    { id: 'report', type: 'transform', params: { set: { 'report.done': true } }, next: [] },
  ],
};
const gated: Dsl = {
  defaults: {},
  nodes: [
    { id: 'start', type: 'task', params: { duration_ms: 1 }, next: ['gate'] },
    { id: 'gate', type: 'approval', params: { prompt: 'Ship it?' }, next: [] },
  ],
};

async function expectCode(p: Promise<unknown>, code: string): Promise<RewindError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RewindError);
    expect((err as RewindError).code).toBe(code);
    return err as RewindError;
  }
  throw new Error(`expected ${code}`);
}

describe.each(stores)('retention on $kind', (factory) => {
  const open: Engine[] = [];
  afterEach(async () => {
    for (const e of open.splice(0)) await e.close();
  });
  afterAll(() => factory.dispose());

  /** An engine whose clock the test moves: runs end at the time it says. */
  async function engineAt(name: string, tuning = {}) {
    let now = NOW;
    const engine = await Engine.open({ store: await factory.open(name), clock: () => new Date(now), retentionTuning: { pauseMs: 0, ...tuning } });
    open.push(engine);
    const runAt = async (at: number, workflowId: string, faults: Run['faults'] = {}) => {
      now = at;
      const run = await engine.runs.start({ workflow_id: workflowId, params: {}, faults, wait: false }, 'op');
      const ended = await engine.runs.wait(run.run_id);
      now = NOW;
      return ended;
    };
    return { engine, runAt, setNow: (t: number) => (now = t) };
  }

  const prunedEvents = async (engine: Engine): Promise<RewindEvent[]> => (await engine.events.list(0, 10_000)).filter((e) => e.type === 'runs_pruned');

  it('removes the checkpoints of runs that ended before the window, keeps their rows, events and every newer run', async () => {
    const { engine, runAt, setNow } = await engineAt('windows');
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const gate = await engine.workflows.create({ name: 'gated', description: '', dsl: gated, source_type: 'MANUAL' }, 'op');
    const old = await runAt(NOW - 120 * DAY, wf.id);
    const oldFailed = await runAt(NOW - 100 * DAY, wf.id, { fail_node: 'load' });
    const edge = await runAt(NOW - 89 * DAY, wf.id);
    const recent = await runAt(NOW - 2 * DAY, wf.id);
    // Unfinished runs are never pruned, however old: this one waits at its approval.
    setNow(NOW - 200 * DAY);
    const waiting = await engine.runs.start({ workflow_id: gate.id, params: {}, faults: {}, wait: false }, 'op');
    await until(async () => (await engine.runs.get(waiting.run_id)).status === 'waiting');
    setNow(NOW);
    const before = { old: await engine.runs.checkpoints(old.run_id), edge: await engine.runs.checkpoints(edge.run_id), recent: await engine.runs.checkpoints(recent.run_id) };
    expect(before.old).toHaveLength(4);
    // The failed run stopped at load: extract, judge, load; report never ran.
    expect(await engine.runs.checkpoints(oldFailed.run_id)).toHaveLength(3);
    const eventsBefore = await engine.events.list(0, 10_000);

    const report = (await engine.prune(NINETY, new Date(NOW)))!;
    expect(report).toMatchObject({ before: new Date(NOW - 90 * DAY).toISOString(), runs: 2, checkpoints: 4 + 3 });

    for (const r of [old, oldFailed]) {
      const after = await engine.runs.get(r.run_id);
      // The run's record stays as it was, with when and after how long its checkpoints went.
      expect(after).toEqual({ ...r, pruned_at: new Date(NOW).toISOString(), pruned_after: '90 days' });
      expect(await engine.runs.checkpoints(r.run_id)).toEqual([]);
      const missing = await expectCode(engine.runs.checkpoint(r.run_id, 1), 'CHECKPOINT_NOT_FOUND');
      expect(missing.message).toContain('removed after 90 days');
    }
    expect(await engine.runs.checkpoints(edge.run_id)).toEqual(before.edge);
    expect(await engine.runs.checkpoints(recent.run_id)).toEqual(before.recent);
    expect((await engine.runs.get(waiting.run_id)).pruned_at).toBeNull();
    expect((await engine.runs.checkpoints(waiting.run_id)).length).toBe(1);

    // Events are never deleted; the pass appended one, and the chain verifies.
    const eventsAfter = await engine.events.list(0, 10_000);
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(eventsAfter.slice(eventsBefore.length).map((e) => e.type)).toEqual(['runs_pruned']);
    expect(eventsAfter[eventsAfter.length - 1]!.payload).toMatchObject({ before: report.before, runs: 2, checkpoints: 7, retain_runs: '90 days' });
    expect(report.event_seq).toBe(eventsAfter[eventsAfter.length - 1]!.seq);
    expect((await engine.verifyChain()).ok).toBe(true);

    // A pruned run cannot be resumed or replayed; it says why and what to do.
    const resume = await expectCode(engine.runs.resume({ run_id: oldFailed.run_id, faults: {}, wait: false }, 'op'), 'RUN_PRUNED');
    expect(resume.message).toContain('removed after 90 days');
    expect(resume.hint).toContain('Start a new run');
    await expectCode(engine.runs.startReplay({ run_id: old.run_id, version: 1 }, 'op'), 'RUN_PRUNED');
    expect(await engine.runs.compatibility(oldFailed.run_id, 1)).toMatchObject({ compatible: false, completed_nodes: [] });

    // A second pass has nothing to do and records nothing.
    expect(await engine.prune(NINETY, new Date(NOW))).toMatchObject({ runs: 0, checkpoints: 0, event_seq: null });
    expect(await prunedEvents(engine)).toHaveLength(1);
  });

  it('keeps a failed run’s last checkpoint with --keep-failed-checkpoints, as the state it had', async () => {
    const { engine, runAt } = await engineAt('keep-failed', { batchRuns: 2 });
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const failed = await runAt(NOW - 100 * DAY, wf.id, { fail_node: 'load' });
    const ok = await runAt(NOW - 100 * DAY, wf.id);
    const cps = await engine.runs.checkpoints(failed.run_id);
    const last = cps[cps.length - 1]!;
    expect(last).toMatchObject({ node_id: 'load', status: 'failed' });

    const report = (await engine.prune({ ...NINETY, keepFailedCheckpoints: true }, new Date(NOW)))!;
    expect(report).toMatchObject({ runs: 2, checkpoints: cps.length - 1 + 4 });
    expect(await engine.runs.checkpoints(failed.run_id)).toEqual([last]);
    expect(await engine.runs.checkpoint(failed.run_id, last.seq)).toEqual(last);
    expect(await engine.runs.checkpoints(ok.run_id)).toEqual([]);
    expect((await engine.runs.get(failed.run_id)).pruned_at).toBe(new Date(NOW).toISOString());
    await expectCode(engine.runs.resume({ run_id: failed.run_id, faults: {}, wait: false }, 'op'), 'RUN_PRUNED');
  });

  it('prunes in batches of its own transactions, and records the pass once', async () => {
    const { engine, runAt } = await engineAt('batches', { batchRuns: 3 });
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const runs: Run[] = [];
    for (let i = 0; i < 10; i += 1) runs.push(await runAt(NOW - (100 + i) * DAY, wf.id));
    const report = (await engine.prune(NINETY, new Date(NOW)))!;
    expect(report.runs).toBe(10);
    expect(report.checkpoints).toBe(40);
    // Four batches of runs (3, 3, 3, 1), then one per other table.
    expect(report.batches).toBe(4 + 3);
    expect(report.longest_transaction_ms).toBeGreaterThan(0);
    for (const r of runs) expect(await engine.runs.checkpoints(r.run_id)).toEqual([]);
    expect((await prunedEvents(engine)).map((e) => e.payload.runs)).toEqual([10]);
  });

  it('deletes idempotency keys after 24 hours, and schedule ticks and webhook deliveries older than the window, never a pending one', async () => {
    const { engine, runAt } = await engineAt('bookkeeping');
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const tickRun = await runAt(NOW - 120 * DAY, wf.id);
    const backend = new EngineBackend(engine, 'op');
    // A real idempotent call records its key; a second key is made old.
    await backend.call('workflows:pause', { workflow_id: wf.id }, { actor: 'op', idempotencyKey: 'fresh-key' });
    await backend.call('workflows:unpause', { workflow_id: wf.id }, { actor: 'op', idempotencyKey: 'old-key' });
    const w = engine.store.read;
    const iso = (t: number) => new Date(t).toISOString();
    await w.run('UPDATE idempotency_keys SET created_at = ? WHERE key = ?', [iso(NOW - 25 * 3_600_000), 'old-key']);
    await w.run('UPDATE idempotency_keys SET created_at = ? WHERE key = ?', [iso(NOW - 23 * 3_600_000), 'fresh-key']);
    const tick = (date: number, claimed: number, pending: number, runId: string | null) =>
      w.run('INSERT INTO schedule_ticks (workflow_id, logical_date, trigger, run_id, claimed_at, pending) VALUES (?, ?, ?, ?, ?, ?)', [wf.id, iso(date), 'schedule', runId, iso(claimed), pending]);
    await tick(NOW - 120 * DAY, NOW - 120 * DAY, 0, tickRun.run_id);
    await tick(NOW - 119 * DAY, NOW - 119 * DAY, 1, null);
    await tick(NOW - 10 * DAY, NOW - 10 * DAY, 0, null);
    await w.run("INSERT INTO webhooks (id, url, secret_sealed, key_id, created_by, created_at) VALUES ('wh1', 'http://127.0.0.1:9/hook', 'x', 'k', 'op', ?)", [iso(NOW - 200 * DAY)]);
    const delivery = (seq: number, state: string, created: number) =>
      w.run("INSERT INTO webhook_deliveries (webhook_id, seq, event_type, state, next_attempt_at, created_at) VALUES ('wh1', ?, 'run_failed', ?, ?, ?)", [seq, state, iso(created), iso(created)]);
    await delivery(1, 'delivered', NOW - 100 * DAY);
    await delivery(2, 'dead', NOW - 95 * DAY);
    await delivery(3, 'pending', NOW - 95 * DAY);
    await delivery(4, 'delivered', NOW - 80 * DAY);

    const report = (await engine.prune(NINETY, new Date(NOW)))!;
    expect(report).toMatchObject({ runs: 1, idempotency_keys: 1, schedule_ticks: 1, webhook_deliveries: 2 });
    expect(await w.all('SELECT key FROM idempotency_keys ORDER BY key')).toEqual([{ key: 'fresh-key' }]);
    expect(await w.all('SELECT logical_date, pending FROM schedule_ticks ORDER BY logical_date')).toEqual([
      { logical_date: iso(NOW - 119 * DAY), pending: 1 },
      { logical_date: iso(NOW - 10 * DAY), pending: 0 },
    ]);
    // (The pass's own runs_pruned goes out to the webhook too, later seqs.)
    expect(await w.all('SELECT seq, state FROM webhook_deliveries WHERE seq <= 4 ORDER BY seq')).toEqual([
      { seq: 3, state: 'pending' },
      { seq: 4, state: 'delivered' },
    ]);
    expect((await prunedEvents(engine))[0]!.payload).toMatchObject({ runs: 1, checkpoints: 4, idempotency_keys: 1, schedule_ticks: 1, webhook_deliveries: 2 });
  });

  it('prunes only while it holds the lease, and records a pass another process left unfinished', async () => {
    const { engine, runAt } = await engineAt('lease');
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const r = await runAt(NOW - 100 * DAY, wf.id);
    const w = engine.store.read;
    const future = new Date(Date.now() + 60_000).toISOString();
    // Another process holds the lease, mid-pass: nothing is pruned here.
    await w.run("UPDATE retention_lease SET holder = 'ghost', replica = 'replica-x', lease_until = ?, pass_before = ?, pass_runs = 3, pass_checkpoints = 30 WHERE id = 1", [future, '2026-08-01T00:00:00.000Z']);
    expect(await engine.prune(NINETY, new Date(NOW))).toBeNull();
    expect((await engine.runs.checkpoints(r.run_id)).length).toBe(4);
    // It died: its lease expires; the next pass records what its batches had removed, then prunes.
    await w.run("UPDATE retention_lease SET lease_until = '2000-01-01T00:00:00.000Z' WHERE id = 1");
    const report = (await engine.prune(NINETY, new Date(NOW)))!;
    expect(report.recovered).toMatchObject({ before: '2026-08-01T00:00:00.000Z', runs: 3, checkpoints: 30 });
    expect(report).toMatchObject({ runs: 1, checkpoints: 4 });
    expect((await prunedEvents(engine)).map((e) => [e.payload.runs, e.payload.interrupted ?? false])).toEqual([
      [3, true],
      [1, false],
    ]);
    expect(await w.get('SELECT holder, pass_before FROM retention_lease WHERE id = 1')).toEqual({ holder: null, pass_before: null });
  });

  it('two engines on one database: one prunes at a time, every run pruned once, one event', async (ctx) => {
    if (skipWithoutConcurrentInstances(factory, ctx.task.name)) return;
    const { engine: a, runAt } = await engineAt('two-engines', { batchRuns: 2, pauseMs: 5 });
    const b = await Engine.open({ store: await openStoreAt(factory.location('two-engines'), 'replica-b'), clock: () => new Date(NOW), retentionTuning: { batchRuns: 2, pauseMs: 5 } });
    open.push(b);
    const wf = await a.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    for (let i = 0; i < 12; i += 1) await runAt(NOW - (100 + i) * DAY, wf.id);
    const [ra, rb] = await Promise.all([a.prune(NINETY, new Date(NOW)), b.prune(NINETY, new Date(NOW))]);
    const reports = [ra, rb].filter((r) => r !== null);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ runs: 12, checkpoints: 48 });
    expect(await prunedEvents(a)).toHaveLength(1);
    expect(await a.store.read.get('SELECT COUNT(*) AS n FROM checkpoints')).toEqual({ n: 0 });
    expect((await a.verifyChain()).ok).toBe(true);
  });

  it('a resume that read the run before the pass copies its checkpoints; one after is refused', async () => {
    const { engine, runAt } = await engineAt('resume-race');
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const failed = await runAt(NOW - 100 * DAY, wf.id, { fail_node: 'load' });
    const good: Checkpoint[] = (await engine.runs.checkpoints(failed.run_id)).filter((c) => c.status === 'succeeded');
    const [child, report] = await Promise.all([engine.runs.resume({ run_id: failed.run_id, faults: {}, wait: false }, 'op').catch((e: unknown) => e), engine.prune(NINETY, new Date(NOW))]);
    expect(report).toMatchObject({ runs: 1 });
    if (child instanceof RewindError) {
      expect(child.code).toBe('RUN_PRUNED');
    } else {
      const restored = (await engine.runs.checkpoints((child as Run).run_id)).filter((c) => c.status === 'restored');
      expect(restored.map((c) => c.state)).toEqual(good.map((c) => c.state));
    }
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('space given back on SQLite', () => {
  it('a pass on a file made by this version frees the pruned checkpoints’ pages: the file shrinks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-reclaim-'));
    const path = join(dir, 'rewind.db');
    let now = NOW - 100 * DAY;
    const engine = await Engine.open({ path, clock: () => new Date(now), retentionTuning: { pauseMs: 0 } });
    try {
      const bulky: Dsl = {
        defaults: {},
        nodes: [
          { id: 'fetch', type: 'task', params: { duration_ms: 1, output: { page: 'x'.repeat(8000) } }, next: ['load'] },
          { id: 'load', type: 'task', params: { duration_ms: 1, output: { rows: 'y'.repeat(8000) } }, next: [] },
        ],
      };
      const wf = await engine.workflows.create({ name: 'bulky', description: '', dsl: bulky, source_type: 'MANUAL' }, 'op');
      for (let i = 0; i < 60; i += 1) await engine.runs.wait((await engine.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op')).run_id);
      now = NOW;
      const size = () => {
        (engine.store as SqliteStore).db.pragma('wal_checkpoint(TRUNCATE)');
        return statSync(path).size;
      };
      const before = size();
      const report = await engine.prune(NINETY, new Date(NOW));
      expect(report).toMatchObject({ runs: 60, checkpoints: 120, reclaimed: { mode: 'incremental' } });
      expect(report!.reclaimed.pages).toBeGreaterThan(0);
      // 60 runs × 2 checkpoints of ~8 KB: at least half of that leaves the file.
      expect(before - size()).toBeGreaterThan(60 * 8000);
      expect((await engine.verifyChain()).ok).toBe(true);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
