import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRollbackCommit } from './raw-rollback.js';
import WebSocket, { WebSocketServer } from 'ws';
import { type EngineBackend, openSandbox } from '../../main/backends/engine-backend.js';
import { flattenEvent } from '../../main/protocol/wire.js';
import { type RunningServer, createServer } from '../../main/server/server.js';
import { TokenStore } from '../../main/server/tokens.js';
import type { Dsl, RewindEvent } from '../../preload/contract/index.js';
import { type BenchResult, type BenchSuite, bareJsonServer, nowMs, percentile, result } from './lib.js';

/*
 * The workflow server against floors measured in the same run, on the same loopback and disk:
 * - rollback seen by a second client (request → commit → event on another socket) against a bare
 *   loopback HTTP round trip plus a raw durable commit of the same statements;
 * - one event's fan-out to 100 stream subscribers against a bare `ws` broadcast of a message of the same size;
 * - version-list requests per second from 16 concurrent clients against a bare node:http server
 *   answering the same JSON.
 * Clients and servers share this process (as do the floors), so the ratios compare like with like.
 */

const ROUNDS = 300;
const WARMUP = 20;
const SUBSCRIBERS = 100;
const FANOUT_ROUNDS = 200;
const CONCURRENCY = 16;
const RPS_SECONDS = 3;

function chain(n: number): Dsl {
  return {
    defaults: { rate: 0.02 },
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'task' as const, params: { duration_ms: 10 }, next: i + 1 < n ? [`n${i + 1}`] : [] })),
  };
}

interface Setup {
  /** When the last event committed, heard by a listener registered before the server's own. */
  commit: { at: number; event: RewindEvent | null };
  dir: string;
  backend: EngineBackend;
  server: RunningServer;
  token: string;
  workflowId: string;
}

async function setUp(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-server-'));
  const backend = await openSandbox({ path: join(dir, 'server.db'), timeScale: 0, actor: 'bench' });
  const tokens = new TokenStore(backend.engine);
  const { token } = await tokens.issue({ name: 'bench', role: 'admin', createdBy: 'bench' });
  const wf = await backend.call('workflows:create', { name: 'bench-rollback', dsl: chain(5) });
  for (let v = 2; v <= 20; v++) {
    await backend.call('versions:createDraft', { workflow_id: wf.id, change_log: `v${v}` });
    await backend.call('versions:publish', { workflow_id: wf.id, version: v });
  }
  const commit: Setup['commit'] = { at: 0, event: null };
  // Registered first, so it runs before the server's fan-out in the engine's post-commit notification.
  backend.subscribe({
    after: await backend.engine.latestSeq(),
    onEvent: (e) => {
      commit.at = nowMs();
      commit.event = e;
    },
  });
  const server = await createServer({
    backend,
    tokens,
    latestSeq: () => backend.engine.latestSeq(),
    schemaVersion: backend.engine.schemaVersion,
    port: 0,
    log: () => undefined,
  });
  return { commit, dir, backend, server, token, workflowId: wf.id };
}

