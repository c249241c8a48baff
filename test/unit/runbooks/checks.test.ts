import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../main/backends/backend.js';
import { evaluateCheck, metricValue, parsePrometheus } from '../../../main/runbooks/checks.js';

/* The HTTP and /metrics checks against a real server on 127.0.0.1, as seed 003's validation script probes. */

const scrape = (fiveXx: number, runsFailed: number, slowShare: number) => `# HELP rewind_http_requests_total HTTP requests.
# TYPE rewind_http_requests_total counter
rewind_http_requests_total{route="/api/v1/workflows",method="GET",status="200"} 95
rewind_http_requests_total{route="/api/v1/runs",method="POST",status="503"} ${fiveXx}
rewind_http_request_duration_seconds_bucket{le="0.1",route="/a",method="GET"} ${100 - slowShare}
rewind_http_request_duration_seconds_bucket{le="1",route="/a",method="GET"} 100
rewind_http_request_duration_seconds_bucket{le="+Inf",route="/a",method="GET"} 100
rewind_runs{status="succeeded"} 8
rewind_runs{status="failed"} ${runsFailed}
rewind_runs{status="running"} 4
`;

let server: Server;
let base = '';
let metrics = scrape(5, 2, 0);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', checks: { db: 'up' } }));
    if (req.url === '/broken') return void res.writeHead(503).end('down');
    if (req.url === '/text') return void res.writeHead(200).end('<html></html>');
    if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(metrics);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// The HTTP checks never touch the backend.
const noBackend = {} as Backend;

describe('http check', () => {
  it('passes on the expected status and field value, and says what it saw', async () => {
    expect(await evaluateCheck(noBackend, { type: 'http', url: `${base}/health`, expect_status: 200, field: 'checks.db', equals: 'up' })).toEqual({
      ok: true,
      detail: `${base}/health answered 200, checks.db = "up"`,
    });
  });

  it('fails on another status, a different value, a missing field or a body that is not JSON', async () => {
    expect(await evaluateCheck(noBackend, { type: 'http', url: `${base}/broken`, expect_status: 200 })).toEqual({ ok: false, detail: `${base}/broken answered 503, expected 200` });
    expect(await evaluateCheck(noBackend, { type: 'http', url: `${base}/health`, expect_status: 200, field: 'status', equals: 'healthy' })).toEqual({
      ok: false,
      detail: 'status is "ok", expected "healthy"',
    });
    expect((await evaluateCheck(noBackend, { type: 'http', url: `${base}/health`, expect_status: 200, field: 'version' })).detail).toMatch(/without the field version$/);
    expect((await evaluateCheck(noBackend, { type: 'http', url: `${base}/text`, expect_status: 200, field: 'status' })).detail).toMatch(/body is not JSON/);
  });

  it('throws UNREACHABLE when nothing listens', async () => {
    await expect(evaluateCheck(noBackend, { type: 'http', url: 'http://127.0.0.1:1/health', expect_status: 200 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});

describe('metrics check', () => {
  it('computes the 5xx rate, the run failure rate and p95 latency from a scrape', () => {
    const samples = parsePrometheus(scrape(5, 2, 10));
    expect(metricValue(samples, '5xx_rate')).toBeCloseTo(0.05);
    expect(metricValue(samples, 'failure_rate')).toBeCloseTo(0.2);
    // 90 of 100 under 100 ms; the 95th lies half-way through the 0.1–1 s bucket.
    expect(metricValue(samples, 'p95_latency_ms')).toBeCloseTo(550);
    expect(metricValue(parsePrometheus(''), '5xx_rate')).toBeNull();
  });

  it("fires seed 003's triggers: 5xx above 5 %, failure rate above 20 %", async () => {
    metrics = scrape(1, 1, 0);
    expect((await evaluateCheck(noBackend, { type: 'metrics', url: `${base}/metrics`, metric: '5xx_rate', below: 0.05 })).ok).toBe(true);
    expect(await evaluateCheck(noBackend, { type: 'metrics', url: `${base}/metrics`, metric: 'failure_rate', below: 0.2 })).toEqual({ ok: true, detail: 'failure_rate 11.1 % (threshold 20 %)' });
    metrics = scrape(10, 3, 10);
    expect(await evaluateCheck(noBackend, { type: 'metrics', url: `${base}/metrics`, metric: '5xx_rate', below: 0.05 })).toEqual({ ok: false, detail: '5xx_rate 9.5 % (threshold 5 %)' });
    expect((await evaluateCheck(noBackend, { type: 'metrics', url: `${base}/metrics`, metric: 'failure_rate', below: 0.2 })).ok).toBe(false);
    expect(await evaluateCheck(noBackend, { type: 'metrics', url: `${base}/metrics`, metric: 'p95_latency_ms', below: 500 })).toEqual({ ok: false, detail: 'p95_latency_ms 550 ms (threshold 500 ms)' });
  });

  it('passes with a note when nothing is recorded yet, as the seed script does', async () => {
    metrics = '';
    expect(await evaluateCheck(noBackend, { type: 'metrics', url: `${base}/metrics`, metric: '5xx_rate', below: 0.05 })).toEqual({ ok: true, detail: '5xx_rate: nothing recorded yet' });
  });
});
