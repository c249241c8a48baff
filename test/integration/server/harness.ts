import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineBackend, type SandboxOptions, openSandbox } from '../../../main/backends/engine-backend.js';
import { recordRefusal } from '../../../main/backends/refusal-audit.js';
import { seedSampleRunbooks } from '../../../main/backends/runbook-handlers.js';
import { seedDemo } from '../../../main/engine/demo/seed.js';
import { Engine } from '../../../main/engine/engine.js';
import type { Store } from '../../../main/engine/store/port.js';
import { type RunningServer, type ServerOptions, createServer } from '../../../main/server/server.js';
import { TokenStore } from '../../../main/server/tokens.js';
import { checkAnswersOf } from '../../support/openapi-conformance.js';

/** Shared by the server and contract suites: servers on 127.0.0.1 only, in temporary folders. */

export const repoRoot = resolve(import.meta.dirname, '../../..');

export interface RoleTokens {
  admin: string;
  operator: string;
  viewer: string;
}

export interface TestServer {
  url: string;
  dir: string;
  dbPath: string;
  backend: EngineBackend;
  server: RunningServer;
  tokenStore: TokenStore;
  tokens: RoleTokens;
  close(): Promise<void>;
}

export function tempDir(prefix = 'rewind-server-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * An in-process server over a fresh sandbox (or over `store`, which it then owns), with one token per
 * role. `demo` is `rewind-server --demo`: the demo's workflows and runbooks, and the inspection station.
 */
export async function startServer(
  options: {
    timeScale?: number;
    demo?: boolean;
    store?: Store;
    clock?: () => Date;
    /** `webhookKey` seals webhook secrets (without one the webhook routes answer WEBHOOKS_UNAVAILABLE); on a `store` server too. */
    sandbox?: Pick<SandboxOptions, 'liveExecution' | 'allowCommands' | 'limits' | 'webhookKey' | 'allowPrivateWebhooks' | 'review'>;
  } & Partial<Omit<ServerOptions, 'backend' | 'tokens' | 'latestSeq' | 'schemaVersion' | 'demo'>> = {},
): Promise<TestServer> {
  const { timeScale, demo, store, clock, sandbox, ...serverOptions } = options;
  const dir = tempDir();
  const dbPath = join(dir, 'rewind.db');
  const backend = store
    ? new EngineBackend(
        await Engine.open({
          store,
          timeScale: timeScale ?? 0,
          ...(clock ? { clock } : {}),
          ...(sandbox?.liveExecution === undefined ? {} : { liveExecution: sandbox.liveExecution }),
          ...(sandbox?.allowCommands === undefined ? {} : { allowCommands: sandbox.allowCommands }),
          ...(sandbox?.limits === undefined ? {} : { limits: sandbox.limits }),
        }),
        'test',
        {
          ...(sandbox?.webhookKey === undefined ? {} : { webhookKey: sandbox.webhookKey }),
          ...(sandbox?.allowPrivateWebhooks === undefined ? {} : { allowPrivateWebhooks: sandbox.allowPrivateWebhooks }),
          ...(sandbox?.review === undefined ? {} : { review: sandbox.review }),
        },
      )
    : await openSandbox({ path: dbPath, timeScale: timeScale ?? 0, demo: demo ?? false, actor: 'test', ...sandbox });
  if (store && demo) {
    await seedDemo(backend.engine, 'test');
    await seedSampleRunbooks(backend.engine, 'test');
  }
  const tokenStore = new TokenStore(backend.engine);
  const tokens = {
    admin: (await tokenStore.issue({ name: 'admin', role: 'admin', createdBy: 'test' })).token,
    operator: (await tokenStore.issue({ name: 'operator', role: 'operator', createdBy: 'test' })).token,
    viewer: (await tokenStore.issue({ name: 'viewer', role: 'viewer', createdBy: 'test' })).token,
  };
  const server = await createServer({
    backend,
    tokens: tokenStore,
    latestSeq: () => backend.engine.latestSeq(),
    schemaVersion: backend.engine.schemaVersion,
    port: 0,
    log: () => undefined,
    // Quiet by default (no line is built); the log tests ask for 'info'.
    logLevel: 'silent',
    onRefused: (refusal) => recordRefusal(backend.engine, refusal),
    demo: demo ?? false,
    ...serverOptions,
  });
  await checkAnswersOf(server.url);
  return {
    url: server.url,
    dir,
    dbPath,
    backend,
    server,
    tokenStore,
    tokens,
    async close() {
      await server.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** The real entry point in a child process (the compiled `rewind-server`), as operators start it. */
export async function spawnServer(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ChildServer> {
  const proc = spawn(process.execPath, ['bin/rewind-server.mjs', '--time-scale', '0', ...args], {
    cwd: repoRoot,
    // Request logs stay out of test output unless a test asks for them.
    env: { ...process.env, REWIND_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const url = await new Promise<string>((res, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  await checkAnswersOf(url);
  return { proc, url, output: () => out, exited };
}

export async function killHard(child: ChildServer): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  await child.exited;
}

export async function api(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // Left as text: the assertions say whether that is wrong.
  }
  return { status: res.status, headers: res.headers, json };
}

/** Polls `check` until it holds, at most `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Small valid DSLs: v2 tightens the threshold, v3 replaces the last node (so v1 runs cannot resume on it). */
export const dsls = {
  v1: {
    defaults: { defect_rate: 0.04 },
    nodes: [
      { id: 'load', type: 'task' as const, params: { duration_ms: 5 }, next: ['judge'] },
      { id: 'judge', type: 'judgment' as const, params: { rules: [{ field: 'defect_rate', op: '>' as const, value: 0.05, outcome: 'warning' }], default: 'pass' }, next: ['report'] },
      { id: 'report', type: 'transform' as const, params: { set: { 'report.done': true } }, next: [] },
    ],
  },
  v2: {
    defaults: { defect_rate: 0.04 },
    nodes: [
      { id: 'load', type: 'task' as const, params: { duration_ms: 5 }, next: ['judge'] },
      { id: 'judge', type: 'judgment' as const, params: { rules: [{ field: 'defect_rate', op: '>' as const, value: 0.03, outcome: 'warning' }], default: 'pass' }, next: ['report'] },
      { id: 'report', type: 'transform' as const, params: { set: { 'report.done': true } }, next: [] },
    ],
  },
  v3: {
    defaults: { defect_rate: 0.04 },
    nodes: [
      { id: 'fetch', type: 'task' as const, params: { duration_ms: 5 }, next: ['notify'] },
      { id: 'notify', type: 'task' as const, params: { duration_ms: 5 }, next: [] },
    ],
  },
  /** Long enough to still be in flight when a cancel arrives (with a time scale of 1). */
  slow: {
    defaults: {},
    nodes: [
      { id: 'wait', type: 'task' as const, params: { duration_ms: 60_000 }, next: ['after'] },
      { id: 'after', type: 'task' as const, params: { duration_ms: 5 }, next: [] },
    ],
  },
};

export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
