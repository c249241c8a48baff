import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, dsls, repoRoot, startServer, tempDir, uniqueName } from '../server/harness.js';

/*
 * The schedule verbs as a script runs them (the compiled `rewind` bin): `schedule` with its policy,
 * `backfill` with its dry run and refusals, and `history` (seed 004) — against a server, and on a
 * local sandbox file.
 */

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rewind(args: string[], env: Record<string, string> = {}, untilStdout?: RegExp): Promise<Outcome> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (untilStdout?.test(stdout)) proc.kill('SIGINT');
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

interface HistoryJson {
  runs: Array<{ run_id: string; trigger: string; logical_date: string | null; version: number; status: string; duration_ms: number | null }>;
}

describe('rewind schedule, backfill and history against a server', () => {
  let s: TestServer;
  let name: string;
  let admin: Record<string, string>;
  let operator: Record<string, string>;
  beforeAll(async () => {
    s = await startServer();
    name = uniqueName('nightly');
    await s.backend.call('workflows:create', { name, dsl: dsls.v1 });
    admin = { REWIND_TOKEN: s.tokens.admin };
    operator = { REWIND_TOKEN: s.tokens.operator };
  });
  afterAll(() => s.close());

  it('sets a six-field schedule with its catch-up policy and limit, and shows the next three fire times', async () => {
    const out = await rewind(['--server', s.url, 'schedule', name, '0 30 2 * * *', '--catchup', 'latest', '--max-concurrent', '2'], admin);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('schedule 0 30 2 * * *');
    expect(out.stdout).toContain('catch-up latest, at most 2 run(s) at once');
    expect(out.stdout.match(/ 02:30:00Z/g)).toHaveLength(3);
    const json = await rewind(['--server', s.url, '--json', 'schedule', name, '0 0 2 * * *'], admin);
    const parsed = JSON.parse(json.stdout) as { schedule: { catchup: string; max_concurrent: number; next: string[] } };
    // Only the expression changed: the policy stays.
    expect(parsed.schedule).toMatchObject({ catchup: 'latest', max_concurrent: 2 });
    expect(parsed.schedule.next.every((t) => t.endsWith('T02:00:00.000Z'))).toBe(true);
  });

  it('refuses a catch-up outside the list before calling, and a bad seconds field naming it', async () => {
    const bad = await rewind(['--server', s.url, 'schedule', name, '0 2 * * *', '--catchup', 'sometimes'], admin);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--catchup must be skip, latest or all/);
    const seconds = await rewind(['--server', s.url, 'schedule', name, '61 0 2 * * *'], admin);
    expect(seconds.code).toBe(1);
    expect(seconds.stderr).toMatch(/INVALID_CRON: .*invalid second field "61"/);
  });

  it('backfills: the dry run lists the ticks and starts nothing, the real one starts a backfill run per tick', async () => {
    const dry = await rewind(['--server', s.url, 'backfill', name, '--from', '2026-11-01', '--to', '2026-11-04', '--dry-run'], operator);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run: 3 tick(s) in [2026-11-01, 2026-11-04); 3 would start a run. Nothing was started.');
    expect(dry.stdout).toContain('2026-11-03 02:00:00Z  start a run');
    const wf = (await s.backend.call('workflows:list', { query: name })).workflows[0]!;
    expect((await s.backend.call('runs:list', { workflow_id: wf.id })).total).toBe(0);
    const real = await rewind(['--server', s.url, '--json', 'backfill', name, '--from', '2026-11-01', '--to', '2026-11-04'], operator);
    expect(real.code, real.stderr).toBe(0);
    const body = JSON.parse(real.stdout) as { runs: Array<{ trigger: string; logical_date: string }> };
    expect(body.runs.map((r) => [r.trigger, r.logical_date])).toEqual([
      ['backfill', '2026-11-01T02:00:00.000Z'],
      ['backfill', '2026-11-02T02:00:00.000Z'],
      ['backfill', '2026-11-03T02:00:00.000Z'],
    ]);
    const again = await rewind(['--server', s.url, 'backfill', name, '--from', '2026-11-01', '--to', '2026-11-04'], operator);
    expect(again.stdout).toContain('Backfill: 0 run(s) started for 3 tick(s); 3 ran already and were left alone.');
  });

  it('refuses a reversed range and a huge one with a hint, and a viewer outright', async () => {
    const reversed = await rewind(['--server', s.url, 'backfill', name, '--from', '2026-11-04', '--to', '2026-11-01'], operator);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/error INVALID_RANGE: .*\n {2}hint: Give from earlier than to/);
    const huge = await rewind(['--server', s.url, 'backfill', name, '--from', '2020-01-01', '--to', '2026-01-01', '--dry-run'], operator);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/error TOO_MANY_TICKS: .*more than 1000 ticks.*\n {2}hint: .*--max-ticks/);
    const missing = await rewind(['--server', s.url, 'backfill', name, '--from', '2026-11-01'], operator);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/backfill needs --from and --to/);
    const viewer = await rewind(['--server', s.url, 'backfill', name, '--from', '2026-11-01', '--to', '2026-11-02'], { REWIND_TOKEN: s.tokens.viewer });
    expect(viewer.code).toBe(3);
  });

  it('history lists runs with trigger, logical date, version, duration and status; filters by status and time', async () => {
    const wf = (await s.backend.call('workflows:list', { query: name })).workflows[0]!;
    // One started over plain REST (api) and one from the CLI (manual), beside the backfilled three.
    const viaApi = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${wf.id}/runs`, { wait: true });
    expect(viaApi.json).toMatchObject({ trigger: 'api', logical_date: null });
    const manual = await rewind(['--server', s.url, 'run', name, '--wait', '--fail-node', 'judge'], operator);
    expect(manual.code, manual.stderr).toBe(0);
    const out = await rewind(['--server', s.url, 'history', name], operator);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.split('\n')[0]).toMatch(/^RUN\s+TRIGGER\s+LOGICAL DATE\s+VERSION\s+STARTED\s+DURATION\s+STATUS$/);
    expect(out.stdout).toMatch(/backfill\s+2026-11-03 02:00:00Z\s+v1\s+/);
    const json = JSON.parse((await rewind(['--server', s.url, '--json', 'history', name], operator)).stdout) as HistoryJson;
    expect(json.runs.map((r) => r.trigger)).toEqual(['manual', 'api', 'backfill', 'backfill', 'backfill']);
    expect(json.runs.every((r) => r.version === 1 && typeof r.duration_ms === 'number')).toBe(true);
    const failed = JSON.parse((await rewind(['--server', s.url, '--json', 'history', name, '--status', 'failed'], operator)).stdout) as HistoryJson;
    expect(failed.runs.map((r) => [r.trigger, r.status])).toEqual([['manual', 'failed']]);
    const future = await rewind(['--server', s.url, 'history', name, '--since', '2999-01-01'], operator);
    expect(future.stdout.trim()).toBe('No runs since 2999-01-01 00:00:00Z.');
    const recent = JSON.parse((await rewind(['--server', s.url, '--json', 'history', name, '--since', '1h'], operator)).stdout) as HistoryJson;
    expect(recent.runs).toHaveLength(5);
    const badStatus = await rewind(['--server', s.url, 'history', name, '--status', 'exploded'], operator);
    expect(badStatus.code).toBe(2);
  });
});

describe('rewind backfill on a local sandbox', () => {
  const dir = tempDir('rewind-cli-schedules-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs each backfilled tick to its end before the command returns', async () => {
    const db = join(dir, 'sandbox.db');
    const dslFile = join(dir, 'dsl.json');
    writeFileSync(dslFile, JSON.stringify(dsls.v1));
    expect((await rewind(['--db', db, '--no-demo', 'register', '--name', 'hourly', '--dsl', dslFile])).code).toBe(0);
    expect((await rewind(['--db', db, 'schedule', 'hourly', '@hourly'])).code).toBe(0);
    const out = await rewind(['--db', db, 'backfill', 'hourly', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T03:00:00Z']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('Backfill: 3 run(s) started for 3 tick(s).');
    expect(out.stdout.match(/succeeded/g)).toHaveLength(3);
    const history = JSON.parse((await rewind(['--db', db, '--json', 'history', 'hourly'])).stdout) as HistoryJson;
    expect(history.runs.every((r) => r.trigger === 'backfill')).toBe(true);
    expect(history.runs.map((r) => [r.logical_date, r.status])).toEqual([
      ['2026-11-01T02:00:00.000Z', 'succeeded'],
      ['2026-11-01T01:00:00.000Z', 'succeeded'],
      ['2026-11-01T00:00:00.000Z', 'succeeded'],
    ]);
  });

  it('--max-concurrent runs the ticks at most N at once, each pending one as an earlier run ends, all before it returns', async () => {
    const db = join(dir, 'limited.db');
    const dslFile = join(dir, 'limited-dsl.json');
    writeFileSync(dslFile, JSON.stringify(dsls.v1));
    expect((await rewind(['--db', db, '--no-demo', 'register', '--name', 'hourly', '--dsl', dslFile, '--schedule', '@hourly'])).code).toBe(0);
    const zero = await rewind(['--db', db, 'backfill', 'hourly', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T04:00:00Z', '--max-concurrent', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--max-concurrent must be from 1 to 1000/);
    const out = await rewind(['--db', db, 'backfill', 'hourly', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T04:00:00Z', '--max-concurrent', '1']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('Backfill: 4 run(s) started for 4 tick(s), at most 1 at once.');
    expect(out.stdout.match(/succeeded/g)).toHaveLength(4);
    const history = JSON.parse((await rewind(['--db', db, '--json', 'history', 'hourly'])).stdout) as HistoryJson;
    expect(history.runs.map((r) => r.logical_date).sort()).toEqual([0, 1, 2, 3].map((h) => `2026-11-01T0${h}:00:00.000Z`));
  });

  it('`events --follow` on a sandbox stays open until Ctrl-C, printing what another process commits meanwhile', async () => {
    const db = join(dir, 'open.db');
    const dslFile = join(dir, 'open-dsl.json');
    writeFileSync(dslFile, JSON.stringify(dsls.v1));
    expect((await rewind(['--db', db, '--no-demo', 'workflows'])).code).toBe(0);
    const proc = spawn(process.execPath, ['bin/rewind.mjs', '--db', db, 'events', '--follow'], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    let exitedEarly: number | null | undefined;
    void exited.then((code) => (exitedEarly = code));
    await new Promise<void>((resolve) =>
      proc.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('[stream live]')) resolve();
      }),
    );
    // Another process registers a workflow: the follower, still running, prints its event.
    expect((await rewind(['--db', db, 'register', '--name', 'late-comer', '--dsl', dslFile])).code).toBe(0);
    await expect.poll(() => exitedEarly !== undefined || /workflow_created/.test(stdout), { timeout: 20_000 }).toBe(true);
    expect(exitedEarly, `ended before anything was committed: ${stderr}`).toBeUndefined();
    proc.kill('SIGINT');
    expect(await exited, stderr).toBe(0);
  });

  it('fires the sandbox schedules while `events --follow` keeps it open, and not in one-shot commands', async () => {
    const db = join(dir, 'follow.db');
    const dslFile = join(dir, 'follow-dsl.json');
    writeFileSync(dslFile, JSON.stringify(dsls.v1));
    expect((await rewind(['--db', db, '--no-demo', 'register', '--name', 'every-second', '--dsl', dslFile, '--schedule', '* * * * * *'])).code).toBe(0);
    const quiet = JSON.parse((await rewind(['--db', db, '--json', 'history', 'every-second'])).stdout) as HistoryJson;
    expect(quiet.runs).toEqual([]);
    const follow = await rewind(['--db', db, 'events', '--follow', '--workflow', 'every-second'], {}, /schedule_fired/);
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toMatch(/schedule_fired\s+\S+ run \S+\s+by scheduler/);
    const after = JSON.parse((await rewind(['--db', db, '--json', 'history', 'every-second'])).stdout) as HistoryJson;
    expect(after.runs.length).toBeGreaterThanOrEqual(1);
    expect(after.runs.every((r) => r.trigger === 'schedule' && r.logical_date !== null)).toBe(true);
  });
});
