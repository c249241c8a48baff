import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localService } from '../../unit/engine/real-nodes/local-service.js';

/** `rewind --live`: the sandbox runs http nodes for real for that invocation, secrets from REWIND_SECRET_*. */

const repoRoot = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'rewind-live-cli-'));
const db = join(dir, 'sandbox.db');
const SECRET = 'cli-secret-5b1e-0099';

function rewind(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const target = env.REWIND_SERVER ? [] : ['--db', db, '--no-demo'];
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...target, '--json', ...args], {
    cwd: repoRoot,
    env: { ...process.env, REWIND_SERVER: '', REWIND_SECRET_API_TOKEN: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((done) => proc.once('exit', (code) => done({ code, stdout, stderr })));
}

describe('rewind --live on a sandbox', () => {
  let svc: Awaited<ReturnType<typeof localService>>;
  beforeAll(async () => {
    svc = await localService({ '/inspect': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"defect_rate":0.02}') });
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls the service only with --live, and refuses --live with --server', async () => {
    const dslFile = join(dir, 'wf.json');
    writeFileSync(
      dslFile,
      JSON.stringify({
        nodes: [{ id: 'inspect', type: 'http', params: { method: 'GET', url: `${svc.url}/inspect`, headers: { Authorization: 'Bearer {{secret.API_TOKEN}}' }, sandbox: { output: { stand_in: true } } }, next: [] }],
      }),
    );
    expect((await rewind(['register', '--name', 'inspect', '--dsl', dslFile])).code).toBe(0);

    const offline = await rewind(['run', 'inspect', '--wait']);
    expect(offline.code).toBe(0);
    expect(svc.seen).toHaveLength(0);

    const live = await rewind(['--live', 'run', 'inspect', '--wait']);
    expect(live.code).toBe(0);
    expect((JSON.parse(live.stdout) as { status: string }).status).toBe('succeeded');
    expect(svc.seen).toHaveLength(1);
    expect(svc.seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(readFileSync(db).includes(SECRET)).toBe(false);

    const remote = await rewind(['--live', 'workflows'], { REWIND_SERVER: 'http://127.0.0.1:9', REWIND_TOKEN: 'rwt_x' });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--live is for the local sandbox');
  });
});