function streamClient(url: string, token: string, onMessage: (seq: number, at: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/events/stream`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (data: Buffer) => onMessage((JSON.parse(data.toString()) as { seq: number }).seq, nowMs()));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function rollbackRoundTrip(s: Setup): Promise<BenchResult[]> {
  const waiting = new Map<number, (at: number) => void>();
  const early = new Map<number, number>();
  const observer = await streamClient(s.server.url, s.token, (seq, at) => {
    const w = waiting.get(seq);
    if (w) w(at);
    else early.set(seq, at);
  });
  // The floor: a bare loopback HTTP round trip with an answer of the same size, plus the raw commit.
  const answer = JSON.stringify({ success: true, message: 'Rolled back "bench-rollback" to v19 (was v20).', workflow_id: s.workflowId, version: 19, from_version: 20, seq: 1, revision: 1 });
  const bare = await bareJsonServer(answer);
  const bareUrl = bare.url;
  const raw = rawRollbackCommit(join(s.dir, 'raw.db'));

  // Interleaved round by round, so the disk's mood (fsync times wander) weighs on both sides alike.
  const samples: number[] = [];
  const httpSamples: number[] = [];
  const commitSamples: number[] = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const version = i % 2 === 0 ? 19 : 20;
    let t0 = nowMs();
    const res = await fetch(`${s.server.url}/api/v1/workflows/${s.workflowId}/versions/${version}/rollback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}` },
    });
    const { seq } = (await res.json()) as { seq: number };
    const seen = early.get(seq) ?? (await new Promise<number>((resolve) => waiting.set(seq, resolve)));
    waiting.delete(seq);
    early.delete(seq);
    if (i >= WARMUP) samples.push(seen - t0);
    t0 = nowMs();
    await (await fetch(bareUrl, { method: 'POST' })).text();
    if (i >= WARMUP) httpSamples.push(nowMs() - t0);
    t0 = nowMs();
    raw.commit(i);
    if (i >= WARMUP) commitSamples.push(nowMs() - t0);
  }
  observer.close();
  raw.close();
  await bare.close();

  const floor = (p: number) => percentile(httpSamples, p) + percentile(commitSamples, p);
  return [
    result('rollback seen by a 2nd client p50', percentile(samples, 50), 'ms', floor(50), { text: 'ratio ≤ 2', met: (r) => r <= 2 }),
    result('rollback seen by a 2nd client p99', percentile(samples, 99), 'ms', floor(99), { text: 'ratio ≤ 3', met: (r) => r <= 3 }),
  ];
}

/** Opens `n` clients; `arrive(at)` is called for each message each one receives. */
async function crowd(url: string, n: number, headers: Record<string, string>, arrive: (at: number) => void): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, { headers });
          ws.on('message', () => arrive(nowMs()));
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
}

async function fanOut(s: Setup): Promise<BenchResult[]> {
  let arrived = 0;
  let done: (at: number) => void = () => undefined;
  const arrive = (at: number) => {
    arrived += 1;
    if (arrived === SUBSCRIBERS) done(at);
  };
  const clients = await crowd(`${s.server.url.replace('http', 'ws')}/api/v1/events/stream`, SUBSCRIBERS, { authorization: `Bearer ${s.token}` }, arrive);
  const samples: number[] = [];
  for (let i = 0; i < FANOUT_ROUNDS + WARMUP; i++) {
    arrived = 0;
    const all = new Promise<number>((resolve) => (done = resolve));
    await s.backend.call('versions:rollback', { workflow_id: s.workflowId, version: i % 2 === 0 ? 19 : 20 });
    const last = await all;
    if (i >= WARMUP) samples.push(last - s.commit.at);
  }
  for (const c of clients) c.close();

  // Floor: a bare ws server sending a message of the same size to as many clients.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const bareClients = await crowd(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, SUBSCRIBERS, {}, arrive);
  const eventSize = JSON.stringify(flattenEvent(s.commit.event!)).length;
  const message = JSON.stringify({ pad: 'x'.repeat(eventSize) });
  const bareSamples: number[] = [];
  for (let i = 0; i < FANOUT_ROUNDS + WARMUP; i++) {
    arrived = 0;
    const all = new Promise<number>((resolve) => (done = resolve));
    const t0 = nowMs();
    for (const peer of wss.clients) peer.send(message);
    const last = await all;
    if (i >= WARMUP) bareSamples.push(last - t0);
  }
  for (const c of bareClients) c.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return [
    result(`event fan-out to ${SUBSCRIBERS} subscribers p50`, percentile(samples, 50), 'ms', percentile(bareSamples, 50)),
    result(`event fan-out to ${SUBSCRIBERS} subscribers p99`, percentile(samples, 99), 'ms', percentile(bareSamples, 99), { text: 'ratio ≤ 2', met: (r) => r <= 2 }),
  ];
}

/**
 * The load comes from a child process, so that the client's own work does not share the server's
 * thread: the figure is what the server (or the bare floor) can answer.
 */
const loadScript = `
const [url, header, concurrency, seconds] = process.argv.slice(1);
let count = 0;
const until = Date.now() + Number(seconds) * 1000;
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (Date.now() < until) {
    const res = await fetch(url, { headers: { authorization: header } });
    await res.arrayBuffer();
    if (res.status === 200) count += 1;
  }
}));
process.stdout.write(String(count / Number(seconds)));
`;

async function hammer(url: string, authorization: string): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', loadScript, url, authorization, String(CONCURRENCY), String(RPS_SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return Number(out);
}

async function versionListRate(s: Setup): Promise<BenchResult[]> {
  const url = `${s.server.url}/api/v1/workflows/${s.workflowId}/versions`;
  const authorization = `Bearer ${s.token}`;
  const body = await (await fetch(url, { headers: { authorization } })).text();
  const rewind = await hammer(url, authorization);
  const bare = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  const bareRate = await hammer(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`, authorization);
  await bare.close();
  return [result(`version list (20 versions) requests/s, ${CONCURRENCY} clients`, rewind, 'req/s', bareRate)];
}

export const serverSuite: BenchSuite = {
  name: 'server',
  async run() {
    const s = await setUp();
    try {
      return [...(await rollbackRoundTrip(s)), ...(await fanOut(s)), ...(await versionListRate(s))];
    } finally {
      await s.server.close();
      await s.backend.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  },
};
