import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import type { Dsl, Run } from '../../../preload/contract/entities.js';
import { eventually, killHard, repoRoot, spawnServer, tempDir } from '../server/harness.js';

/*
 * Retention and archives as operators use them: the compiled `rewind` on a sandbox file (prune, its
 * dry run, --vacuum; archive out and open) and the compiled `rewind-server --retain-runs 90d`, whose
 * background pass prunes a run that ended four months ago while the CLI and the API say so.
 */

const DAY = 86_400_000;
const dsl: Dsl = {
  defaults: {},
  nodes: [
    { id: 'extract', type: 'task', params: { duration_ms: 1, output: { rows: 7 } }, next: ['load'] },
    { id: 'load', type: 'task', params: { duration_ms: 1, output: { loaded: true } }, next: [] },
  ],
};

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: 'rewind' | 'rewind-server', args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const proc = spawn(process.execPath, [join(repoRoot, `bin/${bin}.mjs`), ...args], {
    cwd: repoRoot,
    env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '', REWIND_TOKEN: '', REWIND_RETAIN_RUNS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A sandbox file with runs that ended `ages` days ago (failed when asked). */
async function sandboxWithRuns(path: string, ages: Array<[number, boolean]>): Promise<Run[]> {
  let now = Date.now();
  const engine = await Engine.open({ path, clock: () => new Date(now) });
  try {
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const runs: Run[] = [];
    for (const [days, failed] of ages) {
      now = Date.now() - days * DAY;
      const started = await engine.runs.start({ workflow_id: wf.id, params: {}, faults: failed ? { fail_node: 'load' } : {}, wait: false }, 'op');
      runs.push(await engine.runs.wait(started.run_id));
    }
    return runs;
  } finally {
    await engine.close();
  }
}

describe('rewind prune and rewind archive on a sandbox', () => {
  const dir = tempDir('rewind-cli-retention-');
  const db = join(dir, 'sandbox.db');
  const archive = join(dir, 'old-runs.ndjson.gz');
  let runs: Run[] = [];
  const rewind = (...args: string[]) => run('rewind', ['--db', db, '--no-demo', ...args]);
  beforeAll(async () => {
    runs = await sandboxWithRuns(db, [
      [120, true],
      [100, false],
      [10, false],
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('previews, archives, prunes, then says so for the pruned runs and refuses to resume them', async () => {
    const bad = await rewind('prune', '--retain-runs', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error VALIDATION_FAILED: A retention window reads like 90d, 12w or 36h; got "soon"');

    const dry = await rewind('prune', '--retain-runs', '90d', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim()).toMatch(/^Would prune 2 runs that ended before .* \(4 checkpoints\).* Nothing was changed\.$/);

    const before = new Date(Date.now() - 90 * DAY).toISOString();
    const out = await rewind('archive', '--before', before, '--out', archive);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(`Archived 2 runs (4 checkpoints, 1 workflows, 1 versions) that ended before ${before} to ${archive}.\n`);

    const pruned = await rewind('prune', '--retain-runs', '90d');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^Pruned 2 runs that ended before .* \(4 checkpoints removed\); .* Recorded as event \d+ \(runs_pruned\)\./);

    const [failed, old, recent] = runs as [Run, Run, Run];
    const cps = await rewind('checkpoints', failed.run_id);
    expect(cps.stdout).toMatch(new RegExp(`^Run ${failed.run_id}: checkpoints removed after 90 days \\(on \\d{4}-\\d{2}-\\d{2} `));
    expect((await rewind('status', old.run_id)).stdout).toContain('checkpoints removed after 90 days');
    expect((await rewind('checkpoints', recent.run_id)).stdout).toMatch(/SEQ\s+NODE/);
    const resume = await rewind('resume', failed.run_id);
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(/error RUN_PRUNED: Run .* cannot be resumed: its checkpoints were removed after 90 days .*\n {2}hint: Start a new run of the workflow; an archive taken before pruning \(`rewind archive --open FILE`\)/);

    // The archive still has them: browsed without any server or sandbox.
    const listed = await run('rewind', ['archive', '--open', archive]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`Archive of ${db} (schema `);
    expect(listed.stdout).toContain('2 runs, 4 checkpoints, 1 workflows, 1 versions');
    expect(listed.stdout).toMatch(new RegExp(`${failed.run_id}\\s+etl\\s+v1\\s+failed`));
    const one = await run('rewind', ['archive', '--open', archive, failed.run_id]);
    expect(one.stdout).toMatch(/1\s+extract\s+succeeded/);
    expect(one.stdout).toMatch(/2\s+load\s+failed/);
    const state = JSON.parse((await run('rewind', ['--json', 'archive', '--open', archive, failed.run_id, '1'])).stdout) as { state: { output: unknown } };
    expect(state.state.output).toEqual({ rows: 7 });
  });

  it('tells a file made before incremental auto_vacuum that it keeps its size, and rebuilds it with --vacuum', async () => {
    const oldDb = join(dir, 'old.db');
    await sandboxWithRuns(oldDb, [[200, false]]);
    const raw = new Database(oldDb);
    raw.pragma('auto_vacuum = NONE');
    raw.exec('VACUUM');
    raw.close();
    const pruned = await run('rewind', ['--db', oldDb, 'prune', '--retain-runs', '90d']);
    expect(pruned.stdout).toContain('The file keeps its size (freed pages are reused); `rewind prune --vacuum` makes it give space back.');
    const vacuum = await run('rewind', ['--db', oldDb, 'prune', '--vacuum']);
    expect(vacuum.code, vacuum.stderr).toBe(0);
    expect(vacuum.stdout).toMatch(/^Rebuilt .* with incremental auto_vacuum: /);
    const check = new Database(oldDb, { readonly: true });
    expect(check.pragma('auto_vacuum', { simple: true })).toBe(2);
    check.close();
  });
});

describe('rewind-server --retain-runs', () => {
  const dir = tempDir('rewind-server-retention-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a window it cannot read, and --keep-failed-checkpoints alone', async () => {
    const bad = await run('rewind-server', ['--db', join(dir, 'x.db'), '--retain-runs', '3 months']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --retain-runs: A retention window reads like 90d, 12w or 36h; got "3 months".');
    const alone = await run('rewind-server', ['--db', join(dir, 'x.db'), '--keep-failed-checkpoints']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--keep-failed-checkpoints goes with --retain-runs.');
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
  });

  it('archives over HTTP first, then prunes in the background: the API and the CLI say “checkpoints removed after 90 days”', async () => {
    const db = join(dir, 'server.db');
    const [failed, recent] = (await sandboxWithRuns(db, [
      [120, true],
      [5, false],
    ])) as [Run, Run];
    const token = 'rw_retention-admin-token-0123456789';
    const env = { REWIND_ADMIN_TOKEN: token };
    const archive = join(dir, 'server-runs.ndjson.gz');

    const first = await spawnServer(['--db', db, '--port', '0'], env);
    try {
      const out = await run('rewind', ['--server', first.url, 'archive', '--before', new Date(Date.now() - 90 * DAY).toISOString(), '--out', archive], { REWIND_TOKEN: token });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('Archived 1 runs (2 checkpoints');
      const viaServer = await run('rewind', ['--server', first.url, 'prune', '--retain-runs', '90d'], { REWIND_TOKEN: token });
      expect(viaServer.code).toBe(2);
      expect(viaServer.stderr).toContain('hint: Start it with --retain-runs 90d');
    } finally {
      await killHard(first);
    }

    const server = await spawnServer(['--db', db, '--port', '0', '--retain-runs', '90d', '--keep-failed-checkpoints'], env);
    try {
      expect(server.output()).toContain('Retention: finished runs lose their checkpoints after 90 days (a failed run keeps its last one); events are kept.');
      const get = async (path: string) => (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
      await eventually(async () => (await get(`/api/v1/runs/${failed.run_id}`)).pruned_at !== null, 20_000, 'the background pass');
      expect(await get(`/api/v1/runs/${failed.run_id}`)).toMatchObject({ status: 'failed', pruned_after: '90 days', error: failed.error });
      expect(((await get(`/api/v1/runs/${failed.run_id}/checkpoints`)).checkpoints as unknown[]).map((c) => (c as { node_id: string }).node_id)).toEqual(['load']);
      expect((await get(`/api/v1/runs/${recent.run_id}`)).pruned_at).toBeNull();
      const events = (await get('/api/v1/events?after=0&limit=1000')).events as Array<{ type: string; payload: Record<string, unknown> }>;
      expect(events.filter((e) => e.type === 'runs_pruned').map((e) => e.payload)).toEqual([expect.objectContaining({ runs: 1, checkpoints: 1, retain_runs: '90 days', keep_failed_checkpoints: true })]);
      const status = await run('rewind', ['--server', server.url, 'status', failed.run_id], { REWIND_TOKEN: token });
      expect(status.stdout).toContain('checkpoints removed after 90 days');
      const replay = await run('rewind', ['--server', server.url, '--json', 'replay', failed.run_id, '--version', '1'], { REWIND_TOKEN: token });
      expect(replay.code).toBe(1);
      expect((JSON.parse(replay.stderr) as { error: { code: string } }).error.code).toBe('RUN_PRUNED');
    } finally {
      await killHard(server);
    }
    // The archive taken over HTTP still has both checkpoints of the pruned run.
    const one = await run('rewind', ['archive', '--open', archive, failed.run_id]);
    expect(one.stdout).toMatch(/1\s+extract\s+succeeded/);
    expect(one.stdout).toMatch(/2\s+load\s+failed/);
  });
});
