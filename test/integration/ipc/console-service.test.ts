import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConsolePush } from '../../../main/ipc/connections/connection-manager.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import type { ApiResult, RewindErrorData, Workflow } from '../../../preload/contract/index.js';
import { eventually, fakeRemotes, onCleanup, tempDir } from './helpers.js';

async function consoleOnDemo(remotes = fakeRemotes()) {
  const dir = tempDir();
  const opened = await openConsole({
    sandbox: { path: join(dir, 'sandbox.db'), demo: true, timeScale: 0, actor: 'tester' },
    connectionsDir: dir,
    createRemote: remotes.createRemote,
  });
  onCleanup(() => opened.connections.close());
  const pushes: Array<Parameters<ConsolePush>> = [];
  opened.connections.onPush((event, payload) => pushes.push([event, payload]));
  return { ...opened, pushes, remotes };
}

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
function error(result: ApiResult<unknown>): RewindErrorData {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('console service on a real sandbox', () => {
  it('routes backend methods to the selected connection and answers with contract data', async () => {
    const { service } = await consoleOnDemo();
    const { workflows, total } = value(await service.handle('workflows:list', {})) as { workflows: Workflow[]; total: number };
    expect(total).toBe(3);
    expect(workflows.map((w) => w.name).sort()).toEqual(['defect-rate-judgment', 'ml-training-pipeline', 'nightly-orders-etl']);
    // Defaults come from the contract: versions:list without offset or limit.
    const ml = workflows.find((w) => w.name === 'ml-training-pipeline');
    const versions = value(await service.handle('versions:list', { workflow_id: ml?.id })) as { total: number };
    expect(versions.total).toBe(4);
  });

  it('rolls back, answers the result, and pushes the event live', async () => {
    const { service, pushes } = await consoleOnDemo();
    const { workflows } = value(await service.handle('workflows:list', { query: 'ml-training' })) as { workflows: Workflow[] };
    const ml = workflows[0];
    if (!ml) throw new Error('no demo workflow');
    const result = value(await service.handle('versions:rollback', { workflow_id: ml.id, version: 3, expected_revision: ml.revision }));
    expect(result).toMatchObject({ success: true, workflow_id: ml.id, version: 3, from_version: 4 });
    await eventually(() =>
      expect(pushes).toContainEqual(['events:appended', { connection_id: 'sandbox', event: expect.objectContaining({ type: 'workflow_rollback', workflow_id: ml.id }) }]),
    );
    const stale = error(await service.handle('versions:rollback', { workflow_id: ml.id, version: 2, expected_revision: ml.revision }));
    expect(stale.code).toBe('STALE_REVISION');
    expect(stale.hint.length).toBeGreaterThan(0);
  });

  it('refuses invalid input as VALIDATION_FAILED naming the field, before any backend sees it', async () => {
    const { service } = await consoleOnDemo();
    const bad = error(await service.handle('versions:rollback', { workflow_id: 'w', version: -2 }));
    expect(bad).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('version:'), details: { issues: [expect.objectContaining({ path: 'version' })] } });
    expect(error(await service.handle('workflows:get', { workflow_id: 'w', extra: true })).code).toBe('VALIDATION_FAILED');
    expect(error(await service.handle('workflows:get', 'w')).code).toBe('VALIDATION_FAILED');
    expect(error(await service.handle('connections:add', { name: 'x', url: 'ftp://x', token: 't' }))).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('url') });
  });

  it('answers unknown methods and engine refusals as error data', async () => {
    const { service } = await consoleOnDemo();
    expect(error(await service.handle('workflows:drop', {})).code).toBe('MALFORMED_REQUEST');
    expect(error(await service.handle('__proto__', {})).code).toBe('MALFORMED_REQUEST');
    expect(error(await service.handle('toString', {})).code).toBe('MALFORMED_REQUEST');
    const missing = error(await service.handle('workflows:get', { workflow_id: 'nope' }));
    expect(missing.code).toBe('WORKFLOW_NOT_FOUND');
    expect(missing.hint).not.toBe('');
    expect(error(await service.handle('connections:select', { id: 'nope' })).code).toBe('CONNECTION_NOT_FOUND');
  });

  it('serves the connection methods and routes to a selected remote, checking its answers', async () => {
    const remotes = fakeRemotes();
    const { service } = await consoleOnDemo(remotes);
    const added = value(await service.handle('connections:add', { name: 'Staging', url: 'http://127.0.0.1:1', token: 'tok' })) as { id: string };
    expect(value(await service.handle('connections:list', {}))).toMatchObject({ connections: [{ id: 'sandbox' }, { id: added.id, environment: 'staging' }] });
    expect(value(await service.handle('connections:select', { id: added.id }))).toMatchObject({ id: added.id, selected: true });
    expect(value(await service.handle('workflows:list', {}))).toEqual({ workflows: [], total: 0 });
    // A server answering outside the contract is reported, not passed on.
    const remote = remotes.made[0];
    if (!remote) throw new Error('no remote');
    remote.call = async () => ({ workflows: 'not a list' }) as never;
    expect(error(await service.handle('workflows:list', {})).code).toBe('PROTOCOL_MISMATCH');
    expect(value(await service.handle('connections:remove', { id: added.id }))).toEqual({ removed: true });
    expect(value(await service.handle('workflows:list', {}))).toMatchObject({ total: 3 });
  });
});
