import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../../main/server/routes.js';
import { type ErrorCode, errorCodes, httpStatusOf } from '../../../preload/contract/index.js';
import { type TestServer, dsls, startServer, uniqueName } from './harness.js';

const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const anyText = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

/** Random bodies, params, headers and paths against every route: only 4xx JSON errors, never a 5xx; the server keeps serving. */
describe('workflow server: fuzz', () => {
  let s: TestServer;
  let real: Record<string, string>;

  beforeAll(async () => {
    s = await startServer();
    const wf = await s.backend.call('workflows:create', { name: uniqueName('fuzz'), dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    const run = await s.backend.call('runs:start', { workflow_id: wf.id, wait: true });
    real = { workflow_id: wf.id, run_id: run.run_id, version: '1', from: '1', to: '2', seq: '1' };
  });
  afterAll(async () => {
    await s.close();
  });

  const fieldNames = [...new Set(routes.flatMap((r) => [...r.fields.keys()]))];
  const segmentValue = (param: string) =>
    fc.oneof(
      fc.constant(real[param] ?? 'x'),
      fc.integer({ min: -5, max: 1e12 }).map(String),
      anyText(30).filter((t) => t.length > 0).map(encodeURIComponent),
      fc.constantFrom('..', '%00', '%E0%A4%A', '%2F', 'null', '1e309', '-0', ' '),
    );
  const routedPath = fc.constantFrom(...routes).chain((route) =>
    fc.tuple(...route.segments.map((seg) => ('literal' in seg ? fc.constant(seg.literal) : segmentValue(seg.param)))).map((parts) => `/${parts.join('/')}`),
  );
  const path = fc.oneof(
    { weight: 6, arbitrary: routedPath },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.constantFrom('/health', '/metrics', '/api/v1/tokens', '/api/v1/tokens/x', '/api/v1/whoami', '/api/v1/events/stream', '/', '//x', '/api/v1/') },
  );
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(dsls.v1, dsls.v3, { nodes: [] }, -1, 0, 1e308, '__proto__'));
  const objectBody = fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames, '__proto__', 'constructor'), printable(12)), value, { maxKeys: 6 });
  const body = fc.oneof(
    fc.constant(undefined),
    objectBody.map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    anyText(200),
  );
  const query = fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), printable(8)), fc.oneof(printable(12), fc.integer().map(String)), { maxKeys: 4 });
  const headers = fc.record(
    {
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('admin', 'operator', 'viewer').map((r) => `Bearer ${s.tokens[r as 'admin']}`) },
        { weight: 1, arbitrary: printable(60) },
      ),
      'if-match': fc.oneof(printable(20), fc.nat().map((n) => `"${n}"`), fc.constant('*')),
      'idempotency-key': printable(220),
      'content-type': fc.constantFrom('application/json', 'text/plain', 'application/merge-patch+json', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
      accept: printable(30),
    },
    { requiredKeys: [] },
  );
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    path,
    query,
    body,
    headers,
  });

  it('answers every random request with 2xx or a 4xx JSON error whose status matches its code', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const qs = new URLSearchParams(r.query).toString();
        const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        const res = await fetch(`${s.url}${r.path}${qs ? `?${qs}` : ''}`, {
          method: r.method,
          headers: r.headers,
          ...(withBody ? { body: r.body } : {}),
        });
        const text = await res.text();
        expect(res.status).toBeLessThan(500);
        if (r.method === 'HEAD') return;
        if (res.status >= 400) {
          const parsed = JSON.parse(text) as { error: { code: ErrorCode; message: string; hint: string } };
          expect(Object.keys(errorCodes)).toContain(parsed.error.code);
          expect(httpStatusOf(parsed.error.code)).toBe(res.status);
          expect(parsed.error.hint.length).toBeGreaterThan(0);
        } else if (!r.path.startsWith('/metrics')) {
          expect(() => JSON.parse(text) as unknown).not.toThrow();
        }
      }),
      { numRuns: 1500, seed: 20260122 },
    );
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect((await fetch(`${s.url}/api/v1/workflows`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } })).status).toBe(200);
  });

  it('answers garbage on the wire with a 4xx JSON error or a closed socket, and keeps serving', async () => {
    const { port } = new URL(s.url);
    const raw = fc.oneof(
      anyText(300),
      fc.tuple(printable(10), printable(40)).map(([m, p]) => `${m} ${p} HTTP/1.1\r\nHost: x\r\n\r\n`),
      fc.nat(100).map((n) => `GET /api/v1/workflows HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n * 1000)}\r\n\r\n`),
      fc.constant('POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello'),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (payload) => {
        const answer = await new Promise<string>((resolve) => {
          const sock = net.connect(Number(port), '127.0.0.1');
          let data = '';
          sock.setTimeout(2000, () => sock.destroy());
          sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
          sock.on('close', () => resolve(data));
          sock.on('error', () => resolve(data));
          sock.end(payload);
        });
        if (answer === '') return;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        expect(status).toBeLessThan(500);
        if (status >= 400) {
          const bodyText = answer.slice(answer.indexOf('\r\n\r\n') + 4);
          expect((JSON.parse(bodyText) as { error: { code: string } }).error.code).toBeTruthy();
        }
      }),
      { numRuns: 80, seed: 4242 },
    );
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });
});
