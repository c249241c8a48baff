import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, api, dsls, eventually, killHard, repoRoot, spawnServer, tempDir } from '../server/harness.js';
import { Receiver } from './receiver.js';

/*
 * The real `rewind-server` delivers webhooks by itself (its worker starts with it), its routes answer
 * as the issue names them, the `rewind webhooks` verbs drive them, and the secret is on disk only
 * sealed, under a key file beside the database.
 */

const ADMIN = 'admin-token-for-webhook-tests-0123456789';
const SECRET = 'whsec_' + Buffer.from('a shared secret of some length').toString('base64');

function rewind(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('webhooks on a running server', () => {
  let server: ChildServer;
  let receiver: Receiver;
  let dir: string;
  let viewer: string;
  beforeAll(async () => {
    dir = tempDir('rewind-webhooks-');
    receiver = await new Receiver(SECRET).start();
    // The receiver is on 127.0.0.1: a private address, which a server reaches only when allowed.
    server = await spawnServer(['--db', join(dir, 'rewind.db'), '--port', '0', '--allow-private-webhooks'], { REWIND_ADMIN_TOKEN: ADMIN });
    const issued = await api(server.url, ADMIN, 'POST', '/api/v1/tokens', { name: 'viewer', role: 'viewer' });
    viewer = (issued.json as { token: string }).token;
  });
  afterAll(async () => {
    await killHard(server);
    await receiver.close();
  });

  it('adds a webhook (201, no secret back), delivers a rollback signed both ways, and shows the log', async () => {
    const wf = (await api(server.url, ADMIN, 'POST', '/api/v1/workflows', { name: 'billing', dsl: dsls.v1 })).json as { id: string };
    const created = await api(server.url, ADMIN, 'POST', '/api/v1/webhooks', { url: receiver.url, secret: SECRET, events: ['workflow_rollback'] });
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    expect(id).toMatch(/^wh_/);
    expect(JSON.stringify(created.json)).not.toContain(SECRET);

    await api(server.url, ADMIN, 'POST', `/api/v1/workflows/${wf.id}/versions`, { dsl: dsls.v2 });
    await api(server.url, ADMIN, 'POST', `/api/v1/workflows/${wf.id}/versions/2/publish`);
    await api(server.url, ADMIN, 'POST', `/api/v1/workflows/${wf.id}/versions/1/rollback`);
    await eventually(() => receiver.delivered.length === 1, 15_000, 'the rollback delivered');
    const [got] = receiver.received;
    expect(got!.hmacOk && got!.standardOk).toBe(true);
    expect(got!.json.text).toBe('⏪ Rollback of billing: v2 → v1 by admin');
    expect(got!.json.event).toMatchObject({ event_type: 'workflow_rollback', from_version: 2, to_version: 1 });

    const deliveries = await api(server.url, ADMIN, 'GET', `/api/v1/webhooks/${id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect((deliveries.json as { deliveries: unknown[] }).deliveries).toEqual([expect.objectContaining({ event_type: 'workflow_rollback', state: 'delivered', attempts: 1, last_status: 200 })]);

    // At rest: the key file beside the database (owner-only), and no trace of the secret in the database.
    const keyFile = join(dir, 'rewind.db.webhook-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    for (const file of ['rewind.db', 'rewind.db-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(dir, file));
      } catch {
        continue;
      }
      expect(bytes.includes(Buffer.from(SECRET)), file).toBe(false);
    }
  });

  it('is for admins, and refuses bad input with a code and a hint', async () => {
    expect((await api(server.url, viewer, 'GET', '/api/v1/webhooks')).status).toBe(403);
    expect((await api(server.url, viewer, 'POST', '/api/v1/webhooks', { url: receiver.url, secret: SECRET })).status).toBe(403);
    for (const body of [{ url: 'file:///etc/passwd', secret: SECRET }, { url: receiver.url, secret: '' }, { url: receiver.url, secret: SECRET, events: ['run_exploded'] }]) {
      const res = await api(server.url, ADMIN, 'POST', '/api/v1/webhooks', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.json).toMatchObject({ error: { code: 'VALIDATION_FAILED', hint: expect.any(String) } });
    }
    expect((await api(server.url, ADMIN, 'GET', '/api/v1/webhooks/wh_nope/deliveries')).json).toMatchObject({ error: { code: 'WEBHOOK_NOT_FOUND' } });
  });

  it('refuses credentials in a webhook URL (422, the remedy in the hint) and never shows a query string back', async () => {
    const res = await api(server.url, ADMIN, 'POST', '/api/v1/webhooks', { url: receiver.url.replace('http://', 'http://u:p4ss@'), secret: SECRET });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('credentials'), hint: expect.stringContaining('signature') } });
    const created = await api(server.url, ADMIN, 'POST', '/api/v1/webhooks', { url: `${receiver.url}?token=sekrit-query-value`, secret: SECRET, events: ['token_issued'] });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.json)).not.toContain('sekrit-query-value');
    expect(JSON.stringify((await api(server.url, ADMIN, 'GET', '/api/v1/webhooks')).json)).not.toContain('sekrit-query-value');
    await api(server.url, ADMIN, 'DELETE', `/api/v1/webhooks/${(created.json as { id: string }).id}`);
  });

  it('refuses loopback and private receivers without --allow-private-webhooks (EGRESS_REFUSED), and takes REWIND_ALLOW_PRIVATE_WEBHOOKS=1', async () => {
    const strict = await spawnServer(['--db', join(tempDir('rewind-webhooks-strict-'), 'rewind.db'), '--port', '0'], { REWIND_ADMIN_TOKEN: ADMIN });
    try {
      const res = await api(strict.url, ADMIN, 'POST', '/api/v1/webhooks', { url: receiver.url, secret: SECRET });
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ error: { code: 'EGRESS_REFUSED', message: expect.stringContaining('127.0.0.1'), hint: expect.stringContaining('--allow-private-webhooks') } });
      const metadata = await api(strict.url, ADMIN, 'POST', '/api/v1/webhooks', { url: 'http://[::ffff:169.254.169.254]/latest/meta-data/', secret: SECRET });
      expect(metadata.json).toMatchObject({ error: { code: 'EGRESS_REFUSED', details: { rule: 'metadata' } } });
      // The served OpenAPI document lists the code with the other errors.
      const doc = (await api(strict.url, undefined, 'GET', '/api/v1/openapi.json')).json;
      expect(JSON.stringify(doc)).toContain('"EGRESS_REFUSED"');
    } finally {
      await killHard(strict);
    }
    const byEnv = await spawnServer(['--db', join(tempDir('rewind-webhooks-env-'), 'rewind.db'), '--port', '0'], { REWIND_ADMIN_TOKEN: ADMIN, REWIND_ALLOW_PRIVATE_WEBHOOKS: '1' });
    try {
      expect((await api(byEnv.url, ADMIN, 'POST', '/api/v1/webhooks', { url: receiver.url, secret: SECRET })).status).toBe(201);
    } finally {
      await killHard(byEnv);
    }
  });

  it('is driven by `rewind webhooks add|list|deliveries|rm`', async () => {
    const env = { REWIND_TOKEN: ADMIN, REWIND_WEBHOOK_SECRET: SECRET };
    const added = await rewind(['--server', server.url, '--json', 'webhooks', 'add', receiver.url, '--events', 'run_failed,workflow_rollback', '--workflows', 'billing'], env);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const hook = JSON.parse(added.stdout) as { id: string; events: string[]; workflows: string[] };
    expect(hook.events).toEqual(['run_failed', 'workflow_rollback']);
    expect(hook.workflows).toHaveLength(1);

    const listed = await rewind(['--server', server.url, 'webhooks', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(hook.id);
    expect(listed.stdout).not.toContain(SECRET);

    const log = await rewind(['--server', server.url, 'webhooks', 'deliveries', hook.id], env);
    expect(log.code).toBe(0);
    expect(log.stdout).toBe('No deliveries.\n');

    const removed = await rewind(['--server', server.url, 'webhooks', 'rm', hook.id], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/Deleted webhook wh_/);
    const gone = await rewind(['--server', server.url, 'webhooks', 'rm', hook.id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/error WEBHOOK_NOT_FOUND: .*\n {2}hint: /);

    const bad = await rewind(['--server', server.url, 'webhooks', 'add', 'ftp://x/y'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/http:\/\/ or https:\/\//);
  });
});
