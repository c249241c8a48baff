import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { repoRoot, tempDir } from '../server/harness.js';

/*
 * `rewind events` lists the newest events (as `tail` would), pages back with --before, and filters on
 * the server by workflow, type, actor and time; --after keeps reading the log forward, as before.
 * Against the compiled CLI on a demo sandbox (about a hundred events).
 */

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rewind(args: string[]): Promise<Outcome> {
  const proc = spawn(process.execPath, [join(repoRoot, 'bin/rewind.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, REWIND_SERVER: '', REWIND_SANDBOX: '', REWIND_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

type Page = { events: RewindEvent[]; next_before?: number | null; next_after?: number | null };

describe('rewind events', () => {
  const dir = tempDir('rewind-cli-events-');
  const db = join(dir, 'demo.db');
  let head = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    const made = await rewind(['--db', db, '--json', 'workflows']);
    expect(made.code, made.stderr).toBe(0);
    const page = JSON.parse((await rewind(['--db', db, '--json', 'events', '--limit', '1'])).stdout) as Page;
    head = page.events[0]!.seq;
    expect(head).toBeGreaterThan(50);
  }, 120_000);

  it('prints the newest events oldest first, and says how to page back', async () => {
    const out = await rewind(['--db', db, 'events', '--limit', '3']);
    expect(out.code, out.stderr).toBe(0);
    const seqs = out.stdout.trim().split('\n').map((l) => Number(/^#?(\d+)/.exec(l.trim())?.[1]));
    expect(seqs).toEqual([head - 2, head - 1, head]);
    expect(out.stderr).toContain(`[older: rewind events --before ${head - 2}]`);
  });

  it('pages back with --before and filters by type, actor and time on the server', async () => {
    const rollbacks = JSON.parse((await rewind(['--db', db, '--json', 'events', '--type', 'workflow_rollback', '--limit', '50'])).stdout) as Page;
    expect(rollbacks.events.length).toBeGreaterThanOrEqual(3);
    expect(rollbacks.events.every((e) => e.type === 'workflow_rollback')).toBe(true);
    expect(rollbacks.next_before).toBeNull();
    const newest = rollbacks.events[0]!;
    const older = JSON.parse((await rewind(['--db', db, '--json', 'events', '--type', 'workflow_rollback', '--before', String(newest.seq)])).stdout) as Page;
    expect(older.events.map((e) => e.seq)).toEqual(rollbacks.events.slice(1).map((e) => e.seq));

    const byActor = JSON.parse((await rewind(['--db', db, '--json', 'events', '--actor', newest.actor, '--type', 'workflow_rollback,version_published', '--limit', '100'])).stdout) as Page;
    expect(byActor.events.length).toBeGreaterThan(0);
    expect(byActor.events.every((e) => e.actor === newest.actor && ['workflow_rollback', 'version_published'].includes(e.type))).toBe(true);

    const inTime = JSON.parse((await rewind(['--db', db, '--json', 'events', '--since', newest.ts, '--until', new Date(Date.parse(newest.ts) + 1).toISOString(), '--type', 'workflow_rollback'])).stdout) as Page;
    expect(inTime.events.map((e) => e.seq)).toEqual([newest.seq]);
  });

  it('keeps --after reading the log forward from a seq', async () => {
    const out = JSON.parse((await rewind(['--db', db, '--json', 'events', '--after', '2', '--limit', '3'])).stdout) as Page;
    expect(out.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(out.next_after).toBe(5);
  });

  it('refuses --before with --follow, and a time it cannot read, with a hint', async () => {
    const both = await rewind(['--db', db, 'events', '--before', '10', '--follow']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--before pages back/);
    const bad = await rewind(['--db', db, 'events', '--until', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--until must be an ISO date or time/);
  });
});
