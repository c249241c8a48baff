import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dsl } from '../../../preload/contract/index.js';
import { type TestServer, repoRoot, startServer } from './harness.js';

/* `rewind incidents` against a server, through the compiled bin: list, show, ack, report, plan, resolve, and a usage error. */

const dsl = (label: string): Dsl => ({
  defaults: { fail: false },
  nodes: [{ id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: [] }],
});

function rewind(args: string[], token: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('rewind incidents', () => {
  let s: TestServer;
  let incidentId = '';
  beforeAll(async () => {
    s = await startServer();
    const wf = await s.backend.call('workflows:create', { name: 'payments', dsl: dsl('v1') });
    await s.backend.call('runs:start', { workflow_id: wf.id, params: {}, wait: true });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2'), change_log: 'v2' });
    await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 }, { actor: 'alice' });
    await s.backend.call('runs:start', { workflow_id: wf.id, params: { fail: true }, wait: true });
    incidentId = (await s.backend.call('incidents:records', { status: 'open' })).records[0]!.incident_id;
  });
  afterAll(() => s.close());

  it('lists, acknowledges, prints the report and the plan, and closes an incident', async () => {
    const list = await rewind(['--server', s.url, 'incidents', 'list', '--status', 'open'], s.tokens.viewer);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${incidentId}\\s+payments\\s+v2\\s+open`));

    const ack = await rewind(['--server', s.url, 'incidents', 'ack', incidentId], s.tokens.operator);
    expect(ack.code).toBe(0);
    expect(ack.stdout).toMatch(/^Acknowledged by /);
    const shown = await rewind(['--server', s.url, '--json', 'incidents', 'show', incidentId], s.tokens.viewer);
    expect(JSON.parse(shown.stdout)).toMatchObject({ incident_id: incidentId, acknowledged: { by: expect.any(String) } });

    const plan = await rewind(['--server', s.url, 'incidents', 'plan', incidentId], s.tokens.viewer);
    expect(plan.stdout).toContain('# Rollback plan: payments');
    expect(plan.stdout).toContain('- Target version: v1 (the last good version)');
    const report = await rewind(['--server', s.url, 'incidents', 'report', incidentId], s.tokens.viewer);
    expect(report.stdout).toContain('# Post-incident report: payments v2');

    const resolved = await rewind(['--server', s.url, 'incidents', 'resolve', incidentId, '--note', 'fixed forward'], s.tokens.operator);
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toContain(': fixed forward');
    const again = await rewind(['--server', s.url, 'incidents', 'ack', incidentId], s.tokens.operator);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('INCIDENT_RESOLVED');
    const bad = await rewind(['--server', s.url, 'incidents', 'list', '--status', 'closed'], s.tokens.viewer);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status is open, resolved or all');
  });
});
