import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `rewind run WF --param k=v` against declared params, on a sandbox file: values read as declared, refusals with their hint. */

const repoRoot = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'rewind-run-params-'));
const db = join(dir, 'sandbox.db');

function rewind(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', '--db', db, '--no-demo', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((done) => proc.once('exit', (code) => done({ code, stdout, stderr })));
}

describe('rewind run with declared params', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads --param as declared, and names an unknown, mistyped, missing or reserved param with its hint (exit 1)', async () => {
    const dslFile = join(dir, 'orders.json');
    writeFileSync(
      dslFile,
      JSON.stringify({
        defaults: { region: 'eu' },
        params: { order_id: { type: 'string', required: true }, batch: { type: 'integer', default: 1 }, tags: { type: 'array' } },
        nodes: [{ id: 'ship', type: 'transform', params: { copy: { 'shipped.order': 'order_id', 'shipped.batch': 'batch' } } }],
      }),
    );
    expect((await rewind(['register', '--name', 'orders', '--dsl', dslFile])).code).toBe(0);

    const ok = await rewind(['--json', 'run', 'orders', '--param', 'order_id=007', '--param', 'batch=3', '--param', 'tags=["a","b"]']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'succeeded', params: { order_id: '007', batch: 3, tags: ['a', 'b'] } });

    const unknown = await rewind(['run', 'orders', '--param', 'order_id=1', '--param', 'colour=red']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error UNKNOWN_PARAM: The run param 'colour' is not declared by v1 of this workflow.");
    expect(unknown.stderr).toContain('hint: Known params: order_id, batch, tags, region.');

    const typed = await rewind(['run', 'orders', '--param', 'order_id=1', '--param', 'batch=many']);
    expect(typed.code).toBe(1);
    expect(typed.stderr).toMatch(/error INVALID_PARAM_TYPE: The run param 'batch' must be an integer .*\n {2}hint: Send 'batch' as an integer/);

    const missing = await rewind(['run', 'orders', '--param', 'batch=2']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error MISSING_PARAM: .*'order_id'.*\n {2}hint: Give the run a value for it: --param order_id=… on the CLI/);

    const reserved = await rewind(['run', 'orders', '--params', '{"order_id":"1","server":{"host":"127.0.0.1:9210"}}']);
    expect(reserved.code).toBe(1);
    expect(reserved.stderr).toMatch(/error RESERVED_PARAM: .*\n {2}hint: Remove 'server' from the params/);
    expect(JSON.parse((await rewind(['--json', 'runs', '--workflow', 'orders'])).stdout)).toMatchObject({ total: 1 });
  });
});
