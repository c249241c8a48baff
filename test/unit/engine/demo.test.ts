import { describe, expect, it } from 'vitest';
import type { EngineBackend } from '../../../main/backends/engine-backend.js';
import { scenarioFor } from '../../../main/runbooks/scenarios.js';
import type { Workflow } from '../../../preload/contract/index.js';
import { eventsOf, expectOneActive, openTempSandbox, tempDbPath, versionStatuses } from './fixtures.js';

async function byName(sb: EngineBackend): Promise<Record<string, Workflow>> {
  const { workflows } = await sb.call('workflows:list', {});
  return Object.fromEntries(workflows.map((w) => [w.name, w]));
}

describe('demo sandbox', () => {
  it('seeds at least three workflows with at least three versions and a rollback each', async () => {
    const sb = await openTempSandbox({ demo: true });
    const { workflows } = await sb.call('workflows:list', {});
    expect(workflows.length).toBeGreaterThanOrEqual(3);
    const names = workflows.map((w) => w.name);
    expect(names).toEqual(expect.arrayContaining(['defect-rate-judgment', 'ml-training-pipeline', 'nightly-orders-etl']));
    const rollbacks = (await eventsOf(sb.engine)).filter((e) => e.type === 'workflow_rollback');
    for (const wf of workflows) {
      const { total } = await sb.call('versions:list', { workflow_id: wf.id });
      expect(total, wf.name).toBeGreaterThanOrEqual(3);
      expect(rollbacks.filter((e) => e.workflow_id === wf.id).length, wf.name).toBeGreaterThanOrEqual(1);
      await expectOneActive(sb.engine, wf.id);
      expect(wf.active_version, wf.name).not.toBeNull();
    }
  });

  it('moves the defect-rate threshold from 5 % to 3 % across versions', async () => {
    const sb = await openTempSandbox({ demo: true });
    const wf = (await byName(sb))['defect-rate-judgment']!;
    const d = await sb.call('versions:diff', { workflow_id: wf.id, from: 1, to: 2 });
    const judge = d.diff.changed.find((c) => c.node_id === 'judge_defect_rate');
    expect(judge?.changes).toEqual(expect.arrayContaining([{ path: 'params.rules.1.value', before: 0.05, after: 0.03 }]));
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'deprecated', 2: 'active', 3: 'deprecated', 4: 'deprecated' });
  });

  it("tells seed 000's canary: v4 took 10 % of the runs, its warning rate jumped, and it rolled itself back to v2", async () => {
    const sb = await openTempSandbox({ demo: true });
    const wf = (await byName(sb))['defect-rate-judgment']!;
    expect(wf).toMatchObject({ active_version: 2, canary: null });
    const events = (await eventsOf(sb.engine)).filter((e) => e.workflow_id === wf.id);
    const started = events.find((e) => e.type === 'canary_started')!;
    const aborted = events.find((e) => e.type === 'canary_aborted')!;
    expect(started.payload).toMatchObject({ version: 4, stable_version: 2, percent: 10 });
    expect(aborted).toMatchObject({ actor: 'policy:canary', payload: { version: 4, runs: 5, threshold: 'verdict', observed: 1 } });
    const rollback = events.find((e) => e.type === 'workflow_rollback' && e.seq > started.seq)!;
    expect(rollback).toMatchObject({ actor: 'policy:canary', payload: { from_version: 4, to_version: 2 } });
    // The draws: a share of the runs took v4, the rest v2, each saying why; none drew v4 after the rollback.
    const { runs } = await sb.call('runs:list', { workflow_id: wf.id });
    const during = runs.filter((r) => r.created_at >= started.ts);
    expect(during.filter((r) => r.version === 4).every((r) => r.drawn_reason?.startsWith('canary v4 (10 % share'))).toBe(true);
    expect(during.filter((r) => r.version === 2).length).toBeGreaterThan(during.filter((r) => r.version === 4).length);
    expect(during.filter((r) => r.created_at > rollback.ts && r.version === 4)).toEqual([]);
    const health = await sb.call('workflows:health', { workflow_id: wf.id });
    expect(health.versions.find((v) => v.version === 4)).toMatchObject({ runs: 5, failed: 0, verdicts: { verdict: { warning: 5 } } });
  });

  it('the runbook rehearsal stages the canary again: a new canary that breaches and rolls itself back', async () => {
    const sb = await openTempSandbox({ demo: true });
    const wf = (await byName(sb))['defect-rate-judgment']!;
    const said = await scenarioFor('defect-canary-breach', sb).setup(sb);
    expect(said).toBe('canary v5 at 10 % rolled back by itself to v2');
    expect(await sb.call('workflows:get', { workflow_id: wf.id })).toMatchObject({ active_version: 2, canary: null });
    const last = (await eventsOf(sb.engine)).filter((e) => e.type === 'canary_aborted').at(-1);
    expect(last).toMatchObject({ actor: 'policy:canary', payload: { version: 5, threshold: 'verdict' } });
  });

  it('holds an open incident: the ML run failed at deploy after 4 good checkpoints, resumable under v3 after a rollback', async () => {
    const sb = await openTempSandbox({ demo: true });
    const ml = (await byName(sb))['ml-training-pipeline']!;
    expect(ml.active_version).toBe(4);
    expect(ml.failed_runs).toBe(1);
    const failed = (await sb.call('runs:list', { workflow_id: ml.id, status: 'failed' })).runs;
    const incident = failed.find((r) => r.failed_node === 'deploy' && r.version === 4);
    expect(incident).toBeDefined();
    expect(incident!.error).toContain('ECONNREFUSED');
    const cps = (await sb.call('checkpoints:list', { run_id: incident!.run_id })).checkpoints;
    expect(cps.map((c) => [c.seq, c.node_id, c.status])).toEqual([
      [1, 'load_data', 'succeeded'],
      [2, 'validate_schema', 'succeeded'],
      [3, 'train', 'succeeded'],
      [4, 'evaluate', 'succeeded'],
      [5, 'deploy', 'failed'],
    ]);

    const preview = await sb.call('versions:rollbackPreview', { workflow_id: ml.id, version: 3 });
    expect(preview.refusal).toBeNull();
    const listed = preview.resumable.find((r) => r.run.run_id === incident!.run_id);
    expect(listed?.compatibility).toMatchObject({ compatible: true, resume_after_seq: 4, missing_nodes: [] });

    const rolled = await sb.call('versions:rollback', { workflow_id: ml.id, version: 3, expected_revision: ml.revision });
    expect(rolled).toMatchObject({ success: true, version: 3, from_version: 4 });
    const child = await sb.call('runs:resume', { run_id: incident!.run_id, version: 3, wait: true });
    expect(child).toMatchObject({ status: 'succeeded', version: 3, parent_run_id: incident!.run_id, resumed_from_seq: 4 });
    const childCps = (await sb.call('checkpoints:list', { run_id: child.run_id })).checkpoints;
    expect(childCps.map((c) => [c.node_id, c.status])).toEqual([
      ['load_data', 'restored'],
      ['validate_schema', 'restored'],
      ['train', 'restored'],
      ['evaluate', 'restored'],
      ['deploy', 'succeeded'],
    ]);
    expect((await sb.call('workflows:get', { workflow_id: ml.id })).failed_runs).toBe(0);
  });

  it('has runs in its history: replays, a resumed interruption, and no run left in flight', async () => {
    const sb = await openTempSandbox({ demo: true });
    const { runs } = await sb.call('runs:list', {});
    expect(runs.some((r) => r.kind === 'replay')).toBe(true);
    const resumed = runs.find((r) => r.kind === 'resume');
    expect(resumed).toBeDefined();
    expect(runs.find((r) => r.run_id === resumed!.parent_run_id)?.status).toBe('interrupted');
    expect(runs.filter((r) => r.status === 'running' || r.status === 'queued')).toEqual([]);
  });

  it('writes a chain that verifies, with gapless seq, and seeds only an empty file', async () => {
    const path = tempDbPath();
    const sb = await openTempSandbox({ path, demo: true });
    const status = await sb.call('events:verify', {});
    const events = await eventsOf(sb.engine);
    expect(status).toMatchObject({ ok: true, length: events.length, first_broken_seq: null });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await sb.close();
    const again = await openTempSandbox({ path, demo: true });
    expect(await again.engine.latestSeq()).toBe(events.length);
    expect((await again.call('workflows:list', {})).total).toBe(3);
  });
});
