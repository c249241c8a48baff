import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSandbox, type EngineBackend, type ReviewPolicy } from '../../../main/backends/engine-backend.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { openSqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import type { OidcVerifier } from '../../../main/server/auth/oidc-verifier.js';
import { createServer } from '../../../main/server/server.js';
import { TokenStore } from '../../../main/server/tokens.js';
import { startWebConsole } from '../../../main/web/web-console.js';
import { buildHistory } from '../../bench/history/generate.js';

/** Fast enough for tests, slow enough that a run is seen running. */
const TIME_SCALE = 0.002;

export interface StartedConsole {
  url: string;
  sandboxPath: string;
  close(): Promise<void>;
}

/**
 * A browser-mode console on a fresh temporary sandbox (its own data folder per test).
 * `prepare` may fill the sandbox through the engine before the console opens it.
 */
export async function startConsole(options: { demo?: boolean; prepare?: (sandbox: EngineBackend) => Promise<void> } = {}): Promise<StartedConsole> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-e2e-'));
  const sandboxPath = join(dir, 'sandbox.db');
  if (options.prepare) {
    const sandbox = await openSandbox({ path: sandboxPath, demo: options.demo ?? true, timeScale: 0 });
    try {
      await options.prepare(sandbox);
    } finally {
      await sandbox.close();
    }
  }
  const web = await startWebConsole({
    port: 0,
    sandboxPath,
    connectionsDir: dir,
    createRemote: createRemoteBackend,
    timeScale: TIME_SCALE,
    demo: options.demo ?? true,
  });
  return {
    url: web.url,
    sandboxPath,
    async close() {
      await web.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface StartedServer {
  url: string;
  adminToken: string;
  viewerToken: string;
  /** Another person's token (actor `mina.kim`, operator): their changes are someone else's to this console. */
  otherOperatorToken: string;
  close(): Promise<void>;
}

/**
 * A real workflow server on 127.0.0.1 with an admin token, a viewer token and another operator's
 * token; its data is the demo's, or with `history` a team's log of that many events (the bench's
 * generator: eight workflows, months of runs, publishes and rollbacks); with `oidc`, people sign in
 * through that provider too.
 */
export async function startWorkflowServer(options: { history?: number; oidc?: OidcVerifier; review?: ReviewPolicy } = {}): Promise<StartedServer & { backend: EngineBackend }> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-e2e-server-'));
  const path = join(dir, 'server.db');
  if (options.history !== undefined) await buildHistory(openSqliteStore(path), { events: options.history });
  const backend = await openSandbox({ path, demo: options.history === undefined, timeScale: TIME_SCALE, actor: 'server', ...(options.review ? { review: options.review } : {}) });
  const tokens = new TokenStore(backend.engine);
  const adminToken = (await tokens.issue({ name: 'e2e-admin', role: 'admin', createdBy: 'e2e' })).token;
  const viewerToken = (await tokens.issue({ name: 'e2e-viewer', role: 'viewer', createdBy: 'e2e' })).token;
  const otherOperatorToken = (await tokens.issue({ name: 'mina.kim', role: 'operator', createdBy: 'e2e' })).token;
  const server = await createServer({
    backend,
    tokens,
    latestSeq: () => backend.engine.latestSeq(),
    schemaVersion: backend.engine.schemaVersion,
    port: 0,
    log: () => {},
    ...(options.oidc ? { oidc: options.oidc } : {}),
  });
  return {
    backend,
    url: server.url,
    adminToken,
    viewerToken,
    otherOperatorToken,
    async close() {
      await server.close();
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
