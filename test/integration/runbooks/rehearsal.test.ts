import { describe, expect, it } from 'vitest';
import { type RehearsalProgress, rehearse, reportMarkdown } from '../../../main/runbooks/rehearsal.js';
import { loadSampleRunbooks } from '../../../main/engine/runbooks/samples.js';
import { scenarioFor } from '../../../main/runbooks/scenarios.js';
import { RunbookStore } from '../../../main/engine/runbooks/store.js';
import type { Runbook } from '../../../main/engine/runbooks/format.js';
import { demoSandbox, samplesDir } from './fixtures.js';

const samples = loadSampleRunbooks(samplesDir);
const confirmAll = async () => true;

function firstRollbackStep(runbook: Runbook): number {
  const i = runbook.steps.findIndex((s) => s.kind === 'action' && s.action.type === 'rollback');
  expect(i).toBeGreaterThanOrEqual(0);
  return i + 1;
}

describe('sample runbooks rehearsed on the demo sandbox', () => {
  it('ships one runbook per rollback level of seed 003 plus the emergency procedure, each with a scenario', async () => {
    expect(samples.map((s) => s.file)).toEqual([
      'emergency-rollback.yaml',
      'level-1-application.yaml',
      'level-2-configuration.yaml',
      'level-3-database.yaml',
      'level-4-full-system.yaml',
    ]);
    expect(samples.map((s) => s.runbook.level).sort()).toEqual(['application', 'application', 'configuration', 'database', 'full-system']);
    for (const { runbook } of samples) expect(runbook.scenario, runbook.name).toBeDefined();
  });

  for (const { file, runbook } of samples) {
    it(`${file}: passes under its scenario`, async () => {
      const sandbox = await demoSandbox();
      const progress: RehearsalProgress[] = [];
      const record = await rehearse({
        backend: sandbox,
        runbook,
        scenario: scenarioFor(runbook.scenario!, sandbox),
        confirm: confirmAll,
        onProgress: (p) => progress.push(p),
        timeScale: 0,
      });
      expect(record.steps.filter((s) => s.outcome !== 'passed'), JSON.stringify(record.steps, null, 1)).toEqual([]);
      expect(record.passed).toBe(true);
      expect(record.steps).toHaveLength(runbook.steps.length);
      expect(record.rollbacks.length).toBeGreaterThanOrEqual(1);
      expect(record.total_ms).toBeGreaterThanOrEqual(0);
      expect(progress[0]?.type).toBe('scenario');
      expect(progress.at(-1)).toEqual({ type: 'finished', record });
      expect(progress.filter((p) => p.type === 'step-started')).toHaveLength(runbook.steps.length);

      // The rollbacks were applied for real, with the audit log naming the rehearsal's actor.
      for (const r of record.rollbacks) {
        const { workflows } = await sandbox.call('workflows:list', { query: r.workflow });
        expect(workflows.find((w) => w.name === r.workflow)?.active_version).toBe(r.to_version);
      }
      const { events } = await sandbox.call('events:list', { limit: 10000 });
      expect(events.filter((e) => e.type === 'workflow_rollback' && e.actor === 'test-operator').length).toBeGreaterThanOrEqual(record.rollbacks.length);
    });

    it(`${file}: fails at a health check when its rollback step is skipped`, async () => {
      const sandbox = await demoSandbox();
      const skipped = firstRollbackStep(runbook);
      const record = await rehearse({ backend: sandbox, runbook, scenario: scenarioFor(runbook.scenario!, sandbox), confirm: confirmAll, skipSteps: [skipped], timeScale: 0 });
      expect(record.passed).toBe(false);
      expect(record.steps[skipped - 1]).toMatchObject({ outcome: 'skipped', detail: 'skipped by the operator' });
      expect(reportMarkdown(record, runbook)).toContain('**Total time (not recovered): ');
      const failed = record.steps.filter((s) => s.outcome === 'failed');
      expect(failed).toHaveLength(1);
      expect(['health_check', 'wait']).toContain(failed[0]!.kind);
      // Everything after the failure is recorded as not reached.
      for (const s of record.steps.slice(failed[0]!.index)) expect(s).toMatchObject({ outcome: 'skipped', detail: `not reached: step ${failed[0]!.index} failed` });
    });
  }
});

