import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../server/harness.js';

/*
 * The sandbox's --code-dir, as a script runs it (the compiled `rewind` bin): a one-shot verb syncs
 * the folder first; `events --follow` follows it, as the server does; a folder that cannot be used
 * exits 2; a server connection refuses the flag.
 */

interface Child {
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout matches. */
  until: (pattern: RegExp) => Promise<void>;
  stop: () => void;
  exited: Promise<number | null>;
}

function rewind(args: string[]): Child {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const w of waiters.filter((x) => x.pattern.test(stdout))) w.resolve();
  });
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    until: (pattern) => (pattern.test(stdout) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    stop: () => proc.kill('SIGINT'),
    exited,
  };
}

const flow = (name: string, threshold: number) =>
  JSON.stringify({
    name,
    description: 'Judges the defect rate',
    schedule: null,
    dsl: { nodes: [{ id: 'judge', type: 'judgment', params: { rules: [{ field: 'rate', op: '>', value: threshold, outcome: 'warning' }], default: 'pass' }, next: [] }], defaults: { rate: 0.01 } },
  });

describe('rewind --code-dir on a local sandbox', () => {
  const dir = tempDir('rewind-cli-code-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('syncs the folder before a one-shot verb, follows it under `events --follow`, and records a broken file', async () => {
    const code = join(dir, 'flows');
    mkdirSync(code);
    writeFileSync(join(code, 'defects.json'), flow('defects', 0.05));
    const db = join(dir, 'sandbox.db');

    const listed = rewind(['--db', db, '--no-demo', '--code-dir', code, '--json', 'workflows']);
    expect(await listed.exited, listed.stderr()).toBe(0);
    expect((JSON.parse(listed.stdout()) as { workflows: Array<{ name: string; source_type: string; code_file: string }> }).workflows).toMatchObject([
      { name: 'defects', source_type: 'CODE', code_file: 'defects.json' },
    ]);

    const follow = rewind(['--db', db, '--code-dir', code, 'events', '--follow']);
    await follow.until(/workflow_created/);
    writeFileSync(join(code, 'defects.json'), flow('defects', 0.03));
    await follow.until(/version_published.*by code:defects\.json/);
    writeFileSync(join(code, 'defects.json'), '{"name": "defects", "dsl": {"nodes": 3}}');
    await follow.until(/code_file_refused.*by code:defects\.json/);
    follow.stop();
    expect(await follow.exited, follow.stderr()).toBe(0);
    expect(follow.stderr()).toMatch(/rewind: code folder: defects\.json:1 dsl\.nodes/);

    const versions = rewind(['--db', db, '--json', 'versions', 'defects']);
    expect(await versions.exited, versions.stderr()).toBe(0);
    expect((JSON.parse(versions.stdout()) as { versions: unknown[] }).versions).toHaveLength(2);
  });

  it('exits 2 on a folder that cannot be used, and refuses --code-dir with --server', async () => {
    const missing = rewind(['--db', join(dir, 'other.db'), '--no-demo', '--code-dir', join(dir, 'nowhere'), 'workflows']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/error INVALID_CODE_FILE: The code folder .*nowhere cannot be used/);
    const remote = rewind(['--server', 'http://127.0.0.1:1', '--code-dir', dir, 'workflows']);
    expect(await remote.exited).toBe(2);
    expect(remote.stderr()).toMatch(/--code-dir works on the local sandbox/);
  });
});
