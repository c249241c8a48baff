import http from 'node:http';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../main/cli/run.js';
import { RewindError } from '../../../main/engine/errors.js';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { type TestServer, api, dsls, startServer, uniqueName } from './harness.js';

/** One request on a keep-alive agent with a single socket; says whether that socket was reused. */
function send(agent: http.Agent, url: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; reused: boolean; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('workflow server: HTTP hygiene', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ ringBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await s.close();
  });

  it('keeps a keep-alive connection usable after refusing a request that carried a body (401, 403, 400)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = JSON.stringify({ name: uniqueName('ka'), dsl: dsls.v1, pad: 'x'.repeat(20_000) });
      const json = { 'content-type': 'application/json' };
      const first = await send(agent, s.url, 'POST', '/api/v1/workflows', json, body);
      expect(first.status).toBe(401);
      const refusals = [
        await send(agent, s.url, 'POST', '/api/v1/workflows', { ...json, authorization: `Bearer ${s.tokens.viewer}` }, body),
        await send(agent, s.url, 'POST', '/api/v1/workflows/x/pause', { ...json, authorization: `Bearer ${s.tokens.admin}`, 'if-match': 'nonsense' }, body),
      ];
      expect(refusals.map((r) => r.status)).toEqual([403, 400]);
      const next = await send(agent, s.url, 'GET', '/api/v1/workflows', { authorization: `Bearer ${s.tokens.viewer}` });
      expect(next.status).toBe(200);
      // The same socket served all four: the refused bodies were drained, not left to corrupt the next request.
      expect([...refusals, next].every((r) => r.reused)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('closes the connection (Connection: close) after refusing a body too large to drain, and the client carries on', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = JSON.stringify({ name: 'x', pad: 'y'.repeat(2 * 1024 * 1024) });
      const refused = await send(agent, s.url, 'POST', '/api/v1/workflows', { 'content-type': 'application/json', authorization: `Bearer ${s.tokens.admin}` }, big);
      expect(refused.status).toBe(413);
      expect(refused.headers.connection).toBe('close');
      const next = await send(agent, s.url, 'GET', '/api/v1/workflows', { authorization: `Bearer ${s.tokens.viewer}` });
      expect(next.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('refuses names with control characters or escape sequences (422 with a hint) and stores nothing', async () => {
    const before = (await s.backend.call('workflows:list', {})).total;
    for (const name of ['evil\u001b[2Jname', 'two\nlines', 'tab\there', 'bell\u0007', 'csi\u009b31m', 'rtl\u202etxt.exe', 'del\u007f']) {
      const res = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name, dsl: dsls.v1 });
      expect(res.status, JSON.stringify(name)).toBe(422);
      const error = (res.json as { error: { code: string; message: string; hint: string } }).error;
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toContain('control characters');
      expect(error.hint.length).toBeGreaterThan(0);
    }
    const wf = await s.backend.call('workflows:create', { name: uniqueName('plain'), dsl: dsls.v1 });
    expect((await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${wf.id}/clone`, { name: 'clone\u001b]0;pwned\u0007' })).status).toBe(422);
    const node = { ...dsls.v1, nodes: dsls.v1.nodes.map((n, i) => (i === 0 ? { ...n, name: 'load\u001b[8m' } : n)) };
    expect((await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${wf.id}/versions`, { dsl: node })).status).toBe(422);
    const runbook = { name: 'rb\u001b[1m', description: 'd', steps: [{ kind: 'note', title: 'n', text: 't' }] };
    expect((await api(s.url, s.tokens.admin, 'PUT', '/api/v1/runbooks', { runbook })).status).toBe(422);
    expect((await api(s.url, s.tokens.admin, 'POST', '/api/v1/tokens', { name: 'tok\u001b', role: 'viewer' })).status).toBe(422);
    expect((await s.backend.call('workflows:list', {})).total).toBe(before + 1);
  });

  it('bounds the in-memory event ring by bytes as well as by count, and a reader still gets every event', async () => {
    const wf = await s.backend.call('workflows:create', { name: uniqueName('ring'), dsl: { ...dsls.v1, defaults: { ...dsls.v1.defaults, blob: '', i: 0 } } });
    const head = (await s.backend.call('events:head', {})).seq;
    for (let i = 0; i < 12; i++) await s.backend.call('runs:start', { workflow_id: wf.id, params: { blob: 'z'.repeat(20_000), i }, wait: true });
    const usage = s.server.stream.ringUsage;
    expect(usage.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(usage.events).toBeLessThan(s.server.stream.headSeq - head);
    // A client that reconnects from before the ring reaches is caught up from the log, with no gap.
    const wsUrl = `${s.url.replace('http', 'ws')}/api/v1/events/stream?after=${head}`;
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${s.tokens.viewer}` } });
    const seqs: number[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        seqs.push((JSON.parse(data.toString()) as { seq: number }).seq);
        if (seqs[seqs.length - 1] === s.server.stream.headSeq) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    expect(seqs).toEqual(Array.from({ length: s.server.stream.headSeq - head }, (_, i) => head + 1 + i));
  });
});

describe('workflow server: a database that is away', () => {
  it("says when to come back: Retry-After from the store's retry_after_s, /health degraded until a write succeeds", async () => {
    const s = await startServer();
    try {
      // What the PostgreSQL adapter throws while its database restarts (main/engine/store/postgres/failures.ts).
      const away = new RewindError('STORE_UNAVAILABLE', 'The database is unreachable (ECONNREFUSED); nothing was changed.', 'Retry in a few seconds.', { retry_after_s: 7 });
      const call = s.backend.call.bind(s.backend);
      s.backend.call = (method, input, ctx) => (method === 'workflows:create' ? Promise.reject(away) : call(method, input, ctx));
      const refused = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('away'), dsl: dsls.v1 });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('7');
      expect(refused.json).toMatchObject({ error: { code: 'STORE_UNAVAILABLE', details: { retry_after_s: 7 } } });
      const health = await api(s.url, undefined, 'GET', '/health');
      expect(health.status).toBe(503);
      expect(health.headers.get('retry-after')).toBe('7');
      expect(health.json).toMatchObject({ status: 'degraded', error: { code: 'STORE_UNAVAILABLE' } });
      s.backend.call = call;
      expect((await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('back'), dsl: dsls.v1 })).status).toBe(200);
      expect((await api(s.url, undefined, 'GET', '/health')).json).toMatchObject({ status: 'ok' });
    } finally {
      await s.close();
    }
  });
});

describe('rewind CLI: names never reach the terminal raw', () => {
  it('escapes control characters from stored names (data written before names were checked)', async () => {
    const s = await startServer();
    try {
      const wf = await s.backend.call('workflows:create', { name: uniqueName('safe'), dsl: dsls.v1 });
      sqliteDb(s.backend.engine).prepare('UPDATE workflows SET name = ? WHERE id = ?').run('evil\u001b[2J\u009b31m', wf.id);
      const out: string[] = [];
      const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t), env: {} };
      expect(await runCli(['--db', s.dbPath, 'workflows'], io)).toBe(0);
      expect(await runCli(['--db', s.dbPath, '--json', 'workflows'], io)).toBe(0);
      expect(await runCli(['--db', s.dbPath, 'get', 'evil\u001b[2J'], io)).toBe(1);
      const text = out.join('\n');
      expect(text).toContain('evil\\x1b[2J\\x9b31m');
      expect(text).toContain('evil\\u001b[2J\\u009b31m');
      expect(text.includes('\u001b') || text.includes('\u009b')).toBe(false);
    } finally {
      await s.close();
    }
  });
});
