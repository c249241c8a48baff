import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Changes } from '../../../preload/contract/changes.js';
import { type TestServer, api, dsls, repoRoot, startServer, uniqueName } from '../server/harness.js';

/* `rewind changes` (issue 22 item 2), the compiled CLI against a server: seqs, local times with their zone, JSON. */

function rewind(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('rewind changes', () => {
  let s: TestServer;
  let name: string;
  let id: string;
  let from: number;
  let to: number;
  beforeAll(async () => {
    s = await startServer();
    name = uniqueName('changes');
    id = (await s.backend.call('workflows:create', { name, dsl: dsls.v1 })).id;
    from = (await s.backend.call('events:head', {})).seq;
    await s.backend.call('versions:createDraft', { workflow_id: id, dsl: dsls.v2 });
    await s.backend.call('versions:publish', { workflow_id: id, version: 2 });
    await s.backend.call('runs:start', { workflow_id: id, faults: { fail_node: 'judge' }, wait: true });
    await s.backend.call('runs:start', { workflow_id: id, wait: true });
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, {});
    await s.backend.call('workflows:pause', { workflow_id: id });
    to = (await s.backend.call('events:head', {})).seq;
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists what changed between two seqs, as JSON for scripts', async () => {
    const out = await rewind(['--server', s.url, '--json', 'changes', '--from', String(from), '--to', String(to), '--workflow', name], { REWIND_TOKEN: s.tokens.viewer });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const changes = JSON.parse(out.stdout) as Changes;
    expect(changes).toMatchObject({ from_seq: from, to_seq: to });
    expect(changes.workflows).toHaveLength(1);
    const [c] = changes.workflows;
    expect(c).toMatchObject({ workflow_id: id, active_before: 1, active_after: 1, runs: { started: 2, failed: 1, succeeded: 1 } });
    expect(c!.published.map((p) => p.version)).toEqual([2]);
    expect(c!.rollbacks).toEqual([expect.objectContaining({ from_version: 2, to_version: 1, by_policy: false, actor: expect.stringMatching(/operator/) })]);
    expect(c!.pauses.map((p) => p.status)).toEqual(['paused']);
  });

  it('reads a local clock time in the machine zone and says which zone', async () => {
    const out = await rewind(['--server', s.url, 'changes', '--from', '00:00', '--to', String(to)], { REWIND_TOKEN: s.tokens.viewer, TZ: 'America/New_York' });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/times in America\/New_York, UTC-05:00/);
    expect(out.stdout).toContain(`${name} (${id})`);
    expect(out.stdout).toMatch(/rolled back v2 → v1 {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} #\d+ by /);
    expect(out.stdout).toMatch(/runs 2 started, 1 failed, 1 succeeded/);
  });

  it('refuses a moment that is not one, and a future one, with a hint', async () => {
    const bad = await rewind(['--server', s.url, 'changes', '--from', 'noon', '--to', String(to)], { REWIND_TOKEN: s.tokens.viewer });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/error VALIDATION_FAILED: --from must be .*\n {2}hint: /);
    const future = await rewind(['--server', s.url, 'changes', '--from', String(from), '--to', String(to + 1000)], { REWIND_TOKEN: s.tokens.viewer });
    expect(future.code).not.toBe(0);
    expect(future.stderr).toMatch(/error AS_OF_IN_FUTURE: .*\n {2}hint: /);
  });
});
