import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { createConnectionManager, SANDBOX_ID, type ConsolePush } from '../../../main/ipc/connections/connection-manager.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { sessionVault } from '../../../main/ipc/connections/token-vault.js';
import { createConsoleService } from '../../../main/ipc/console-service.js';
import type { ApiResult, ConnectionInfo, ConsoleEventPayload, Dsl } from '../../../preload/contract/index.js';
import { type TestServer, startServer } from '../server/harness.js';
import { eventually, onCleanup, tempDir } from './helpers.js';

/*
 * Notifications per server, not per connection: two connections to one real server (a viewer's
 * token and an operator's) hear each of its events, the console notifies once, naming the
 * connection with the most rights there — what a click opens, where Approve is allowed. Another
 * server, and the sandbox, are servers of their own.
 */

const failing: Dsl = { defaults: {}, nodes: [{ id: 'load', type: 'task', params: { duration_ms: 0, failure_rate: 1, error: 'warehouse refused' }, next: [] }] };

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function server(): Promise<TestServer> {
  const s = await startServer();
  onCleanup(() => s.close());
  return s;
}

describe('desktop notifications once per server', () => {
  it('two connections to one server notify once, naming the operator’s connection; another server notifies on its own', async () => {
    const prod = await server();
    const other = await server();
    const dir = tempDir();
    const localPath = join(dir, 'sandbox.db');
    const manager = await createConnectionManager({
      sandbox: { backend: await openSandbox({ path: localPath, actor: 'me' }), path: localPath },
      dir,
      vault: sessionVault(),
      createRemote: createRemoteBackend,
    });
    onCleanup(() => manager.close());
    const service = createConsoleService({ connections: manager });
    const pushes: Array<Parameters<ConsolePush>> = [];
    manager.onPush((event, payload) => pushes.push([event, payload]));

    // The viewer's connection is added first: first to hear, and still not the one named.
    const viewer = value(await service.handle('connections:add', { name: 'Prod (viewer)', url: prod.url, environment: 'production', token: prod.tokens.viewer })) as ConnectionInfo;
    const operator = value(await service.handle('connections:add', { name: 'Prod (ops)', url: prod.url, environment: 'production', token: prod.tokens.operator })) as ConnectionInfo;
    const elsewhere = value(await service.handle('connections:add', { name: 'Staging', url: other.url, token: other.tokens.operator })) as ConnectionInfo;
    const ready = () => {
      const byId = new Map(manager.list().map((c) => [c.id, c]));
      return [viewer, operator, elsewhere].every((c) => byId.get(c.id)?.state === 'connected' && byId.get(c.id)?.server_id && byId.get(c.id)?.role);
    };
    await eventually(() => expect(ready()).toBe(true), 15_000);
    const list = new Map(manager.list().map((c) => [c.id, c]));
    // One server, one id on both of its connections; the other server and the sandbox have their own.
    expect(list.get(viewer.id)?.server_id).toBe(await prod.backend.engine.serverId());
    expect(list.get(operator.id)?.server_id).toBe(list.get(viewer.id)?.server_id);
    expect(new Set([list.get(viewer.id)?.server_id, list.get(elsewhere.id)?.server_id, list.get(SANDBOX_ID)?.server_id]).size).toBe(3);

    const notified = () => pushes.filter(([e]) => e === 'notifications:event').map(([, p]) => p as ConsoleEventPayload<'notifications:event'>);
    /**
     * Waits until connection `id` has taken in every event the server has now: a marker event is
     * appended there and the connection, selected, streams it (each connection hears its log in order).
     */
    let markers = 0;
    const heardEverything = async (id: string) => {
      value(await service.handle('connections:select', { id }));
      const marker = await prod.backend.call('workflows:create', { name: `marker-${(markers += 1)}` });
      await eventually(() => expect(pushes.some(([e, p]) => e === 'events:appended' && (p as { connection_id: string; event: { workflow_id: string } }).connection_id === id && (p as { event: { workflow_id: string } }).event.workflow_id === marker.id)).toBe(true), 10_000);
    };

    const wf = await prod.backend.call('workflows:create', { name: 'nightly-release', dsl: failing });
    const failed = await prod.backend.call('runs:start', { workflow_id: wf.id, wait: true });
    const wf2 = await other.backend.call('workflows:create', { name: 'staging-etl', dsl: failing });
    const failedElsewhere = await other.backend.call('runs:start', { workflow_id: wf2.id, wait: true });
    await eventually(() => expect(notified().map((p) => p.event.run_id).sort()).toEqual([failed.run_id, failedElsewhere.run_id].sort()), 10_000);
    await heardEverything(viewer.id);
    await heardEverything(operator.id);
    const forProd = notified().filter((p) => p.event.run_id === failed.run_id);
    expect(forProd).toHaveLength(1);
    expect(forProd[0]).toMatchObject({ connection_id: operator.id, workflow_name: 'nightly-release', event: { type: 'run_failed' } });
    expect(notified().find((p) => p.event.run_id === failedElsewhere.run_id)).toMatchObject({ connection_id: elsewhere.id });

    // The operator's connection muted: the viewer's still hears the server, and names the operator's (the most rights there).
    value(await service.handle('notifications:mute', { connection_id: operator.id, muted: true }));
    const again = await prod.backend.call('runs:start', { workflow_id: wf.id, wait: true });
    await heardEverything(viewer.id);
    await heardEverything(operator.id);
    await eventually(() => expect(notified().filter((p) => p.event.run_id === again.run_id)).toEqual([expect.objectContaining({ connection_id: operator.id })]), 10_000);
  });
});
