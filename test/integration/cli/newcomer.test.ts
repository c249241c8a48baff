import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, killHard, repoRoot, spawnServer, tempDir } from '../server/harness.js';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A bin as a shell runs it: the compiled entry, no TypeScript loader. */
function run(bin: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const proc = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '', REWIND_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const rewind = (args: string[], env?: Record<string, string>) => run(join(repoRoot, 'bin/rewind.mjs'), args, env);
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('the rewind CLI for a newcomer', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir('rewind-cli-');
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('answers --version from the compiled CLI', async () => {
    const out = await rewind(['--version']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(`rewind ${version}`);
  });

  it('creates a new sandbox file with the demo workflows, as the console does, and says so once', async () => {
    const db = join(dir(), 'new.db');
    const first = await rewind(['--db', db, '--json', 'workflows']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`created the sandbox ${db} with the demo workflows (--no-demo for an empty one)`);
    const names = (JSON.parse(first.stdout) as { workflows: Array<{ name: string }> }).workflows.map((w) => w.name);
    expect(names).toEqual(expect.arrayContaining(['defect-rate-judgment', 'ml-training-pipeline']));
    const again = await rewind(['--db', db, 'workflows']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('ml-training-pipeline');
  });

  it('--no-demo starts a new sandbox empty', async () => {
    const db = join(dir(), 'empty.db');
    const out = await rewind(['--db', db, '--no-demo', 'workflows']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`created the empty sandbox ${db}`);
    expect(out.stdout.trim()).toBe('No workflows.');
  });

  it('refuses a sandbox in a folder that does not exist, and makes no folder', async () => {
    const missing = join(dir(), 'typo', 'deeper');
    const out = await rewind(['--db', join(missing, 'x.db'), 'workflows']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`error VALIDATION_FAILED: The folder ${missing} does not exist`);
    expect(out.stderr).toContain(`hint: Check the --db path, or create the folder first (mkdir -p ${missing}).`);
    expect(existsSync(missing)).toBe(false);
  });

  it('names an unknown verb before any other check, with the verbs it knows', async () => {
    const out = await rewind(['frobnicate', '--server', 'http://127.0.0.1:9']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('error VALIDATION_FAILED: Unknown verb "frobnicate".');
    expect(out.stderr).toContain('The verbs: workflows, get, register');
    expect(out.stderr).not.toContain('REWIND_TOKEN');
    const beside = await rewind(['--json', '--bogus', 'frobnicate']);
    expect(beside.code).toBe(2);
    expect((JSON.parse(beside.stderr) as { error: { message: string } }).error.message).toBe('Unknown verb "frobnicate".');
  });

  it('says how to build when the compiled CLI is missing', async () => {
    const fresh = dir();
    mkdirSync(join(fresh, 'bin'));
    for (const f of ['rewind.mjs', 'compiled-entry.mjs']) copyFileSync(join(repoRoot, 'bin', f), join(fresh, 'bin', f));
    const out = await run(join(fresh, 'bin/rewind.mjs'), ['workflows']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('Rewind is not built yet');
    expect(out.stderr).toContain('run `npm run build:node` (or `npm run build`)');
  });

  it('`npm run cli` runs the same compiled CLI after its freshness check', async () => {
    const out = await run(join(repoRoot, 'scripts/run-node.mjs'), ['cli', '--version']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe(`rewind ${version}`);
  });
});

describe('rewind-server settings from the environment', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('takes its database, host, port and demo from REWIND_* variables', async () => {
    const d = tempDir('rewind-server-env-');
    dirs.push(d);
    const db = join(d, 'env.db');
    const child = await spawnServer([], { REWIND_DB: db, REWIND_HOST: '127.0.0.1', REWIND_PORT: '0', REWIND_DEMO: '1', REWIND_ADMIN_TOKEN: 'env-admin-token-0123456789' });
    try {
      expect(child.output()).toContain(`(sqlite ${db},`);
      const health = await api(child.url, undefined, 'GET', '/health');
      expect(health.status).toBe(200);
      const list = await api(child.url, 'env-admin-token-0123456789', 'GET', '/api/v1/workflows');
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.json)).toContain('ml-training-pipeline');
    } finally {
      await killHard(child);
    }
  });

  it('names the variable or flag a bad setting came from (a flag wins over its variable)', async () => {
    const out = await run(join(repoRoot, 'bin/rewind-server.mjs'), [], { REWIND_PORT: 'eighty' });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('error: REWIND_PORT must be a number ≥ 0; got "eighty".');
    const flagWins = await run(join(repoRoot, 'bin/rewind-server.mjs'), ['--port', 'ninety'], { REWIND_PORT: 'eighty' });
    expect(flagWins.code).toBe(2);
    expect(flagWins.stderr).toContain('error: --port must be a number ≥ 0; got "ninety".');
  });
});
