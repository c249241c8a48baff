import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RemoteOptions } from '../../../main/ipc/connections/connection-manager.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { startWebConsole, type WebConsole } from '../../../main/web/web-console.js';
import { webServerMessageSchema, type WebServerMessage } from '../../../preload/contract/index.js';
import { startServer } from '../server/harness.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-web-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in for out/renderer, plus a file beside it that no URL may reach. */
function fakeRenderer(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'renderer/assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer/index.html'), '<!doctype html><title>Rewind</title>');
  writeFileSync(join(dir, 'renderer/assets/app-1.js'), 'console.log(1)');
  writeFileSync(join(dir, 'renderer/assets/app-1.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  return join(dir, 'renderer');
}

async function start(): Promise<WebConsole> {
  const dir = tempDir();
  const web = await startWebConsole({
    port: 0,
    sandboxPath: join(dir, 'sandbox.db'),
    connectionsDir: dir,
    timeScale: 0,
    rendererDir: fakeRenderer(),
    createRemote: (_: RemoteOptions) => {
      throw new Error('no remote in this test');
    },
  });
  cleanups.push(() => web.close());
  return web;
}

/** Raw HTTP, so the path reaches the server exactly as written (no client-side normalisation). */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function rpcUrl(web: WebConsole, token = web.token) {
  return `ws://127.0.0.1:${web.port}/rpc?token=${encodeURIComponent(token)}`;
}

/** The HTTP status a refused upgrade answered, or 101 when it was accepted. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((done) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      done(101);
    });
    ws.on('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

class Client {
  readonly messages: WebServerMessage[] = [];
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const parsed = webServerMessageSchema.parse(JSON.parse(data.toString()));
      this.messages.push(parsed);
    });
  }
  static async open(url: string, origin?: string): Promise<Client> {
    const ws = new WebSocket(url, origin ? { headers: { Origin: origin } } : {});
    await new Promise((ok, fail) => {
      ws.once('open', ok);
      ws.once('error', fail);
    });
    const client = new Client(ws);
    cleanups.push(() => ws.terminate());
    return client;
  }
  async call(method: string, input: unknown): Promise<unknown> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, input }));
    const found = await this.waitFor((m) => 'id' in m && m.id === id);
    return 'result' in found ? found.result : undefined;
  }
  async waitFor(match: (m: WebServerMessage) => boolean, timeoutMs = 5000): Promise<WebServerMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error('timed out waiting for a message');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe('browser mode server', () => {
  it('serves the renderer with its MIME types and security headers, and nothing outside it', async () => {
    const web = await start();
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const index = await get(web.port, `/?token=${web.token}`);
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain(`ws://127.0.0.1:${web.port}`);
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(web.port, '/assets/app-1.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(web.port, '/assets/app-1.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(web.port, '/index.html', {}, 'HEAD')).status).toBe(200);

    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/assets%00/app-1.js', '/missing.js']) {
      const res = await get(web.port, path);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('outside the root');
    }
    expect((await get(web.port, '/', {}, 'POST')).status).toBe(405);
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 is refused.
    expect((await get(web.port, '/', { Host: `evil.example:${web.port}` })).status).toBe(403);
  });

  it('finishes at /callback only a sign-in this console started, and never shows its token to anyone else', async () => {
    const web = await start();
    const forged = await get(web.port, '/callback?code=stolen&state=made-up', { host: `127.0.0.1:${web.port}` });
    expect(forged.status).toBe(400);
    expect(forged.body).toContain('The sign-in did not complete');
    expect(forged.body).not.toContain(web.token);
    expect((await get(web.port, '/callback?code=x&state=y', { host: 'evil.example' })).status).toBe(403);
  });

  it('requires the token, our Origin and the /rpc path for the WebSocket', async () => {
    const web = await start();
    const base = `ws://127.0.0.1:${web.port}`;
    expect(await upgradeStatus(`${base}/rpc`)).toBe(401);
    expect(await upgradeStatus(rpcUrl(web, 'x'.repeat(43)))).toBe(401);
    expect(await upgradeStatus(rpcUrl(web, `${web.token}x`))).toBe(401);
    expect(await upgradeStatus(`${base}/other?token=${web.token}`)).toBe(404);
    expect(await upgradeStatus(rpcUrl(web), { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(rpcUrl(web), { Origin: `http://localhost:${web.port}` })).toBe(101);
    expect(await upgradeStatus(rpcUrl(web))).toBe(101);
  });

  it('answers console calls, pushes events to every client, and closes on a malformed frame', async () => {
    const web = await start();
    const a = await Client.open(rpcUrl(web), `http://127.0.0.1:${web.port}`);
    const b = await Client.open(rpcUrl(web));

    const list = (await a.call('workflows:list', { query: 'ml-training' })) as { ok: true; value: { workflows: Array<{ id: string; revision: number }> } };
    expect(list.ok).toBe(true);
    const ml = list.value.workflows[0];
    if (!ml) throw new Error('no demo workflow');
    expect(await a.call('versions:rollback', { workflow_id: ml.id, version: 0 })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await a.call('nope:nope', {})).toMatchObject({ ok: false, error: { code: 'MALFORMED_REQUEST' } });

    expect(await a.call('versions:rollback', { workflow_id: ml.id, version: 3 })).toMatchObject({ ok: true, value: { version: 3 } });
    const pushed = (m: WebServerMessage) =>
      'event' in m && m.event === 'events:appended' && (m.payload as { event: { type: string } }).event.type === 'workflow_rollback';
    await a.waitFor(pushed);
    await b.waitFor(pushed);

    const closed = new Promise<number>((r) => b.ws.once('close', (code) => r(code)));
    b.ws.send('{"id": "one"}');
    expect(await closed).toBe(1008);
  });
});

/** Raw bytes of a GET, for files that are not text. */
function getBytes(port: number, path: string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('browser mode server: snapshot downloads', () => {
  it('serves a snapshot this console took as a file download, with the token, and no other file', async () => {
    const server = await startServer({ demo: true });
    cleanups.push(() => server.close());
    const dir = tempDir();
    const web = await startWebConsole({ port: 0, sandboxPath: join(dir, 'sandbox.db'), connectionsDir: dir, timeScale: 0, rendererDir: fakeRenderer(), createRemote: createRemoteBackend });
    cleanups.push(() => web.close());
    const client = await Client.open(rpcUrl(web));
    const added = (await client.call('connections:add', { name: 'Prod', url: server.url, token: server.tokens.operator })) as { ok: true; value: { id: string } };
    expect(added.ok).toBe(true);

    // What the browser-mode dialog sends: a folder beside the sandbox; the console names the file.
    const taken = (await client.call('snapshots:create', { connection_id: added.value.id, path: join(dir, 'snapshots') + '/', runs: 5 })) as { ok: true; value: { path: string } };
    expect(taken).toMatchObject({ ok: true, value: { path: expect.stringMatching(/snapshots\/snapshot-127\.0\.0\.1-\d+-\d{8}T\d{6}Z\.db$/) } });
    const name = taken.value.path.slice(taken.value.path.lastIndexOf('/') + 1);

    const res = await getBytes(web.port, `/download/snapshot/${encodeURIComponent(name)}?token=${web.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
    expect(res.headers['content-type']).toBe('application/vnd.sqlite3');
    expect(res.body.subarray(0, 15).toString()).toBe('SQLite format 3');
    expect(res.body.equals(readFileSync(taken.value.path))).toBe(true);

    expect((await get(web.port, `/download/snapshot/${name}`)).status).toBe(401);
    expect((await get(web.port, `/download/snapshot/${name}?token=${'x'.repeat(43)}`)).status).toBe(401);
    // Only files this console took: not the sandbox beside them, not a way out of the folder.
    for (const other of ['sandbox.db', '..%2Fsandbox.db', '%2e%2e%2fsandbox.db', 'nope.db', '%E0%A4%A']) {
      const refused = await get(web.port, `/download/snapshot/${other}?token=${web.token}`);
      expect(refused.status, other).toBe(404);
    }
    expect((await get(web.port, `/download/snapshot/${name}?token=${web.token}`, { Host: `evil.example:${web.port}` })).status).toBe(403);
  });
});

describe('browser mode server: JSON depth', () => {
  it('answers a call nested 5,000 deep with MALFORMED_REQUEST naming the path, and keeps serving', async () => {
    const web = await start();
    const client = await Client.open(rpcUrl(web));
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    // Sent as text: JSON.stringify of such a value would overflow the stack in the test itself.
    client.ws.send(`{"id":7,"method":"runs:start","input":{"workflow_id":"x","params":{"p":${deep}}}}`);
    const answer = await client.waitFor((m) => 'id' in m && m.id === 7);
    expect('result' in answer && answer.result).toMatchObject({ ok: false, error: { code: 'MALFORMED_REQUEST', details: { max_depth: 64 } } });
    expect(JSON.stringify(answer)).toContain('params.p.0.0');
    expect(await client.call('workflows:list', {})).toMatchObject({ ok: true });
  });
});

describe('npm run web', () => {
  it('prints the console address on a line of its own and serves it', async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'main/web/cli.ts', '--port', '0', '--sandbox', join(dir, 's.db'), '--connections-dir', dir, '--time-scale', '0'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    const line = await new Promise<string>((done, fail) => {
      createInterface({ input: child.stdout }).on('line', done);
      child.once('exit', (code) => fail(new Error(`exited with ${code}`)));
    });
    const match = /^Rewind console: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=[A-Za-z0-9_-]+)$/.exec(line);
    expect(match, line).not.toBeNull();
    const status = await upgradeStatus(`ws://127.0.0.1:${match?.[2]}/rpc?token=${new URL(match?.[1] ?? '').searchParams.get('token')}`);
    expect(status).toBe(101);
  });
});
