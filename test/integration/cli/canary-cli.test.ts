import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `rewind publish --canary`, `rewind canary promote|abort`, `rewind health` as a script runs them, on a sandbox file. */

const repoRoot = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'rewind-canary-cli-'));
const db = join(dir, 'sandbox.db');

function rewind(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', '--db', db, '--no-demo', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((done) => proc.once('exit', (code) => done({ code, stdout, stderr })));
}

describe('rewind canary verbs', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes a canary, shows it, refuses bad input with a hint, aborts it, and prints health', async () => {
    const dslFile = join(dir, 'wf.json');
    writeFileSync(
      dslFile,
      JSON.stringify({ nodes: [{ id: 'work', type: 'task', params: { duration_ms: 0 }, next: ['judge'] }, { id: 'judge', type: 'judgment', params: { rules: [], default: 'pass' } }] }),
    );
    expect((await rewind(['register', '--name', 'orders', '--dsl', dslFile])).code).toBe(0);
    expect((await rewind(['draft', 'orders', '--dsl', dslFile, '--change-log', 'candidate'])).code).toBe(0);

    const bad = await rewind(['publish', 'orders', '2', '--canary', '120', '--min-runs', '5', '--max-failure-rate', '0.1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error VALIDATION_FAILED: .*percent is between 1 and 99\n {2}hint: /);
    const stray = await rewind(['publish', 'orders', '2', '--min-runs', '5']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--min-runs belongs to a canary publish');

    const published = await rewind(['publish', 'orders', '2', '--canary', '10', '--min-runs', '5', '--max-failure-rate', '0.1', '--verdict', 'verdict=warning:0.2']);
    expect(published.code).toBe(0);
    expect(published.stdout).toContain('Started a canary of v2 for 10 % of new runs');
    const shown = await rewind(['get', 'orders']);
    expect(shown.stdout).toMatch(/canary v2 \(running\): 10 % of new runs; 0 runs, failure rate 0\.0 % \(limit 10\.0 %\), promote manual/);
    const again = await rewind(['publish', 'orders', '2', '--canary', '10', '--min-runs', '5', '--max-failure-rate', '0.1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error CANARY_RUNNING');

    expect((await rewind(['run', 'orders', '--version', '2'])).stdout).toContain('version: explicit version');
    const aborted = await rewind(['canary', 'abort', 'orders', '--reason', 'pager noise']);
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toContain('Aborted the canary v2 of "orders" and rolled back to v1: aborted by');
    const none = await rewind(['--json', 'canary', 'promote', 'orders']);
    expect(none.code).toBe(1);
    expect((JSON.parse(none.stderr) as { error: { code: string } }).error.code).toBe('NO_CANARY');

    const health = await rewind(['health', 'orders']);
    expect(health.code).toBe(0);
    expect(health.stdout).toMatch(/^VERSION\s+RUNS\s+FAILED\s+FAILURE RATE\s+P50 MS\s+P95 MS\s+VERDICTS\nv2\s+1\s+0\s+0\.0 %\s+\d+\s+\d+\s+verdict=pass:1\n$/);
  });
});
