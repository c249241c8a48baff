import { getEventListeners } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpParamsSchema } from '../../../../main/engine/dsl/node-params.js';
import { runHttpNode } from '../../../../main/engine/executor/http-node.js';
import type { RealNodeContext } from '../../../../main/engine/executor/real-node.js';
import { envSecrets, staticSecrets } from '../../../../main/engine/executor/secrets.js';
import { localService } from './local-service.js';

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const SECRET = 's3cr3t-Tok/en+=';

function ctx(over: Partial<RealNodeContext> = {}): RealNodeContext {
  return {
    context: { batch: { id: 42, name: 'b-42' }, outputs: {} },
    secrets: staticSecrets({ API_TOKEN: SECRET }),
    runId: 'run-1',
    nodeId: 'inspect',
    signal: new AbortController().signal,
    ...over,
  };
}

const params = (p: Record<string, unknown>) => httpParamsSchema.parse(p);

describe('http node', () => {
  let svc: Awaited<ReturnType<typeof localService>>;
  let flaky = 0;
  beforeAll(async () => {
    svc = await localService({
      '/inspect': (_req, res, seen) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ defect_rate: 0.02, echoed_auth: seen.headers.authorization, body: seen.body }));
      },
      '/text': (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('all good'),
      '/boom': (_req, res) => void res.writeHead(500).end('database on fire'),
      '/flaky': (_req, res) => {
        flaky += 1;
        if (flaky < 3) res.writeHead(503).end('busy');
        else res.writeHead(200).end('{"ok":true}');
      },
      '/hang': () => undefined,
      '/drip': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        const timer = setInterval(() => res.write(' '), 20);
        res.on('close', () => clearInterval(timer));
      },
      '/huge': (_req, res) => {
        // 50 MB, streamed without a length, as a hostile or broken service might.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 'x');
        let sent = 0;
        const pump = () => {
          while (sent < 50) {
            sent += 1;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
      },
    });
  });
  afterAll(() => svc.close());

  it('sends templated url, headers and JSON body with an Idempotency-Key; the JSON answer is the output, secrets redacted', async () => {
    const result = await runHttpNode(
      params({
        method: 'POST',
        url: `${svc.url}/inspect?batch={{ctx.batch.name}}`,
        headers: { Authorization: 'Bearer {{secret.API_TOKEN}}' },
        body: { batch: '{{ctx.batch.id}}', note: 'batch {{ctx.batch.name}}' },
      }),
      ctx(),
    );
    const seen = svc.seen.at(-1)!;
    expect(seen.url).toBe('/inspect?batch=b-42');
    expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen.headers['idempotency-key']).toBe('run-1/inspect/1');
    expect(JSON.parse(seen.body)).toEqual({ batch: 42, note: 'batch b-42' });
    expect(result).toEqual({ ok: true, output: { defect_rate: 0.02, echoed_auth: 'Bearer [secret:API_TOKEN]', body: seen.body } });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('keeps a non-JSON answer as {status, text}', async () => {
    expect(await runHttpNode(params({ method: 'GET', url: `${svc.url}/text` }), ctx())).toEqual({ ok: true, output: { status: 200, text: 'all good' } });
  });

  it('fails on a status outside expect_status, naming node, URL (secret redacted) and status', async () => {
    const result = await runHttpNode(params({ method: 'GET', url: `${svc.url}/boom?key={{secret.API_TOKEN}}` }), ctx());
    expect(result.ok).toBe(false);
    const error = (result as { error: string }).error;
    expect(error).toContain("HTTP node 'inspect'");
    expect(error).toContain(`GET ${svc.url}/boom?key=[secret:API_TOKEN]`);
    expect(error).toContain('status 500, expected 200–299');
    expect(error).toContain('database on fire');
    expect(error).not.toContain(SECRET);
    expect(error).not.toContain(encodeURIComponent(SECRET));
  });

  it('accepts a status expect_status lists', async () => {
    const result = await runHttpNode(params({ method: 'GET', url: `${svc.url}/boom`, expect_status: [500] }), ctx());
    expect(result).toEqual({ ok: true, output: { status: 500, text: 'database on fire' } });
  });

  it('retries with backoff, each attempt with its own Idempotency-Key', async () => {
    flaky = 0;
    const before = svc.seen.length;
    const result = await runHttpNode(params({ method: 'GET', url: `${svc.url}/flaky`, retries: 3, backoff_ms: 5 }), ctx());
    expect(result).toEqual({ ok: true, output: { ok: true } });
    expect(svc.seen.slice(before).map((s) => s.headers['idempotency-key'])).toEqual(['run-1/inspect/1', 'run-1/inspect/2', 'run-1/inspect/3']);
  });

  it('gives up after its retries and says how many attempts it made', async () => {
    const result = await runHttpNode(params({ method: 'GET', url: `${svc.url}/boom`, retries: 2, backoff_ms: 1 }), ctx());
    expect((result as { error: string }).error).toMatch(/status 500.*\(after 3 attempts\)/);
  });

  it('times out a service that never answers, and one that drips its answer', async () => {
    expect(await runHttpNode(params({ method: 'GET', url: `${svc.url}/hang`, timeout_ms: 150 }), ctx())).toEqual({
      ok: false,
      error: `HTTP node 'inspect': GET ${svc.url}/hang timed out after 150 ms.`,
    });
    expect(await runHttpNode(params({ method: 'GET', url: `${svc.url}/drip`, timeout_ms: 200 }), ctx())).toEqual({
      ok: false,
      error: `HTTP node 'inspect': GET ${svc.url}/drip timed out after 200 ms.`,
    });
  });

  it('cuts a 50 MB answer at the limit and fails the node clearly', async () => {
    const result = await runHttpNode(params({ method: 'GET', url: `${svc.url}/huge` }), ctx());
    expect(result).toEqual({ ok: false, error: `HTTP node 'inspect': GET ${svc.url}/huge answered 200 with a body over the 1048576-byte limit (cut there).` });
    const small = await runHttpNode(params({ method: 'GET', url: `${svc.url}/text` }), ctx({ limits: { maxResponseBytes: 4 } }));
    expect((small as { error: string }).error).toContain('over the 4-byte limit');
  });

  it('aborts an in-flight request on cancel', async () => {
    const cancel = new AbortController();
    const before = svc.seen.length;
    const pending = runHttpNode(params({ method: 'GET', url: `${svc.url}/hang`, timeout_ms: 60_000 }), ctx({ signal: cancel.signal }));
    while (svc.seen.length === before) await new Promise((r) => setTimeout(r, 5));
    cancel.abort();
    expect(await pending).toEqual({ ok: false, error: `HTTP node 'inspect': GET ${svc.url}/hang was cancelled.` });
  });

  it('leaves no listener on the run’s signal once its attempts end, however they end', async () => {
    // One signal serves every node of a run: an attempt that left its listener behind would pile them up.
    const run = new AbortController();
    await runHttpNode(params({ method: 'GET', url: `${svc.url}/text` }), ctx({ signal: run.signal }));
    await runHttpNode(params({ method: 'GET', url: `${svc.url}/boom` }), ctx({ signal: run.signal }));
    await runHttpNode(params({ method: 'GET', url: `${svc.url}/hang`, timeout_ms: 50 }), ctx({ signal: run.signal }));
    await runHttpNode(params({ method: 'GET', url: `http://127.0.0.1:${await closedPort()}/x` }), ctx({ signal: run.signal }));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('refuses a run value in the host of a version drafted before the rule, sending nothing', async () => {
    const before = svc.seen.length;
    const host = new URL(svc.url).host;
    const result = await runHttpNode(params({ method: 'GET', url: 'http://{{ctx.target}}/inspect' }), ctx({ context: { target: host, outputs: {} } }));
    expect(result.ok).toBe(false);
    expect((result as { error: string }).error).toContain("HTTP node 'inspect' refused to run (UNSAFE_TEMPLATE): the URL's host, port or userinfo holds the template {{ctx.target}}");
    expect(svc.seen.length).toBe(before);
  });

  it('keeps only the status and the read fields with redact_response, and quotes no body when it fails', async () => {
    const ok = await runHttpNode(params({ method: 'POST', url: `${svc.url}/inspect`, headers: { Authorization: 'rot13 {{secret.API_TOKEN}}' }, redact_response: true }), ctx({ keep: ['defect_rate', 'missing.field'] }));
    expect(ok).toEqual({ ok: true, output: { defect_rate: 0.02, status: 200 } });
    const whole = await runHttpNode(params({ method: 'POST', url: `${svc.url}/inspect`, redact_response: true }), ctx({ keep: ['', 'defect_rate'] }));
    expect(whole).toEqual({ ok: true, output: { defect_rate: 0.02, body: '' } });
    const failed = await runHttpNode(params({ method: 'GET', url: `${svc.url}/boom`, redact_response: true }), ctx({ keep: [] }));
    expect((failed as { error: string }).error).toContain('answered status 500, expected 200–299 (body not kept: redact_response)');
    expect((failed as { error: string }).error).not.toContain('database on fire');
  });

  it('fails a refused connection, and a missing secret naming the variable to set', async () => {
    const port = await closedPort();
    const refused = await runHttpNode(params({ method: 'GET', url: `http://127.0.0.1:${port}/x` }), ctx());
    expect(refused).toEqual({ ok: false, error: `HTTP node 'inspect': GET http://127.0.0.1:${port}/x could not be reached (ECONNREFUSED).` });
    const missing = await runHttpNode(params({ method: 'GET', url: `${svc.url}/text`, headers: { 'X-Key': '{{secret.NOT_SET}}' } }), ctx());
    expect(missing).toEqual({ ok: false, error: "HTTP node 'inspect': the secret 'NOT_SET' is not set: set the environment variable REWIND_SECRET_NOT_SET where the server runs." });
  });
});

describe('environment secrets', () => {
  it('gives only the non-empty REWIND_SECRET_ variables, read at use', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', REWIND_SECRET_API_TOKEN: SECRET, REWIND_SECRET_EMPTY: '', REWIND_SECRETS: 'not one' };
    const secrets = envSecrets(env);
    expect(secrets.all()).toEqual([['API_TOKEN', SECRET]]);
    expect(secrets.get('API_TOKEN')).toBe(SECRET);
    // A rotated variable counts at the next node, without reopening anything.
    env.REWIND_SECRET_API_TOKEN = 'rotated';
    env.REWIND_SECRET_DB = 'pw';
    expect(secrets.all()).toEqual([
      ['API_TOKEN', 'rotated'],
      ['DB', 'pw'],
    ]);
  });
});