describe('rehearsal behaviour', () => {
  const level1 = samples.find((s) => s.file === 'level-1-application.yaml')!.runbook;

  it('fails a checklist the operator does not confirm, and stops there', async () => {
    const sandbox = await demoSandbox();
    const record = await rehearse({ backend: sandbox, runbook: level1, confirm: async () => false, timeScale: 0 });
    expect(record.passed).toBe(false);
    expect(record.steps[0]).toMatchObject({ index: 1, outcome: 'failed', detail: 'not confirmed by the operator' });
    const ml = (await sandbox.call('workflows:list', { query: 'ml-training-pipeline' })).workflows[0]!;
    expect(ml.active_version).toBe(4);
  });

  it('times steps with the given clock and honours the time scale of waits', async () => {
    const sandbox = await demoSandbox();
    let now = 1_000_000;
    const slept: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => void slept.push(ms) };
    const runbook: Runbook = {
      name: 'waits',
      description: 'timing',
      steps: [
        { kind: 'wait', title: 'Drain', expected_ms: 1000, ms: 60_000 },
        { kind: 'checklist', title: 'Confirm', expected_ms: 1000, items: ['ok'] },
      ],
    };
    const record = await rehearse({
      backend: sandbox,
      runbook,
      clock,
      timeScale: 0.5,
      confirm: async () => {
        now += 2500;
        return true;
      },
    });
    expect(slept).toEqual([30_000]);
    expect(record.steps.map((s) => [s.outcome, s.duration_ms])).toEqual([
      ['passed', 0],
      ['passed', 2500],
    ]);
    expect(record).toMatchObject({ total_ms: 2500, started_at: new Date(1_000_000).toISOString(), finished_at: new Date(1_002_500).toISOString(), passed: true });
  });

  it('gives up a wait-until at its timeout, counted in runbook time', async () => {
    const sandbox = await demoSandbox();
    const slept: number[] = [];
    const runbook: Runbook = {
      name: 'until',
      description: 'timeout',
      steps: [{ kind: 'wait', title: 'Until ML succeeds', expected_ms: 1000, until: { type: 'run_succeeds', workflow: 'ml-training-pipeline' }, timeout_ms: 3000, poll_ms: 1000 }],
    };
    const record = await rehearse({ backend: sandbox, runbook, confirm: confirmAll, timeScale: 0, actor: 'rehearser', clock: { now: () => 0, sleep: async (ms) => void slept.push(ms) } });
    expect(record.passed).toBe(false);
    expect(record.steps[0]!.detail).toMatch(/^timed out after 3000 ms: run .* on v4 failed at deploy: .*ECONNREFUSED/);
    expect(slept).toEqual([0, 0, 0]);
    // Polled at 0, 1000, 2000 and 3000 ms: four runs, each started as the rehearsal's actor.
    const { runs } = await sandbox.call('runs:list', { status: 'failed' });
    expect(runs.filter((r) => r.created_by === 'rehearser')).toHaveLength(4);
  });

  it('records a refused action with its code and hint, e.g. a rollback to the active version', async () => {
    const sandbox = await demoSandbox();
    const runbook: Runbook = { name: 'refused', description: 'x', steps: [{ kind: 'action', title: 'Roll back to v4', expected_ms: 1, action: { type: 'rollback', workflow: 'ml-training-pipeline', to: 4 } }] };
    const record = await rehearse({ backend: sandbox, runbook, confirm: confirmAll, timeScale: 0 });
    expect(record.passed).toBe(false);
    expect(record.steps[0]!.detail).toMatch(/^ROLLBACK_ALREADY_ACTIVE: /);
  });

  it('names an unknown workflow', async () => {
    const sandbox = await demoSandbox();
    const runbook: Runbook = { name: 'unknown', description: 'x', steps: [{ kind: 'action', title: 'Pause', expected_ms: 1, action: { type: 'pause', workflow: 'no-such-workflow' } }] };
    const record = await rehearse({ backend: sandbox, runbook, confirm: confirmAll, timeScale: 0 });
    expect(record.steps[0]!.detail).toBe(
      'WORKFLOW_NOT_FOUND: No workflow is named "no-such-workflow" on this connection. Check the workflow name in the runbook, or rehearse it against the connection it was written for.',
    );
  });

  it('refuses scenarios against a remote backend and unknown scenario names', async () => {
    const sandbox = await demoSandbox();
    expect(() => scenarioFor('nope', sandbox)).toThrow(/no scenario named "nope"/);
    const remote = { ...sandbox, kind: 'remote' as const, call: sandbox.call.bind(sandbox), subscribe: sandbox.subscribe.bind(sandbox), close: sandbox.close.bind(sandbox) };
    expect(() => scenarioFor('ml-registry-outage', remote)).toThrow(/runs only against a sandbox/);
  });

  it('keeps rehearsals in the store and writes a report with the step table and total time', async () => {
    const sandbox = await demoSandbox();
    const store = new RunbookStore(() => sandbox.engine.q());
    await store.saveRunbook(level1, 'test-operator');
    const record = await rehearse({ backend: sandbox, runbook: level1, scenario: scenarioFor('ml-registry-outage', sandbox), confirm: confirmAll, timeScale: 0 });
    const saved = await store.saveRehearsal(level1.name, record, 'test-operator');
    expect(await store.listRehearsals(level1.name)).toEqual([saved]);
    expect(saved).toMatchObject({ runbook_name: level1.name, passed: true, steps: record.steps, rollbacks: [{ workflow: 'ml-training-pipeline', from_version: 4, to_version: 3 }] });

    const md = reportMarkdown(record, level1);
    expect(md).toContain('# Post-incident report: Level 1 — application rollback (ml-training-pipeline)');
    expect(md).toContain('| # | Step | Kind | Outcome | Expected | Actual | Detail |');
    expect(md).toContain('| 2 | Roll back to the previous version | action | passed | 30.0 s |');
    expect(md).toContain('- Affected version: ml-training-pipeline v4');
    expect(md).toContain('- Recovered version: ml-training-pipeline v3');
    expect(md).toMatch(/\*\*Total time to recover: \d+(\.\d)? (ms|s)\*\* \(planned 6 min 40 s\)\./);
    expect(md).toContain('seed 003 target at the application level: 5–10 min');
    expect(md.split('\n').filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(level1.steps.length);
  });

  it('asks before each action when told to (live): a refusal fails the step and changes nothing', async () => {
    const sandbox = await demoSandbox();
    const asked: number[] = [];
    const record = await rehearse({
      backend: sandbox,
      runbook: level1,
      confirm: confirmAll,
      confirmAction: async (step, index) => {
        asked.push(index);
        expect(step.action.type).toBe('rollback');
        return false;
      },
      timeScale: 0,
    });
    expect(asked).toEqual([2]);
    expect(record.steps[1]).toMatchObject({ outcome: 'failed', detail: 'not confirmed by the operator' });
    expect((await sandbox.call('workflows:list', { query: 'ml-training-pipeline' })).workflows[0]!.active_version).toBe(4);
  });

  it('aborts: a wait ends at once, what ran is kept, the rest is not reached, the rehearsal fails', async () => {
    const sandbox = await demoSandbox();
    const controller = new AbortController();
    const runbook: Runbook = {
      name: 'long wait',
      description: 'abort',
      steps: [
        { kind: 'note', title: 'Read', expected_ms: 1, text: 'hi' },
        { kind: 'wait', title: 'Drain for an hour', expected_ms: 3_600_000, ms: 3_600_000 },
        { kind: 'note', title: 'After', expected_ms: 1, text: 'bye' },
      ],
    };
    const record = await rehearse({
      backend: sandbox,
      runbook,
      confirm: confirmAll,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.type === 'step-started' && p.index === 2) setTimeout(() => controller.abort(), 20);
      },
    });
    expect(record.passed).toBe(false);
    expect(record.steps.map((s) => [s.outcome, s.detail])).toEqual([
      ['passed', 'read'],
      ['failed', 'aborted by the operator during a wait of 3600000 ms'],
      ['skipped', 'not reached: aborted by the operator'],
    ]);
  });

  it('aborts while a checklist awaits its confirmation', async () => {
    const sandbox = await demoSandbox();
    const controller = new AbortController();
    const record = await rehearse({
      backend: sandbox,
      runbook: level1,
      signal: controller.signal,
      confirm: () => {
        controller.abort();
        return new Promise<boolean>(() => undefined);
      },
      timeScale: 0,
    });
    expect(record.passed).toBe(false);
    expect(record.steps[0]).toMatchObject({ outcome: 'failed', detail: 'aborted by the operator while awaiting confirmation' });
    expect(record.steps.slice(1).every((s) => s.outcome === 'skipped' && s.detail === 'not reached: aborted by the operator')).toBe(true);
  });
});
