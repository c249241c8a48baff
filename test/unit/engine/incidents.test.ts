import { describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { seedDemo } from '../../../main/engine/demo/seed.js';
import { Engine } from '../../../main/engine/engine.js';
import { incidentSummary, judgeVersions } from '../../../main/engine/incidents.js';
import { openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { freshDatabase } from '../../support/postgres.js';
import { onCleanup, openTempSandbox, pipelineDsl } from './fixtures.js';

/*
 * The summary is portable SQL over the store's reader: the same cases run on a SQLite sandbox file
 * and on a PostgreSQL database.
 */

async function openPostgresBackend(options: { demo?: boolean } = {}): Promise<EngineBackend> {
  const store = await openPostgresStore({ url: await freshDatabase('incidents') });
  const engine = await Engine.open({ store, timeScale: 0 });
  onCleanup(() => engine.close());
  if (options.demo) await seedDemo(engine, 'tester');
  return new EngineBackend(engine, 'tester');
}

const backends: ReadonlyArray<{ kind: string; open: (options?: { demo?: boolean }) => Promise<EngineBackend> }> = [
  { kind: 'sqlite', open: (options = {}) => openTempSandbox(options) },
  { kind: 'postgres', open: openPostgresBackend },
];

const summary = (sb: EngineBackend, now = new Date()) => incidentSummary(sb.engine.store.read, now);

/** v1 and v2 good (a succeeded run each), v3 fails at deploy `failures` times. */
async function badDeploy(sb: EngineBackend, name: string, failures: number) {
  const wf = await sb.call('workflows:create', { name, dsl: pipelineDsl() });
  await sb.call('runs:start', { workflow_id: wf.id, wait: true });
  await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ withValidate: true }) });
  await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
  await sb.call('runs:start', { workflow_id: wf.id, wait: true });
  await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: pipelineDsl({ deployFails: true }) });
  await sb.call('versions:publish', { workflow_id: wf.id, version: 3 });
  const failed = [];
  for (let i = 0; i < failures; i++) failed.push(await sb.call('runs:start', { workflow_id: wf.id, wait: true }));
  return { wf, failed };
}

describe.each(backends)('incident summary on $kind', ({ open }) => {
  it('names nothing on a healthy sandbox', async () => {
    const sb = await open();
    const wf = await sb.call('workflows:create', { name: 'fine', dsl: pipelineDsl() });
    await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    const s = await summary(sb);
    expect(s.failing).toEqual([]);
    expect(s.recent_rollbacks).toEqual([]);
    expect(s.window_hours).toBe(24);
  });

  it('a failing workflow: failure rate by version, bad since its first failing version, last good before it, its newest failed run', async () => {
    const sb = await open();
    const { wf, failed } = await badDeploy(sb, 'ml-training', 3);
    const s = await summary(sb);
    expect(s.failing).toHaveLength(1);
    const f = s.failing[0]!;
    expect(f).toMatchObject({ workflow_id: wf.id, workflow_name: 'ml-training', active_version: 3, open_failures: 3, bad_since: 3, last_good: 2, latest_failed_version: 3 });
    expect(f.by_version).toEqual([
      { version: 3, runs: 3, failed: 3, succeeded: 0 },
      { version: 2, runs: 1, failed: 0, succeeded: 1 },
      { version: 1, runs: 1, failed: 0, succeeded: 1 },
    ]);
    expect(f.latest_failed_run_id).toBe(failed[2]!.run_id);
    expect(f.first_failure_at <= f.last_failure_at).toBe(true);
  });

  it('an unregistered workflow is no open incident: it left every list, its failed runs stay for the record', async () => {
    const sb = await open();
    const { wf, failed } = await badDeploy(sb, 'retired', 2);
    expect((await summary(sb)).failing).toHaveLength(1);
    await sb.call('workflows:unregister', { workflow_id: wf.id });
    expect((await summary(sb)).failing).toEqual([]);
    expect((await sb.call('runs:get', { run_id: failed[0]!.run_id })).status).toBe('failed');
  });

  it('after the rollback the bad version stays marked; once its failures are resumed the workflow leaves the list', async () => {
    const sb = await open();
    const { wf, failed } = await badDeploy(sb, 'ml-training', 1);
    await sb.call('versions:rollback', { workflow_id: wf.id, version: 2 });
    let s = await summary(sb);
    expect(s.failing[0]).toMatchObject({ active_version: 2, bad_since: 3, last_good: 2 });
    expect(s.recent_rollbacks).toEqual([expect.objectContaining({ workflow_id: wf.id, workflow_name: 'ml-training', actor: 'tester', from_version: 3, to_version: 2 })]);

    await sb.call('runs:resume', { run_id: failed[0]!.run_id, version: 2, wait: true });
    s = await summary(sb);
    expect(s.failing).toEqual([]);
  });

  it('orders the still-broken before the already rolled back, then by the number of open failures', async () => {
    const sb = await open();
    const a = await badDeploy(sb, 'a-rolled-back', 3);
    await sb.call('versions:rollback', { workflow_id: a.wf.id, version: 2 });
    await badDeploy(sb, 'b-one-failure', 1);
    await badDeploy(sb, 'c-two-failures', 2);
    const s = await summary(sb);
    expect(s.failing.map((f) => f.workflow_name)).toEqual(['c-two-failures', 'b-one-failure', 'a-rolled-back']);
  });

  it('counts only failures inside the window, and rollbacks of the last 7 days', async () => {
    const sb = await open();
    const { wf } = await badDeploy(sb, 'old-incident', 1);
    await sb.call('versions:rollback', { workflow_id: wf.id, version: 2 });
    const later = new Date(Date.now() + 25 * 3_600_000);
    expect((await summary(sb, later)).failing).toEqual([]);
    expect((await summary(sb, later)).recent_rollbacks).toHaveLength(1);
    expect((await summary(sb, new Date(Date.now() + 8 * 24 * 3_600_000))).recent_rollbacks).toEqual([]);
  });

  it('the demo: the ML pipeline is bad since v4 and v3 is its last good version', async () => {
    const sb = await open({ demo: true });
    const s = await sb.call('incidents:summary', {});
    expect(s.failing.map((f) => [f.workflow_name, f.bad_since, f.last_good])).toEqual([['ml-training-pipeline', 4, 3]]);
    const seqs = s.recent_rollbacks.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    for (const r of s.recent_rollbacks) expect(Date.parse(r.ts)).toBeGreaterThan(Date.now() - 7 * 24 * 3_600_000);
  });
});

describe('judging versions', () => {
  const h = (version: number, runs: number, failed: number) => ({ version, runs, failed, succeeded: runs - failed });
  it('a streak of bad versions from the newest down; last good is the newest healthy rollback target below it', () => {
    expect(judgeVersions([h(5, 2, 2), h(4, 3, 1), h(3, 4, 0), h(2, 1, 0)], new Set([2, 3, 4]))).toEqual({ bad_since: 4, last_good: 3 });
  });
  it('a flaky newest version (20 % or less) is not bad; an archived healthy version is not offered', () => {
    expect(judgeVersions([h(3, 10, 2), h(2, 5, 0)], new Set([2, 3]))).toEqual({ bad_since: null, last_good: 3 });
    expect(judgeVersions([h(3, 1, 1), h(2, 5, 0), h(1, 5, 0)], new Set([1, 3]))).toEqual({ bad_since: 3, last_good: 1 });
  });
});
