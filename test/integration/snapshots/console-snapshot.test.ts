import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsolePush } from '../../../main/ipc/connections/connection-manager.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { openConsole, type OpenedConsole } from '../../../main/ipc/open-console.js';
import type { ApiResult, ConnectionInfo, ConsoleEventPayload } from '../../../preload/contract/index.js';
import { eventually, onCleanup, tempDir } from '../ipc/helpers.js';
import { startServer, type TestServer } from '../server/harness.js';
import { startDropProxy } from './drop-proxy.js';

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe('snapshots from the console (a real workflow server on 127.0.0.1)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ demo: true });
  });
  afterAll(() => server.close());

  async function consoleWithServer(): Promise<{ opened: OpenedConsole; remote: ConnectionInfo; pushes: Array<Parameters<ConsolePush>>; dir: string }> {
    const dir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0, actor: 'mina.kim' }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => opened.connections.close());
    const pushes: Array<Parameters<ConsolePush>> = [];
    opened.connections.onPush((event, payload) => pushes.push([event, payload]));
    const remote = value(await opened.service.handle('connections:add', { name: 'Prod', url: server.url, token: server.tokens.operator })) as ConnectionInfo;
    return { opened, remote, pushes, dir };
  }

  it('takes a snapshot with progress, opens it, and says where and when it was taken', async () => {
    const { opened, remote, pushes, dir } = await consoleWithServer();
    const { service } = opened;
    const stateOf = (id: string) => opened.connections.list().find((c) => c.id === id);
    // The actor is the token's name on the server, as whoami answers it.
    await eventually(() => expect(stateOf(remote.id)).toMatchObject({ state: 'connected', actor: 'operator', snapshot: null }), 10_000);
    expect(stateOf('sandbox')).toMatchObject({ actor: 'mina.kim', snapshot: null });

    const path = join(dir, 'snapshots', 'prod.db');
    const result = value(await service.handle('snapshots:create', { connection_id: remote.id, path, runs: 5 })) as Record<string, unknown>;
    const head = server.backend.engine.latestSeq();
    expect(result).toMatchObject({ path, source_url: server.url, events: head, runs: expect.any(Number), resumed: false });

    const progress = pushes.filter(([e]) => e === 'snapshots:progress').map(([, p]) => p as ConsoleEventPayload<'snapshots:progress'>);
    expect(progress.every((p) => p.path === path)).toBe(true);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['events', 'workflows', 'versions', 'runs']));
    expect(progress.at(-1)).toMatchObject({ phase: 'done' });

    const snap = value(await service.handle('connections:openSandbox', { path })) as ConnectionInfo;
    expect(snap).toMatchObject({
      kind: 'sandbox',
      url: path,
      actor: 'mina.kim',
      snapshot: { source_url: server.url, taken_at: result.taken_at, complete: true, runs: result.runs, events: head },
    });
    value(await service.handle('connections:select', { id: snap.id }));
    const mine = value(await service.handle('workflows:list', {})) as { workflows: unknown[] };
    const theirs = await server.backend.call('workflows:list', {});
    expect(mine.workflows).toEqual(theirs.workflows);
    expect(value(await service.handle('events:verify', {}))).toMatchObject({ ok: true, length: head });

    // Once open, it is not a snapshot target any more, and a complete one is not written over.
    expect(await service.handle('snapshots:create', { connection_id: remote.id, path })).toMatchObject({ ok: false, error: { code: 'SNAPSHOT_TARGET_OPEN', message: expect.stringMatching(/open as a connection/) } });
    value(await service.handle('connections:remove', { id: snap.id }));
    expect(await service.handle('snapshots:create', { connection_id: remote.id, path })).toMatchObject({ ok: false, error: { code: 'SNAPSHOT_TARGET_EXISTS', message: expect.stringMatching(/already holds a complete snapshot/) } });
    expect(await service.handle('snapshots:create', { connection_id: 'sandbox', path: join(dir, 'x.db') })).toMatchObject({ ok: false, error: { code: 'SNAPSHOT_SOURCE_IS_SANDBOX', message: expect.stringMatching(/only a remote server/) } });
  });

  it('refuses to open an unfinished snapshot, and finishes it when asked again after the connection came back', async () => {
    const proxy = await startDropProxy(server.url);
    onCleanup(() => proxy.close());
    const dir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => opened.connections.close());
    const { service } = opened;
    const remote = value(await service.handle('connections:add', { name: 'Flaky', url: proxy.url, token: server.tokens.viewer })) as ConnectionInfo;
    await eventually(() => expect(opened.connections.list().find((c) => c.id === remote.id)).toMatchObject({ state: 'connected' }), 10_000);

    // The network drops mid-copy, once the runs have been chosen.
    let armed = false;
    const unsubscribe = opened.connections.onPush((event, payload) => {
      if (armed || event !== 'snapshots:progress' || (payload as ConsoleEventPayload<'snapshots:progress'>).phase !== 'runs') return;
      armed = true;
      proxy.dropAt(proxy.requests + 2);
    });
    const path = join(dir, 'half.db');
    const failed = await service.handle('snapshots:create', { connection_id: remote.id, path, runs: 5 });
    unsubscribe();
    expect(failed).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    expect(await service.handle('connections:openSandbox', { path })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/unfinished snapshot/), hint: expect.stringMatching(/resumes/) } });

    proxy.heal();
    const done = value(await service.handle('snapshots:create', { connection_id: remote.id, path, runs: 5 })) as Record<string, unknown>;
    expect(done).toMatchObject({ resumed: true, source_url: proxy.url, events: server.backend.engine.latestSeq(), runs: 5 });
    expect(value(await service.handle('connections:openSandbox', { path }))).toMatchObject({ snapshot: { complete: true, runs: 5 } });
  });
});
