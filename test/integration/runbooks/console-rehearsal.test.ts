import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import type { ApiResult, ConnectionInfo, RehearsalSession, RewindErrorData, StoredRehearsal, StoredRunbook, Workflow } from '../../../preload/contract/index.js';
import { type TestServer, eventually, startServer } from '../server/harness.js';

/*
 * Rehearsals driven through the console service, as the renderer drives them: start, answer the
 * confirmations the `rehearsals:progress` pushes ask for, and read the kept record and its report.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const LEVEL_1 = 'Level 1 — application rollback (ml-training-pipeline)';

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message} ${result.error.hint}`);
  return result.value;
}
function failure(result: ApiResult<unknown>): RewindErrorData {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/**
 * A console on a fresh demo sandbox. Every push is kept; `answer` decides each confirmation a push
 * asks for (by default: yes), and the answer goes back through `rehearsals:confirm`.
 */
async function demoConsole() {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-console-rehearsal-'));
  const opened = await openConsole({
    sandbox: { path: join(dir, 'sandbox.db'), demo: true, timeScale: 0, actor: 'tester' },
    connectionsDir: dir,
    createRemote: createRemoteBackend,
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => opened.connections.close());
  const { service } = opened;
  const progress: RehearsalSession[] = [];
  const answers: Array<ApiResult<unknown>> = [];
  const driver = { answer: async (_session: RehearsalSession): Promise<boolean | null> => true };
  opened.connections.onPush((event, payload) => {
    if (event !== 'rehearsals:progress') return;
    const session = payload as RehearsalSession;
    progress.push(session);
    if (session.state !== 'awaiting_confirmation') return;
    void driver.answer(session).then(async (confirmed) => {
      if (confirmed === null) return;
      answers.push(await service.handle('rehearsals:confirm', { session_id: session.session_id, index: session.current_index, confirmed }));
    });
  });
  const call = async <T,>(method: string, input: unknown = {}): Promise<T> => value(await service.handle(method, input)) as T;
  const ended = async (sessionId: string): Promise<RehearsalSession> => {
    await eventually(() => progress.some((p) => p.session_id === sessionId && (p.state === 'finished' || p.state === 'aborted')), 30_000, 'the end of the rehearsal');
    return progress.filter((p) => p.session_id === sessionId).at(-1)!;
  };
  return { ...opened, sandboxPath: join(dir, 'sandbox.db'), progress, answers, driver, call, ended };
}

describe('console rehearsals on the demo sandbox', () => {
  it('rehearses a sample runbook under its scenario: confirmations through rehearsals:confirm, progress pushed in order, the record kept', async () => {
    const c = await demoConsole();
    const { runbooks } = await c.call<{ runbooks: StoredRunbook[] }>('runbooks:list');
    expect(runbooks.map((r) => r.name)).toContain(LEVEL_1);
    const { scenarios } = await c.call<{ scenarios: Array<{ name: string }> }>('scenarios:list');
    expect(scenarios.map((s) => s.name)).toEqual(['ml-registry-outage', 'defect-threshold-misconfig', 'etl-partition-schema-change', 'defect-canary-breach', 'full-outage']);

    // Automatic (as CI runs it): only the checklists wait for an answer.
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0, pace: 'automatic' });
    expect(started).toMatchObject({ connection_id: 'sandbox', runbook_name: LEVEL_1, scenario: 'ml-registry-outage', mode: 'rehearsal', pace: 'automatic', state: 'setting_up', steps: [], rehearsal_id: null, passed: null });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: true, current_index: null, detail: expect.stringMatching(/^Recovered in /) });
    expect(end.steps.map((s) => s.outcome)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed', 'passed']);
    expect(c.answers.every((a) => a.ok)).toBe(true);

    // In order: set up, the scenario's incident, then for each step started → (confirmation) → finished.
    const mine = c.progress.filter((p) => p.session_id === started.session_id);
    expect(mine[0]).toMatchObject({ state: 'setting_up' });
    expect(mine[1]).toMatchObject({ state: 'running', current_index: null, detail: expect.stringContaining('Scenario ml-registry-outage: ml-training-pipeline:') });
    const moves = mine.slice(2, -1).map((p) => `${p.state}:${p.current_index ?? '-'}:${p.steps.length}`);
    expect(moves).toEqual([
      'running:1:0', 'awaiting_confirmation:1:0', 'running:1:0', 'running:-:1',
      'running:2:1', 'running:-:2',
      'running:3:2', 'running:-:3',
      'running:4:3', 'running:-:4',
      'running:5:4', 'running:-:5',
      'running:6:5', 'awaiting_confirmation:6:5', 'running:6:5', 'running:-:6',
    ]);
    expect(mine.find((p) => p.current_index === 2)?.next_title).toBe('Resume the failed run from its last checkpoint');
    for (const [i, p] of mine.entries()) expect(p.steps.length).toBeGreaterThanOrEqual(mine[i - 1]?.steps.length ?? 0);

    const stored = await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: end.rehearsal_id });
    expect(stored).toMatchObject({ runbook_name: LEVEL_1, scenario: 'ml-registry-outage', passed: true, created_by: 'tester', steps: end.steps, pace: 'automatic', auto_executed: true });
    expect(stored.rollbacks).toEqual([{ workflow: 'ml-training-pipeline', from_version: 4, to_version: 3 }]);
    const history = await c.call<{ rehearsals: StoredRehearsal[] }>('rehearsals:list', { runbook: LEVEL_1 });
    expect(history.rehearsals.map((r) => r.id)).toEqual([end.rehearsal_id]);
    const { markdown } = await c.call<{ markdown: string }>('rehearsals:report', { rehearsal_id: end.rehearsal_id });
    expect(markdown).toContain(`# Post-incident report: ${LEVEL_1}`);
    expect(markdown).toContain('**Result: recovered**');
    expect(markdown).toContain('Recovered version: ml-training-pipeline v3');
    expect(markdown).toMatch(/Conditions: .*automatic \(CI\): the steps ran by themselves, so the time measures the machine, not an operator/);

    const { sessions } = await c.call<{ sessions: RehearsalSession[] }>('rehearsals:sessions');
    expect(sessions).toEqual([end]);
    const { events } = await c.call<{ events: Array<{ type: string; payload: Record<string, unknown> }> }>('events:list', { limit: 10000 });
    expect(events.at(-1)).toMatchObject({ type: 'rehearsal_recorded', payload: { rehearsal_id: end.rehearsal_id, passed: true } });
  });

  it('fails at the health check when the rollback step is skipped, and keeps that record too', async () => {
    const c = await demoConsole();
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', skip_steps: [2], time_scale: 0 });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: false });
    expect(end.steps[1]).toMatchObject({ outcome: 'skipped', detail: 'skipped by the operator' });
    expect(end.detail).toMatch(/^Step \d \(.*\) failed after /);
    const stored = await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: end.rehearsal_id });
    expect(stored.passed).toBe(false);
  });

  it('a checklist not confirmed fails the rehearsal; abort while awaiting keeps what ran, marked failed', async () => {
    const c = await demoConsole();
    c.driver.answer = async () => false;
    const refused = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, time_scale: 0 });
    const refusedEnd = await c.ended(refused.session_id);
    expect(refusedEnd.steps[0]).toMatchObject({ outcome: 'failed', detail: 'not confirmed by the operator' });

    // Answer the first checklist, then leave the last one waiting and abort there.
    c.driver.answer = async (s) => (s.current_index === 1 ? true : null);
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0, pace: 'automatic' });
    await eventually(() => c.progress.some((p) => p.session_id === started.session_id && p.state === 'awaiting_confirmation' && p.current_index === 6), 30_000, 'the last checklist');
    const wrong = failure(await c.service.handle('rehearsals:confirm', { session_id: started.session_id, index: 5, confirmed: true }));
    expect(wrong).toMatchObject({ code: 'VALIDATION_FAILED', message: 'Step 6 awaits confirmation, not step 5.' });
    const aborted = await c.call<RehearsalSession>('rehearsals:abort', { session_id: started.session_id });
    expect(aborted).toMatchObject({ state: 'aborted', passed: false, detail: expect.stringMatching(/^Aborted by the operator after /) });
    expect(aborted.steps.map((s) => s.outcome)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed', 'failed']);
    expect(aborted.steps[5]!.detail).toBe('aborted by the operator while awaiting confirmation');
    expect((await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: aborted.rehearsal_id })).passed).toBe(false);

    expect(failure(await c.service.handle('rehearsals:abort', { session_id: started.session_id })).code).toBe('REHEARSAL_NOT_ACTIVE');
    expect(failure(await c.service.handle('rehearsals:confirm', { session_id: started.session_id, index: 6, confirmed: true })).code).toBe('REHEARSAL_NOT_ACTIVE');
    expect(failure(await c.service.handle('rehearsals:confirm', { session_id: 'nope', index: 1, confirmed: true })).code).toBe('NOT_FOUND');
  });

  it('closing the console mid-rehearsal keeps its record, marked failed', async () => {
    const c = await demoConsole();
    c.driver.answer = async () => null;
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, time_scale: 0 });
    await eventually(() => c.progress.some((p) => p.session_id === started.session_id && p.state === 'awaiting_confirmation'), 30_000, 'the first checklist');
    await c.close();
    const last = c.progress.filter((p) => p.session_id === started.session_id).at(-1)!;
    expect(last).toMatchObject({ state: 'aborted', passed: false });
    const sandbox = await openSandbox({ path: c.sandboxPath });
    try {
      const kept = await sandbox.call('rehearsals:get', { rehearsal_id: last.rehearsal_id! });
      expect(kept).toMatchObject({ runbook_name: LEVEL_1, passed: false });
    } finally {
      await sandbox.close();
    }
  });

  it('paced (the default): every step but a wait waits for the operator’s go, and the clock counts the wait', async () => {
    const c = await demoConsole();
    const OPERATOR_MS = 60;
    c.driver.answer = async () => {
      await new Promise((r) => setTimeout(r, OPERATOR_MS));
      return true;
    };
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0 });
    expect(started).toMatchObject({ pace: 'paced' });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: true });
    const asked = c.progress.filter((p) => p.session_id === started.session_id && p.state === 'awaiting_confirmation').map((p) => p.current_index);
    // Checklists, both actions and both health checks: each waited for the operator.
    expect(asked).toEqual([1, 2, 3, 4, 5, 6]);
    for (const step of end.steps) expect(step.duration_ms).toBeGreaterThanOrEqual(OPERATOR_MS - 5);
    expect(end.steps[1]!.detail).toMatch(/ml-training-pipeline: v4 → v3/);
    const stored = await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: end.rehearsal_id });
    expect(stored).toMatchObject({ pace: 'paced', auto_executed: false });
    expect(stored.total_ms).toBeGreaterThanOrEqual(6 * (OPERATOR_MS - 5));
    const { markdown } = await c.call<{ markdown: string }>('rehearsals:report', { rehearsal_id: end.rehearsal_id });
    expect(markdown).toMatch(/Conditions: .*paced: each step waited for the operator, so the time measures the operator/);
  });

  it('a scenario on an already-fixed sandbox offers to reset it first; a scratch rehearsal then starts from a fresh demo copy', async () => {
    const c = await demoConsole();
    // The sandbox itself was fixed: the ML pipeline rolled back from the failing v4 to v3.
    const { workflows } = await c.call<{ workflows: Workflow[] }>('workflows:list', { query: 'ml-training-pipeline' });
    const ml = workflows[0]!;
    await c.call('versions:rollback', { workflow_id: ml.id, version: 3 });

    const refused = failure(await c.service.handle('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0 }));
    expect(refused).toMatchObject({
      code: 'SCENARIO_NEEDS_RESET',
      message: expect.stringContaining('ml-training-pipeline runs v3, not its newest v4: it was rolled back already'),
      hint: expect.stringContaining('fresh demo copy'),
      details: { scenario: 'ml-registry-outage', resettable: true, scratch: true },
    });
    expect(c.progress).toEqual([]);

    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0, pace: 'automatic', reset_first: true });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: true });
    const stored = await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: end.rehearsal_id });
    expect(stored.rollbacks).toEqual([{ workflow: 'ml-training-pipeline', from_version: 4, to_version: 3 }]);
    // The operator's sandbox stays as it was: still on v3, its record kept there.
    expect((await c.call<Workflow>('workflows:get', { workflow_id: ml.id })).active_version).toBe(3);
    expect((await c.call<{ rehearsals: StoredRehearsal[] }>('rehearsals:list', { runbook: LEVEL_1 })).rehearsals.map((r) => r.id)).toEqual([end.rehearsal_id]);
  });

  it('on the sandbox itself (no scratch copy), "reset first" resets it to the demo, keeps the old file, then stages the scenario', async () => {
    const c = await demoConsole();
    const { workflows } = await c.call<{ workflows: Workflow[] }>('workflows:list', { query: 'ml-training-pipeline' });
    await c.call('versions:rollback', { workflow_id: workflows[0]!.id, version: 3 });
    expect(failure(await c.service.handle('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0, scratch: false }))).toMatchObject({
      code: 'SCENARIO_NEEDS_RESET',
      details: { resettable: true, scratch: false },
      hint: expect.stringContaining('before-reset'),
    });
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', time_scale: 0, pace: 'automatic', scratch: false, reset_first: true });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: true });
    expect(existsSync(`${c.sandboxPath}.before-reset`)).toBe(true);
    // The reset sandbox was rolled back by the rehearsal itself, and holds its record.
    const after = await c.call<{ workflows: Workflow[] }>('workflows:list', { query: 'ml-training-pipeline' });
    expect(after.workflows[0]!.active_version).toBe(3);
    expect((await c.call<{ rehearsals: StoredRehearsal[] }>('rehearsals:list', { runbook: LEVEL_1 })).rehearsals.map((r) => r.id)).toEqual([end.rehearsal_id]);
    // And no tamper alarm from the reset.
    expect((await c.call<{ connections: ConnectionInfo[] }>('connections:list')).connections.find((x) => x.id === 'sandbox')?.alarm).toBeNull();
  });

  it('refuses what cannot start: an unknown runbook or scenario, a step to skip that is not there', async () => {
    const c = await demoConsole();
    expect(failure(await c.service.handle('rehearsals:start', { runbook: 'nope' })).code).toBe('RUNBOOK_NOT_FOUND');
    expect(failure(await c.service.handle('rehearsals:start', { runbook: LEVEL_1, scenario: 'nope' })).code).toBe('NOT_FOUND');
    expect(failure(await c.service.handle('rehearsals:start', { runbook: LEVEL_1, skip_steps: [7] }))).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('no step 7') });
  });
});

