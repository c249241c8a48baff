import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { consoleMethods, webCallSchema, type ApiResult, type WebServerMessage } from '../../preload/contract/index.js';
import type { CreateRemote } from '../ipc/connections/connection-manager.js';
import { createRemoteBackend } from '../ipc/connections/remote-factory.js';
import { openConsole } from '../ipc/open-console.js';
import { toErrorData } from '../engine/errors.js';
import { contentSecurityPolicy } from './csp.js';
import { resolveStatic } from './static-files.js';

export interface WebConsoleOptions {
  /** 0 picks a free port. */
  port: number;
  sandboxPath: string;
  connectionsDir: string;
  /** Default: the real workflow-server client. */
  createRemote?: CreateRemote;
  /** Real ms slept per simulated ms of node work in the sandbox. */
  timeScale?: number;
  /** Seed the demo workflows into an empty sandbox (default true). */
  demo?: boolean;
  /** The built renderer (default: out/renderer of this checkout). */
  rendererDir?: string;
  /** Workflows as code in the sandbox: a folder kept in line with its CODE workflows (the server's --code-dir). */
  codeDir?: string;
}

export interface WebConsole {
  /** `http://127.0.0.1:PORT/?token=…`: the address to open. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Calls are small JSON objects; the largest is a DSL of 500 nodes. */
const MAX_PAYLOAD = 1024 * 1024;
const HEARTBEAT_MS = 30_000;
/** `GET /download/snapshot/<file name>?token=…`: a snapshot this console took, as a file download. */
export const SNAPSHOT_ROUTE = '/download/snapshot/';
/** Where the identity provider sends the page back after "Sign in with SSO" (a loopback redirect, as the desktop's). */
export const SIGN_IN_CALLBACK_ROUTE = '/callback';

/**
 * Browser mode: the built renderer over HTTP and the console API over one WebSocket (`/rpc?token=…`),
 * on 127.0.0.1 only. The token is random per start; the Host header is checked on every request
 * (DNS rebinding) and the Origin on the upgrade (other sites' pages).
 */
export async function startWebConsole(options: WebConsoleOptions): Promise<WebConsole> {
  const rendererDir = options.rendererDir ?? fileURLToPath(new URL('../../out/renderer/', import.meta.url));
  const token = randomBytes(32).toString('base64url');
  const tokenDigest = sha256(token);
  const opened = await openConsole({
    sandbox: {
      path: options.sandboxPath,
      demo: options.demo ?? true,
      timeScale: options.timeScale,
      ...(options.codeDir === undefined ? {} : { codeDir: options.codeDir, codeLog: (_level, message) => process.stderr.write(`${message}\n`) }),
    },
    connectionsDir: options.connectionsDir,
    createRemote: options.createRemote ?? createRemoteBackend,
    // The page goes to the provider and comes back here; the provider accepts any loopback port (RFC 8252).
    sso: { kind: 'redirect', callbackUrl: () => `http://${HOST}:${port}${SIGN_IN_CALLBACK_ROUTE}` },
  });
  const { connections, service } = opened;

  let port = options.port;
  const allowedHosts = () => new Set([`${HOST}:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://${HOST}:${port}`, `http://localhost:${port}`]);
  const headers = () => ({
    'Content-Security-Policy': contentSecurityPolicy({ connect: [`ws://${HOST}:${port}`, `ws://localhost:${port}`] }),
    'X-Content-Type-Options': 'nosniff',
    // The page's address carries the token: never send it on as a referrer.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  });

  /**
   * The snapshots this console took, by file name: the only files its download route serves, so a
   * page can fetch what it asked for and nothing else of the machine's files.
   */
  const downloads = new Map<string, string>();
  const remember = (method: string, result: ApiResult<unknown>) => {
    if (method !== 'snapshots:create' || !result.ok) return;
    const taken = consoleMethods['snapshots:create'].output.safeParse(result.value);
    if (taken.success) downloads.set(basename(taken.data.path), taken.data.path);
  };

  const serveSnapshot = async (url: URL, res: ServerResponse, head: boolean) => {
    // A download is a navigation, which cannot carry headers: the token rides in the query, as on /rpc.
    if (!timingSafeEqual(sha256(url.searchParams.get('token') ?? ''), tokenDigest)) return plain(res, 401, 'Unauthorized.\n');
    const name = decodeName(url.pathname.slice(SNAPSHOT_ROUTE.length));
    const file = name === null ? undefined : downloads.get(name);
    const size = file ? await stat(file).then((s) => (s.isFile() ? s.size : null), () => null) : null;
    if (!file || name === null || size === null) return plain(res, 404, 'No such snapshot: take it from this console first.\n');
    res.writeHead(200, {
      ...headers(),
      'Content-Type': 'application/vnd.sqlite3',
      'Content-Length': size,
      'Content-Disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    });
    if (head) return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  /**
   * The provider's answer to a sign-in this console started: finished in the console (the refresh token
   * kept, the connection signed in), then the page goes back to the console. Only a callback that answers
   * a pending sign-in (its unguessable state) is shown the way back with the console's token.
   */
  const serveSignInCallback = async (url: URL, res: ServerResponse) => {
    try {
      await connections.completeSignIn(url);
      res.writeHead(303, { ...headers(), Location: `/?token=${encodeURIComponent(token)}` });
      res.end();
    } catch (err) {
      const data = toErrorData(err);
      const back = data.details?.started_here === true ? `<p><a href="/?token=${encodeURIComponent(token)}">Back to the console</a></p>` : '';
      const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head><body><h1>The sign-in did not complete</h1><p>${escapeHtml(data.message)}</p><p>${escapeHtml(data.hint)}</p>${back}</body></html>`;
      res.writeHead(400, { ...headers(), 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts().has(req.headers.host ?? '')) return plain(res, 403, 'Unknown host.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'Method not allowed.\n');
    }
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    if (url.pathname.startsWith(SNAPSHOT_ROUTE)) return serveSnapshot(url, res, req.method === 'HEAD');
    if (url.pathname === SIGN_IN_CALLBACK_ROUTE && req.method === 'GET') return serveSignInCallback(url, res);
    const path = url.pathname;
    const file = await resolveStatic(rendererDir, path);
    if (!file) {
      const built = await resolveStatic(rendererDir, '/index.html');
      return plain(res, 404, built ? 'Not found.\n' : 'The console is not built yet: run `npm run build`, then restart.\n');
    }
    res.writeHead(200, { ...headers(), 'Content-Type': file.type, 'Content-Length': file.size });
    if (req.method === 'HEAD') return res.end();
    file.open().on('error', () => res.destroy()).pipe(res);
  };

  const server = createServer((req, res) => {
    serveStatic(req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'Internal error.\n');
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  const alive = new WeakMap<WebSocket, boolean>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const origin = req.headers.origin;
    if (url.pathname !== '/rpc') return refuse(socket, 404, 'Not Found');
    if (!allowedHosts().has(req.headers.host ?? '') || (origin !== undefined && !allowedOrigins().has(origin))) {
      return refuse(socket, 403, 'Forbidden');
    }
    // Compare digests: constant time, and no early exit on a length difference.
    if (!timingSafeEqual(sha256(url.searchParams.get('token') ?? ''), tokenDigest)) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return ws.close(1003, 'Text frames only.');
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return ws.close(1007, 'Not JSON.');
      }
      const call = webCallSchema.safeParse(raw);
      if (!call.success) return ws.close(1008, 'Not a console call.');
      const { id, method, input } = call.data;
      void service.handle(method, input).then((result) => {
        remember(method, result);
        send(ws, { id, result });
      });
    });
  });

  const stopPushes = connections.onPush((event, payload) => {
    for (const ws of wss.clients) send(ws, { event, payload });
  });
  // Liveness, one timer: a client that did not answer the last ping is gone.
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(heartbeat);
    await opened.close();
    throw err;
  }
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        stopPushes();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await opened.close();
      })()),
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function send(ws: WebSocket, message: WebServerMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function decodeName(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
