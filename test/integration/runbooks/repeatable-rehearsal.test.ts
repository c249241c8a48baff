import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import type { ApiResult, RehearsalSession, SandboxContents, StoredRehearsal, Workflow } from '../../../preload/contract/index.js';
import { eventually } from '../server/harness.js';

/* Rehearsals that can be repeated: a scratch copy by default, a sandbox that resets to the demo, conditions recorded. */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const LEVEL_1 = 'Level 1 — application rollback (ml-training-pipeline)';

async function demoConsole() {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-repeatable-'));
  const sandboxPath = join(dir, 'sandbox.db');
  const opened = await openConsole({ sandbox: { path: sandboxPath, demo: true, timeScale: 0, actor: 'tester' }, connectionsDir: dir, createRemote: createRemoteBackend });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => opened.close());
  const progress: RehearsalSession[] = [];
  opened.connections.onPush((event, payload) => {
    if (event !== 'rehearsals:progress') return;
    const session = payload as RehearsalSession;
    progress.push(session);
    if (session.state === 'awaiting_confirmation') void opened.service.handle('rehearsals:confirm', { session_id: session.session_id, index: session.current_index, confirmed: true });
  });
  const call = async <T,>(method: string, input: unknown = {}): Promise<T> => {
    const result = (await opened.service.handle(method, input)) as ApiResult<T>;
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    return result.value;
  };
  const rehearse = async (input: Record<string, unknown>): Promise<RehearsalSession> => {
    const started = await call<RehearsalSession>('rehearsals:start', { runbook: LEVEL_1, scenario: 'ml-registry-outage', ...input });
    await eventually(() => progress.some((p) => p.session_id === started.session_id && p.state === 'finished'), 30_000, 'the rehearsal to end');
    return progress.filter((p) => p.session_id === started.session_id).at(-1)!;
  };
  const activeVersion = async () => (await call<Workflow[]>('workflows:list').then((r) => (r as unknown as { workflows: Workflow[] }).workflows)).find((w) => w.name === 'ml-training-pipeline')!.active_version;
  return { ...opened, dir, sandboxPath, call, rehearse, activeVersion };
}

describe('repeatable rehearsals', () => {
  it('rehearses on a scratch copy by default: the sandbox is untouched, so the same rehearsal repeats from the same state', async () => {
    const c = await demoConsole();
    const before = await c.call<SandboxContents>('sandbox:contents');
    const scratchDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('rewind-rehearsal-')).length;
    const scratchBefore = scratchDirs();
    expect(await c.activeVersion()).toBe(4);
    const first = await c.rehearse({ time_scale: 0, pace: 'automatic' });
    const second = await c.rehearse({ time_scale: 0, pace: 'automatic' });
    for (const end of [first, second]) expect(end).toMatchObject({ passed: true });
    // The scenario and the rollback happened on the copies: the operator's sandbox still has v4 active and no new runs.
    expect(await c.activeVersion()).toBe(4);
    const after = await c.call<SandboxContents>('sandbox:contents');
    expect({ ...after, rehearsals: before.rehearsals, events: before.events }).toEqual(before);
    expect(after.rehearsals).toBe(before.rehearsals + 2);
    const stored = await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: second.rehearsal_id });
    expect(stored).toMatchObject({ time_scale: 0, auto_executed: true, scratch_copy: true, rollbacks: [{ workflow: 'ml-training-pipeline', from_version: 4, to_version: 3 }] });
    const { markdown } = await c.call<{ markdown: string }>('rehearsals:report', { rehearsal_id: second.rehearsal_id });
    expect(markdown).toContain('- Conditions: automatic (CI): the steps ran by themselves, so the time measures the machine, not an operator; waits fast-forwarded (time scale 0); actions executed automatically; on a scratch copy of the sandbox');
    // Each scratch copy was deleted once its rehearsal ended.
    await eventually(() => scratchDirs() === scratchBefore, 10_000, 'the scratch copies to be deleted');
  });

  it('scratch: false changes the sandbox itself, and says so in the record', async () => {
    const c = await demoConsole();
    const end = await c.rehearse({ time_scale: 0.5, scratch: false, skip_steps: [] });
    expect(await c.activeVersion()).toBe(3);
    const stored = await c.call<StoredRehearsal>('rehearsals:get', { rehearsal_id: end.rehearsal_id });
    // Paced by default: every step waited for the (here instant) operator.
    expect(stored).toMatchObject({ time_scale: 0.5, auto_executed: false, pace: 'paced', scratch_copy: false });
  }, 60_000);

  it('resets the sandbox to the demo: the preview counts what is lost, the old file is kept beside it', async () => {
    const c = await demoConsole();
    await c.call('workflows:create', { name: 'operator-made', dsl: { nodes: [{ id: 'a', type: 'task', params: {}, next: [] }] } });
    const preview = await c.call<SandboxContents>('sandbox:contents');
    expect(preview).toMatchObject({ path: c.sandboxPath, kept_as: `${c.sandboxPath}.before-reset` });
    expect(preview.workflows).toBeGreaterThan(1);
    const reset = await c.call<SandboxContents>('sandbox:reset');
    expect(reset).toEqual(preview);
    const { workflows } = await c.call<{ workflows: Workflow[] }>('workflows:list');
    expect(workflows.map((w) => w.name)).not.toContain('operator-made');
    expect(workflows.length).toBe(preview.workflows - 1);
    expect(await c.activeVersion()).toBe(4);
    const fresh = await c.call<SandboxContents>('sandbox:contents');
    expect(fresh.workflows).toBe(preview.workflows - 1);
    // The kept copy opens, with what was there.
    const kept = await openSandbox({ path: reset.kept_as });
    try {
      expect((await kept.engine.workflows.list()).map((w) => w.name)).toContain('operator-made');
    } finally {
      await kept.close();
    }
    // The console still works on the fresh sandbox, and its chain verifies.
    expect(await c.call('events:verify')).toMatchObject({ ok: true });
  });
});
