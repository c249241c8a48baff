import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../../main/backends/remote/index.js';
import { evaluateCheck } from '../../../main/runbooks/checks.js';
import { type TestServer, startServer } from '../server/harness.js';

describe('runbook checks against a Rewind server use the connection’s token', () => {
  let s: TestServer;
  let remote: RemoteBackend;
  beforeAll(async () => {
    s = await startServer({ demo: true });
    remote = new RemoteBackend({ url: s.url, token: s.tokens.viewer });
  });
  afterAll(async () => {
    await remote.close();
    await s.close();
  });

  it('reads our own /metrics (seed 003’s triggers), which answers 401 without a token', async () => {
    await remote.call('workflows:list', {});
    const unauthenticated = await fetch(`${s.url}/metrics`);
    expect(unauthenticated.status).toBe(401);
    const fiveXx = await evaluateCheck(remote, { type: 'metrics', url: `${s.url}/metrics`, metric: '5xx_rate', below: 0.05 });
    expect(fiveXx).toEqual({ ok: true, detail: expect.stringMatching(/^5xx_rate 0 % \(threshold 5 %\)$/) });
    const failures = await evaluateCheck(remote, { type: 'metrics', url: `${s.url}/metrics`, metric: 'failure_rate', below: 0.99 });
    expect(failures.detail).toMatch(/^failure_rate \d/);
  });

  it('an http check of the server’s own route is authenticated too', async () => {
    const whoami = await evaluateCheck(remote, { type: 'http', url: `${s.url}/api/v1/whoami`, expect_status: 200, field: 'role', equals: 'viewer' });
    expect(whoami).toEqual({ ok: true, detail: expect.stringContaining('role = "viewer"') });
  });

  it('never sends the token to another origin', async () => {
    const seen: Array<string | undefined> = [];
    const other = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}/health`;
      expect(await evaluateCheck(remote, { type: 'http', url, expect_status: 200, field: 'status', equals: 'ok' })).toMatchObject({ ok: true });
      expect(seen).toEqual([undefined]);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
