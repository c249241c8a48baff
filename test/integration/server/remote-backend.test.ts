import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SubscriptionState } from '../../../main/backends/backend.js';
import { RemoteBackend, openRemote } from '../../../main/backends/remote/index.js';
import { RewindError } from '../../../main/engine/errors.js';
import { createServer } from '../../../main/server/server.js';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { type TestServer, dsls, eventually, freePort, startServer, tempDir, uniqueName } from './harness.js';
import { selfSignedCert } from './tls.js';

async function refusedWith(promise: Promise<unknown>): Promise<RewindError> {
  const err = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RewindError);
  return err as RewindError;
}

/** A tiny stand-in server: answers /health as given and records what it was sent. */
async function fakeServer(handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void) {
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const health = (protocol = 1) => JSON.stringify({ status: 'ok', name: 'rewind', version: '0.1.0', protocol, schema_version: 20, heartbeat_ms: 15000 });

describe('remote backend: failures named with what to do', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('UNREACHABLE when nothing listens', async () => {
    const port = await freePort();
    const e = await refusedWith(openRemote({ url: `http://127.0.0.1:${port}`, token: 'x'.repeat(20), retries: 0 }));
    expect(e.code).toBe('UNREACHABLE');
    expect(e.hint).toMatch(/server is running/);
  });

  it('TIMEOUT when the server accepts but never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => { sockets.forEach((s) => s.destroy()); silent.close(r); }));
    const { port } = silent.address() as net.AddressInfo;
    // Without the per-call timeout this would hang until the test's own timeout fails it.
    const e = await refusedWith(openRemote({ url: `http://127.0.0.1:${port}`, token: 'x'.repeat(20), timeoutMs: 300 }));
    expect(e.code).toBe('TIMEOUT');
  });

  it('TLS_FAILED against a certificate this machine does not trust', async () => {
    const dir = tempDir();
    const { cert, key } = selfSignedCert(dir);
    const s = await startServer({ tls: { cert, key } });
    cleanups.push(() => s.close());
    expect(s.url).toMatch(/^https:/);
    const e = await refusedWith(openRemote({ url: s.url, token: s.tokens.admin }));
    expect(e.code).toBe('TLS_FAILED');
    expect(e.hint).toMatch(/NODE_EXTRA_CA_CERTS/);
  });

  it('UNAUTHORIZED with a hint about the token; the stream is refused, not retried', async () => {
    const s = await startServer();
    cleanups.push(() => s.close());
    const e = await refusedWith(openRemote({ url: s.url, token: 'rwt_wrong-token-000000000' }));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.hint).toMatch(/token/);
    const remote = new RemoteBackend({ url: s.url, token: 'rwt_wrong-token-000000000' });
    const states: SubscriptionState[] = [];
    remote.subscribe({ after: 0, onEvent: () => undefined, onState: (st) => states.push(st) });
    await eventually(() => states.includes('refused'), 5000, 'refused');
    expect(states).not.toContain('reconnecting');
    await remote.close();
  });

  it('PROTOCOL_MISMATCH for another protocol version, and for a server that is not Rewind', async () => {
    const future = await fakeServer((_q, _b, res) => res.end(health(99)));
    cleanups.push(future.close);
    const e = await refusedWith(openRemote({ url: future.url, token: 'x'.repeat(20) }));
    expect(e.code).toBe('PROTOCOL_MISMATCH');
    expect(e.message).toMatch(/protocol 99/);
    const other = await fakeServer((_q, _b, res) => res.end('<html>hello</html>'));
    cleanups.push(other.close);
    expect((await refusedWith(openRemote({ url: other.url, token: 'x'.repeat(20) }))).code).toBe('PROTOCOL_MISMATCH');
    const wrongShape = await fakeServer((req, _b, res) => res.end(req.url === '/health' ? health() : JSON.stringify({ whatever: true })));
    cleanups.push(wrongShape.close);
    const remote = new RemoteBackend({ url: wrongShape.url, token: 'x'.repeat(20) });
    expect((await refusedWith(remote.call('workflows:list', {}))).code).toBe('PROTOCOL_MISMATCH');
  });

  it('validates input before the network, sends If-Match and an Idempotency-Key, and retries a 503 with the same key', async () => {
    let busy = 1;
    const result = { success: true, message: 'Rolled back', workflow_id: 'wf', version: 1, from_version: 2, seq: 9, revision: 6 };
    const fake = await fakeServer((req, _b, res) => {
      if (req.url === '/health') return res.end(health());
      if (busy-- > 0) {
        res.writeHead(503, { 'retry-after': '1' });
        return res.end(JSON.stringify({ error: { code: 'BUSY', message: 'busy', hint: 'retry' } }));
      }
      res.end(JSON.stringify(result));
    });
    cleanups.push(fake.close);
    const remote = new RemoteBackend({ url: fake.url, token: 'x'.repeat(20) });
    expect((await refusedWith(remote.call('versions:rollback', { workflow_id: 'wf', version: 0 }))).code).toBe('VALIDATION_FAILED');
    expect(fake.seen).toHaveLength(0);
    expect(await remote.call('versions:rollback', { workflow_id: 'wf', version: 1, expected_revision: 5 })).toEqual(result);
    const posts = fake.seen.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.url).toBe('/api/v1/workflows/wf/versions/1/rollback');
    expect(posts[0]!.headers['if-match']).toBe('"5"');
    expect(posts[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
    expect(JSON.parse(posts[0]!.body)).toEqual({});
    await remote.call('versions:rollback', { workflow_id: 'wf', version: 1 }, { idempotencyKey: 'mine' });
    expect(fake.seen[fake.seen.length - 1]!.headers['idempotency-key']).toBe('mine');
    expect(fake.seen[fake.seen.length - 1]!.headers['if-match']).toBeUndefined();
  });

  it('subscribe resumes across a server restart: every event once, in order, with each state reported', async () => {
    const s = await startServer();
    cleanups.push(() => s.close());
    const port = Number(new URL(s.url).port);
    const remote = await openRemote({ url: s.url, token: s.tokens.viewer, backoff: { initialMs: 50, maxMs: 200 } });
    cleanups.push(() => remote.close());
    // Start after the audited token issues, at the workflow's creation.
    const base = await s.backend.engine.latestSeq();
    const wf = await s.backend.call('workflows:create', { name: uniqueName('restart'), dsl: dsls.v1 });
    const seen: RewindEvent[] = [];
    const states: string[] = [];
    const stop = remote.subscribe({ after: base, onEvent: (e) => seen.push(e), onState: (st) => states.push(st) });
    await eventually(() => seen.length === 1, 5000, 'the backlog');
    await s.server.close();
    // Written while no server listens: the subscriber must still get them after it reconnects.
    await s.backend.call('workflows:pause', { workflow_id: wf.id });
    await s.backend.call('workflows:unpause', { workflow_id: wf.id });
    const again = await createServer({
      backend: s.backend,
      tokens: s.tokenStore,
      latestSeq: () => s.backend.engine.latestSeq(),
      schemaVersion: s.backend.engine.schemaVersion,
      port,
      log: () => undefined,
    });
    cleanups.push(() => again.close());
    await s.backend.call('workflows:pause', { workflow_id: wf.id });
    await eventually(() => seen.length === 4, 10_000, 'all four events');
    expect(seen.map((e) => e.seq)).toEqual([base + 1, base + 2, base + 3, base + 4]);
    expect(states[0]).toBe('connecting');
    expect(states).toContain('reconnecting');
    expect(states[states.length - 1]).toBe('live');
    stop();
    expect(states[states.length - 1]).toBe('closed');
  });
});

describe('remote backend: a revoked token ends its subscription', () => {
  let s: TestServer;
  afterEach(async () => {
    await s.close();
  });
  it('reports refused once the server closes the stream with 4001', async () => {
    s = await startServer({ heartbeatMs: 100 });
    const { info, token } = await s.tokenStore.issue({ name: 'temp', role: 'viewer', createdBy: 'test' });
    const remote = await openRemote({ url: s.url, token });
    const states: Array<[string, string | undefined]> = [];
    remote.subscribe({ after: 0, onEvent: () => undefined, onState: (st, d) => states.push([st, d]) });
    await eventually(() => states.some(([st]) => st === 'live'), 5000, 'live');
    await s.tokenStore.revoke(info.id, 'test-admin');
    await eventually(() => states.some(([st]) => st === 'refused'), 5000, 'refused');
    expect(states.find(([st]) => st === 'refused')?.[1]).toMatch(/revoked/);
    await remote.close();
  });
});