describe('console rehearsals live on a workflow server (127.0.0.1)', () => {
  async function liveConsole(server: TestServer, role: 'operator' | 'viewer') {
    const c = await demoConsole();
    const added = await c.call<ConnectionInfo>('connections:add', { name: `server as ${role}`, url: server.url, token: server.tokens[role] });
    await c.call('connections:select', { id: added.id });
    await eventually(async () => (await c.call<{ connections: ConnectionInfo[] }>('connections:list')).connections.some((x) => x.id === added.id && x.state === 'connected'), 10_000, 'the connection');
    return { ...c, connectionId: added.id };
  }
  const mlOn = async (server: TestServer): Promise<Workflow> => (await server.backend.call('workflows:list', { query: 'ml-training-pipeline' })).workflows[0]!;

  it('refuses a scenario, asks before every action, enforces the server’s roles and keeps the record there', async () => {
    const server = await startServer({ demo: true });
    cleanups.push(() => server.close());
    const c = await liveConsole(server, 'operator');

    const scenario = failure(await c.service.handle('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage' }));
    expect(scenario).toMatchObject({ code: 'VALIDATION_FAILED', hint: expect.stringContaining('sandbox') });
    expect(failure(await c.service.handle('rehearsals:start', { runbook: LEVEL_1, time_scale: 0 })).code).toBe('VALIDATION_FAILED');

    // The action waits for its confirmation: nothing has changed on the server while it is asked.
    const activeWhenAsked: Array<number | null> = [];
    c.driver.answer = async (s) => {
      if (s.current_index === 2) activeWhenAsked.push((await mlOn(server)).active_version);
      return true;
    };
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, pace: 'automatic' });
    expect(started).toMatchObject({ mode: 'live', connection_id: c.connectionId, scenario: null });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: true });
    const asked = c.progress.filter((p) => p.session_id === started.session_id && p.state === 'awaiting_confirmation').map((p) => p.current_index);
    expect(asked).toEqual([1, 2, 3, 6]);
    expect(activeWhenAsked).toEqual([4]);
    expect((await mlOn(server)).active_version).toBe(3);

    const kept = await server.backend.call('rehearsals:get', { rehearsal_id: end.rehearsal_id! });
    expect(kept).toMatchObject({ created_by: 'operator', passed: true, scenario: null });
    const { events } = await server.backend.call('events:list', { limit: 10000 });
    expect(events.filter((e) => e.type === 'workflow_rollback').at(-1)?.actor).toBe('operator');
  });

  it('a viewer’s execution fails at its first action with FORBIDDEN, and the server keeps no record of it', async () => {
    const server = await startServer({ demo: true });
    cleanups.push(() => server.close());
    const c = await liveConsole(server, 'viewer');
    const started = await c.call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1 });
    const end = await c.ended(started.session_id);
    expect(end).toMatchObject({ state: 'finished', passed: false, rehearsal_id: null });
    expect(end.steps[1]).toMatchObject({ kind: 'action', outcome: 'failed', detail: expect.stringMatching(/^FORBIDDEN: versions:rollback needs the operator role/) });
    expect(end.steps.slice(2).every((s) => s.outcome === 'skipped')).toBe(true);
    expect(end.detail).toMatch(/The record could not be kept: FORBIDDEN: /);
    expect((await mlOn(server)).active_version).toBe(4);
    expect((await server.backend.call('rehearsals:list', { runbook: LEVEL_1 })).rehearsals).toEqual([]);
  });
});
