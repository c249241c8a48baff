import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, redactUrl, textLine } from '../../../main/server/logger.js';
import { type TestServer, api, dsls, eventually, spawnServer, killHard, startServer, tempDir, uniqueName } from './harness.js';
import { join } from 'node:path';

interface RequestLine {
  level: number;
  time: string;
  msg: string;
  req_id: string;
  actor: string | null;
  method: string;
  route: string;
  status: number;
  duration_ms: number;
  error_code?: string;
}

describe('workflow server: logs', () => {
  let s: TestServer;
  const lines: string[] = [];
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = () => records().filter((r) => r.msg === 'request') as unknown as RequestLine[];

  beforeAll(async () => {
    s = await startServer({ log: (line) => lines.push(line), logLevel: 'info', logFormat: 'json' });
  });
  afterAll(async () => {
    await s.close();
  });

  it('writes one JSON line per request with its id (echoed as X-Request-Id), actor, route pattern, status, duration and error code', async () => {
    const wf = await s.backend.call('workflows:create', { name: uniqueName('log'), dsl: dsls.v1 });
    const ok = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${wf.id}`);
    const refused = await api(s.url, s.tokens.viewer, 'POST', `/api/v1/workflows/${wf.id}/pause`);
    const given = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/workflows', undefined, { 'x-request-id': 'lb-1234.abc' });
    const insane = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/workflows', undefined, { 'x-request-id': `spaced id "quoted" ${'x'.repeat(200)}` });
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
    const byId = (id: string | null) => requests().find((r) => r.req_id === id);

    const okLine = byId(ok.headers.get('x-request-id'));
    expect(okLine).toMatchObject({ level: 30, actor: 'viewer', method: 'GET', route: '/api/v1/workflows/:workflow_id', status: 200 });
    expect(okLine!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(okLine!.time))).toBe(false);
    expect(okLine!.error_code).toBeUndefined();

    expect(byId(refused.headers.get('x-request-id'))).toMatchObject({ status: 403, error_code: 'FORBIDDEN', route: '/api/v1/workflows/:workflow_id/pause', actor: 'viewer' });
    expect(given.headers.get('x-request-id')).toBe('lb-1234.abc');
    expect(byId('lb-1234.abc')).toMatchObject({ route: '/api/v1/workflows', status: 200 });
    const fresh = insane.headers.get('x-request-id')!;
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    expect(byId(fresh)).toBeDefined();

    const anonymous = await api(s.url, undefined, 'GET', '/api/v1/workflows');
    expect(byId(anonymous.headers.get('x-request-id'))).toMatchObject({ status: 401, error_code: 'UNAUTHORIZED', actor: null });
  });

  it('writes one line per engine action (event appended: type, workflow, run, actor, seq)', async () => {
    const res = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('act'), dsl: dsls.v1 });
    const id = (res.json as { id: string }).id;
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/pause`);
    const events = records().filter((r) => r.msg === 'event appended' && r.workflow_id === id);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['workflow_created', 'workflow_paused']));
    const paused = events.find((e) => e.event === 'workflow_paused')!;
    expect(paused).toMatchObject({ actor: 'operator', run_id: null });
    expect(typeof paused.seq).toBe('number');
  });

  it('never writes a token or secret: Authorization headers, ?token= and fields named token/secret/password are redacted', async () => {
    const created = await api(s.url, s.tokens.admin, 'POST', '/api/v1/tokens', { name: 'logged', role: 'viewer' });
    const issued = (created.json as { token: string }).token;
    await api(s.url, issued, 'GET', '/api/v1/whoami');
    await api(s.url, undefined, 'GET', `/api/v1/workflows?token=${s.tokens.admin}`);
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream?token=${encodeURIComponent(s.tokens.viewer)}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
    const bad = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream?token=not-a-real-token-0123456789`);
    await new Promise<void>((resolve) => bad.once('error', () => resolve()));
    const captured = lines.join('\n');
    expect(captured).toContain('/api/v1/events/stream');
    for (const secret of [s.tokens.admin, s.tokens.operator, s.tokens.viewer, issued, 'not-a-real-token-0123456789']) expect(captured).not.toContain(secret);
    expect(captured).toContain('token=[Redacted]');
  });

  it('redacts any field named token, secret or password, and ?token= values in URLs', () => {
    const out: string[] = [];
    const logger = createLogger({ write: (l) => out.push(l) });
    logger.info({ token: 't0k3n', nested: { secret: 's3cr3t', deeper: { password: 'p4ss' } }, headers: { authorization: 'Bearer abc' } }, 'x');
    expect(out.join('')).not.toMatch(/t0k3n|s3cr3t|p4ss|Bearer abc/);
    expect(redactUrl('/s?after=3&token=abc&x=1')).toBe('/s?after=3&token=[Redacted]&x=1');
  });

  it('--log-format text: one readable line per record, control characters escaped', () => {
    const out: string[] = [];
    const logger = createLogger({ format: 'text', write: (l) => out.push(l) });
    logger.info({ req_id: 'r1', route: '/api/v1/workflows', status: 200, actor: 'evil\u001b[2J' }, 'request');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ INFO {2}request req_id=r1 route=\/api\/v1\/workflows status=200 actor=evil\\x1b\[2J$/);
    expect(textLine('{"level":50,"time":"t","msg":"m","k":"a b"}')).toBe('t ERROR m k="a b"');
  });
});

describe('workflow server CLI: --log-format and --log-level', () => {
  it('json when not a terminal, at the level asked for; bad values exit 2', async () => {
    const dir = tempDir('rewind-logcli-');
    const token = 'log-cli-admin-token-0123456789abcdef';
    const child = await spawnServer(['--db', join(dir, 'a.db'), '--port', '0', '--log-level', 'info'], { REWIND_ADMIN_TOKEN: token });
    try {
      await api(child.url, token, 'GET', '/api/v1/workflows', undefined, { 'x-request-id': 'cli-req-1' });
      const line = () =>
        child
          .output()
          .split('\n')
          .find((l) => l.includes('cli-req-1'));
      // The line is written as the answer finishes; the client may read the answer first.
      await eventually(() => line() !== undefined, 10_000, 'the request line');
      expect(JSON.parse(line()!)).toMatchObject({ msg: 'request', route: '/api/v1/workflows', status: 200, actor: 'admin' });
      expect(child.output()).not.toContain(token);
    } finally {
      await killHard(child);
    }
    await expect(spawnServer(['--db', join(dir, 'b.db'), '--port', '0', '--log-format', 'xml'], {}, 20_000)).rejects.toThrow(/exited \(2\)[\s\S]*--log-format/);
  }, 120_000);
});
