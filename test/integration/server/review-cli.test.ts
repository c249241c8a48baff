import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Review } from '../../../preload/contract/index.js';
import { type ChildServer, api, dsls, killHard, repoRoot, spawnServer, tempDir, uniqueName } from './harness.js';

/*
 * Review from the command line, against the compiled `rewind-server --require-review publish` and the
 * compiled `rewind`: a publish says it was sent for review, `rewind review list|approve|decline` answer
 * it, the requester's own approval is refused. Two tokens with different names are two people.
 */

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rewind(args: string[], token: string): Promise<Outcome> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', REWIND_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const ADMIN = 'rwt_admin-token-for-the-review-cli-test';

describe('rewind review (compiled CLI and server)', () => {
  let child: ChildServer;
  let alice: string;
  let bob: string;
  let name: string;
  beforeAll(async () => {
    child = await spawnServer(['--port', '0', '--db', join(tempDir(), 'rewind.db'), '--require-review', 'publish'], { REWIND_ADMIN_TOKEN: ADMIN });
    const issue = async (who: string) => ((await api(child.url, ADMIN, 'POST', '/api/v1/tokens', { name: who, role: 'admin' })).json as { token: string }).token;
    alice = await issue('alice');
    bob = await issue('bob');
    name = uniqueName('cli-review');
    const created = (await api(child.url, alice, 'POST', '/api/v1/workflows', { name, dsl: dsls.v1 })).json as { id: string };
    await api(child.url, alice, 'POST', `/api/v1/workflows/${created.id}/versions`, { dsl: dsls.v2, change_log: 'v2' });
  });
  afterAll(async () => {
    await killHard(child);
  });

  it('publish sends for review; the requester cannot approve; another person approves and it is published', async () => {
    expect(child.output()).toMatch(/Review: publish need a second person's approval \(requests expire after 1800 s\)/);
    const asked = await rewind(['--server', child.url, 'publish', name, '2'], alice);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(/Sent for review — another person must approve/);
    const id = /review ([0-9a-f-]{36})/.exec(asked.stdout)?.[1];
    expect(id).toBeDefined();

    const list = await rewind(['--server', child.url, 'review', 'list'], bob);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/pending .*publish v2 \(from v1\) +alice .*ago +in \d+ min/);

    const own = await rewind(['--server', child.url, 'review', 'approve', id!], alice);
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/error SELF_REVIEW: .*\n {2}hint: Another person/);

    const approved = await rewind(['--server', child.url, 'review', 'approve', id!, '--note', 'looks right'], bob);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/Approved .*publish v2/);
    expect(approved.stdout).toMatch(/Published .* to v2 .*recorded as alice's, approved by bob/);
    const again = await rewind(['--server', child.url, '--json', 'review', 'decline', id!], bob);
    expect(again.code).toBe(1);
    expect((JSON.parse(again.stderr) as { error: { code: string } }).error.code).toBe('REVIEW_ANSWERED');

    const all = await rewind(['--server', child.url, '--json', 'review', 'list', '--all'], bob);
    expect((JSON.parse(all.stdout) as { reviews: Review[] }).reviews).toMatchObject([{ review_id: id, status: 'approved', answered_by: 'bob', note: 'looks right' }]);
    expect((await rewind(['--server', child.url, 'review', 'list'], bob)).stdout).toMatch(/Nothing waits for review/);
  });

  it('a decline leaves the workflow as it was', async () => {
    const wf = ((await api(child.url, alice, 'GET', '/api/v1/workflows')).json as { workflows: Array<{ id: string; name: string }> }).workflows.find((w) => w.name === name)!;
    await api(child.url, alice, 'POST', `/api/v1/workflows/${wf.id}/versions`, { dsl: dsls.v3, change_log: 'v3' });
    const asked = await rewind(['--server', child.url, '--json', 'publish', name, '3'], alice);
    const review = (JSON.parse(asked.stdout) as { review: Review }).review;
    const declined = await rewind(['--server', child.url, 'review', 'decline', review.review_id, '--note', 'not today'], bob);
    expect(declined.code).toBe(0);
    expect(declined.stdout).toMatch(/Declined .*\nNothing was changed\./);
    expect(((await api(child.url, bob, 'GET', `/api/v1/workflows/${wf.id}`)).json as { active_version: number }).active_version).toBe(2);
  });

  it('the server refuses review settings it cannot use, naming them, with exit 2', () => {
    const start = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['bin/rewind-server.mjs', '--port', '0', '--db', join(tempDir(), 'x.db'), ...args], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    const flag = start(['--require-review', 'publish,deploy,archive']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('--require-review names "deploy", "archive", which are not actions Rewind can review');
    const env = start([], { REWIND_REQUIRE_REVIEW: 'publsh' });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('REWIND_REQUIRE_REVIEW names "publsh", which is not an action Rewind can review');
    const expiry = start(['--require-review', 'publish', '--review-expiry', 'soon']);
    expect(expiry.status).toBe(2);
    expect(expiry.stderr).toContain('--review-expiry must be a duration such as 30m');
  });
});
