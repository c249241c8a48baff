import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, dsls, eventually, repoRoot, spawnServer, startServer, tempDir, uniqueName } from './harness.js';
import { selfSignedCert } from './tls.js';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `rewind` bin as a script runs it. */
function rewind(args: string[], env: Record<string, string> = {}, opts: { untilStdout?: RegExp } = {}): Promise<Outcome> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (opts.untilStdout?.test(stdout)) proc.kill('SIGINT');
  });
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('rewind CLI', () => {
  let s: TestServer;
  let wfName: string;
  beforeAll(async () => {
    s = await startServer();
    wfName = uniqueName('cli');
    const wf = await s.backend.call('workflows:create', { name: wfName, dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
  });
  afterAll(async () => {
    await s.close();
  });

  it('drives a server: rollback by name, JSON for machines, exit codes scripts can rely on', async () => {
    const env = { REWIND_TOKEN: s.tokens.operator };
    const list = await rewind(['--server', s.url, '--json', 'versions', wfName], env);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { total: number }).total).toBe(2);
    const rolled = await rewind(['--server', s.url, 'rollback', wfName, '1'], env);
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toMatch(/Rolled back .* to v1/);
    const again = await rewind(['--server', s.url, 'rollback', wfName, '1'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error ROLLBACK_ALREADY_ACTIVE: .*\n {2}hint: /);
    const stale = await rewind(['--server', s.url, '--json', '--revision', '1', 'rollback', wfName, '2'], env);
    expect(stale.code).toBe(1);
    expect((JSON.parse(stale.stderr) as { error: { code: string } }).error.code).toBe('STALE_REVISION');
    const forbidden = await rewind(['--server', s.url, 'publish', wfName, '2'], env);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toMatch(/FORBIDDEN/);
    expect((await rewind(['--server', s.url, 'workflows'], { REWIND_TOKEN: 'rwt_wrong-token-0000000000' })).code).toBe(3);
    expect((await rewind(['--server', s.url, 'rollback', wfName, 'latest'], env)).code).toBe(2);
    expect((await rewind(['--server', s.url, 'frobnicate'], env)).code).toBe(2);
    expect((await rewind(['--server', s.url, '--bogus'], env)).code).toBe(2);
  });

  it('follows events live until interrupted', async () => {
    const wf = await s.backend.call('workflows:get', { workflow_id: (await s.backend.call('workflows:list', { query: wfName })).workflows[0]!.id });
    const head = await s.backend.engine.latestSeq();
    const following = rewind(['--server', s.url, '--json', 'events', '--follow', '--after', String(head)], { REWIND_TOKEN: s.tokens.viewer }, { untilStdout: /workflow_paused/ });
    await new Promise((r) => setTimeout(r, 1500));
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${wf.id}/pause`);
    const out = await following;
    expect(out.code).toBe(0);
    const line = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string })[0]!;
    expect(line).toMatchObject({ seq: head + 1, type: 'workflow_paused' });
  });

  it('works on a local sandbox file without a server', async () => {
    const dir = tempDir('rewind-cli-');
    try {
      const dsl = join(dir, 'dsl.json');
      writeFileSync(dsl, JSON.stringify(dsls.v1));
      const db = join(dir, 'local.db');
      expect((await rewind(['--db', db, 'register', '--name', 'local-wf', '--dsl', dsl])).code).toBe(0);
      const run = await rewind(['--db', db, '--json', 'run', 'local-wf', '--param', 'defect_rate=0.09']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'succeeded', params: { defect_rate: 0.09 } });
      expect((await rewind(['--db', db, 'verify'])).stdout).toMatch(/Chain ok/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server over TLS, and a graceful SIGTERM', () => {
  it('serves HTTPS and WSS to a client that trusts its CA; SIGTERM drains and exits 0', async () => {
    const dir = tempDir('rewind-tls-');
    const { certPath, keyPath } = selfSignedCert(dir);
    const token = 'tls-admin-token-0123456789abcdef';
    const child = await spawnServer(['--db', join(dir, 'tls.db'), '--port', '0', '--tls-cert', certPath, '--tls-key', keyPath], { REWIND_ADMIN_TOKEN: token });
    try {
      expect(child.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
      const env = { REWIND_TOKEN: token, NODE_EXTRA_CA_CERTS: certPath };
      expect((await rewind(['--server', child.url, 'register', '--name', 'over-tls'], env)).code).toBe(0);
      const follow = rewind(['--server', child.url, '--json', 'events', '--follow', '--after', '0'], env, { untilStdout: /workflow_created/ });
      expect((await follow).code).toBe(0);
      const untrusted = await rewind(['--server', child.url, 'workflows'], { REWIND_TOKEN: token });
      expect(untrusted.code).toBe(3);
      expect(untrusted.stderr).toMatch(/TLS_FAILED/);
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      await eventually(() => /SIGTERM: finishing requests/.test(child.output()), 1000, 'the drain message');
    } finally {
      child.proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
