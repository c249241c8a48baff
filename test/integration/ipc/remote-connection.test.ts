import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConsolePush } from '../../../main/ipc/connections/connection-manager.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import type { ApiResult, ConnectionInfo, Workflow } from '../../../preload/contract/index.js';
import { freePort, startServer } from '../server/harness.js';
import { eventually, onCleanup, tempDir } from './helpers.js';

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe('the console on a real workflow server (127.0.0.1)', () => {
  it('connects, routes calls to the selected server, pushes its events live, and shows a refused token', async () => {
    const server = await startServer({ demo: true });
    onCleanup(() => server.close());
    const dir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => opened.connections.close());
    const pushes: Array<Parameters<ConsolePush>> = [];
    opened.connections.onPush((event, payload) => pushes.push([event, payload]));
    const { service } = opened;
    const stateOf = (id: string) => opened.connections.list().find((c) => c.id === id);

    const good = value(await service.handle('connections:add', { name: 'Local server', url: server.url, token: server.tokens.operator })) as ConnectionInfo;
    const bad = value(await service.handle('connections:add', { name: 'Wrong token', url: server.url, token: 'rwt_not-a-real-token-at-all-0000000000' })) as ConnectionInfo;
    await eventually(() => expect(stateOf(good.id)).toMatchObject({ state: 'connected', detail: null }), 10_000);
    await eventually(() => expect(stateOf(bad.id)).toMatchObject({ state: 'refused', detail: expect.stringMatching(/token/i) }), 10_000);

    value(await service.handle('connections:select', { id: good.id }));
    const { workflows } = value(await service.handle('workflows:list', { query: 'ml-training' })) as { workflows: Workflow[] };
    const ml = workflows[0];
    if (!ml) throw new Error('no demo workflow on the server');
    expect(value(await service.handle('versions:rollback', { workflow_id: ml.id, version: 3, expected_revision: ml.revision }))).toMatchObject({ version: 3 });
    await eventually(() =>
      expect(pushes).toContainEqual(['events:appended', { connection_id: good.id, event: expect.objectContaining({ type: 'workflow_rollback', workflow_id: ml.id }) }]),
    );
    // Only what happened after the console connected was pushed, not the server's history.
    // The rollback also mitigated the demo's open incident on that workflow (its record's event).
    const appended = pushes.filter(([e]) => e === 'events:appended').map(([, p]) => (p as { event: { type: string } }).event.type);
    await eventually(() => expect(appended).toEqual(['workflow_rollback', 'incident_mitigated']));
  });

  it('shows a server nobody listens for as unreachable, with the reason', async () => {
    const dir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => opened.connections.close());
    const down = value(await opened.service.handle('connections:add', { name: 'Down', url: `http://127.0.0.1:${await freePort()}`, token: 'rwt_whatever-token-0000000000000000' })) as ConnectionInfo;
    await eventually(() => expect(opened.connections.list().find((c) => c.id === down.id)).toMatchObject({ state: 'unreachable', detail: expect.stringMatching(/127\.0\.0\.1/) }), 15_000);
  });
});
