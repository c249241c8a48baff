import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineBackend, openSandbox } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { createConnectionManager, SANDBOX_ID, type ConsolePush } from '../../../main/ipc/connections/connection-manager.js';
import { NOTIFICATION_MUTES_FILE } from '../../../main/ipc/connections/notification-mutes.js';
import { sessionVault } from '../../../main/ipc/connections/token-vault.js';
import { createConsoleService } from '../../../main/ipc/console-service.js';
import type { ApiResult, ConnectionInfo, ConsoleEventPayload, Dsl, Workflow } from '../../../preload/contract/index.js';
import { notificationFor } from '../../../renderer/store/notifications-store.js';
import { eventually, fakeRemotes, onCleanup, tempDir } from './helpers.js';

/*
 * Notifications from every watched connection: two sandbox files, the local sandbox selected. A canary
 * on the other one breaches and rolls itself back: main pushes the event as `notifications:event`
 * (and not as `events:appended`, which is the selected connection's), the renderer's rules make it a
 * notification. Muted, the next automatic rollback there pushes nothing; the mute survives a restart.
 */

/** A run fails when its params say `fail: true`. */
const dsl = (label: string): Dsl => ({
  defaults: { fail: false },
  nodes: [{ id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: [] }],
});

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

type NotificationPush = ConsoleEventPayload<'notifications:event'>;

describe('notifications from every watched connection', () => {
  it('pushes an automatic rollback on a connection that is not selected, and nothing once it is muted', async () => {
    const dir = tempDir();
    const otherPath = join(dir, 'other.db');
    const seeded = await openSandbox({ path: otherPath, actor: 'ops' });
    const created = await seeded.call('workflows:create', { name: 'orders', dsl: dsl('v1') });
    await seeded.close();

    const localPath = join(dir, 'sandbox.db');
    let other: EngineBackend | null = null;
    const open = async () => {
      const manager = await createConnectionManager({
        sandbox: { backend: await openSandbox({ path: localPath, actor: 'me' }), path: localPath },
        // Every run of the other file draws the canary (random 0): the test decides which fail.
        openSandboxFile: async (path) => (other = new EngineBackend(await Engine.open({ path, random: () => 0 }), 'ops')),
        dir,
        vault: sessionVault(),
        createRemote: fakeRemotes().createRemote,
      });
      onCleanup(() => manager.close());
      const pushes: Array<Parameters<ConsolePush>> = [];
      manager.onPush((event, payload) => pushes.push([event, payload]));
      return { manager, service: createConsoleService({ connections: manager }), pushes };
    };
    const first = await open();
    const otherInfo = value(await first.service.handle('connections:openSandbox', { path: otherPath })) as ConnectionInfo;
    expect(otherInfo).toMatchObject({ selected: false, notifications_muted: false });
    expect(first.manager.list().find((c) => c.selected)?.id).toBe(SANDBOX_ID);
    /** The other file's backend as the newest manager opened it. */
    const otherBackend = (): EngineBackend => {
      const b = other as EngineBackend | null;
      if (!b) throw new Error('the other sandbox was not opened');
      return b;
    };

    /** A canary of a new draft, breached by one failed run (min_runs 1, no failure allowed): rolled back by policy:canary. */
    const breachCanary = async (version: number) => {
      const backend = otherBackend();
      await backend.call('versions:createDraft', { workflow_id: created.id, dsl: dsl(`v${version}`), change_log: `candidate ${version}` });
      await backend.call('versions:publish', { workflow_id: created.id, version, canary: { percent: 50, min_runs: 1, max_failure_rate: 0, promote: 'manual' } });
      const run = await backend.call('runs:start', { workflow_id: created.id, params: { fail: true }, wait: true });
      expect(run).toMatchObject({ version, status: 'failed' });
      expect((await backend.call('workflows:get', { workflow_id: created.id })).active_version).toBe(1);
    };
    const notified = (pushes: Array<Parameters<ConsolePush>>) => pushes.filter(([e]) => e === 'notifications:event').map(([, p]) => p as NotificationPush);

    await breachCanary(2);
    await eventually(() => expect(notified(first.pushes).map((p) => p.event.type)).toEqual(['run_failed', 'workflow_rollback']));
    const rollback = notified(first.pushes)[1]!;
    expect(rollback).toMatchObject({ connection_id: otherInfo.id, workflow_name: 'orders', event: { actor: 'policy:canary', payload: { from_version: 2, to_version: 1 } } });
    // The renderer's rules, with this connection's actor: an automatic rollback is always news.
    expect(notificationFor(rollback.event, otherInfo.actor, false, rollback.workflow_name)).toMatchObject({ title: 'Automatic rollback of orders', target: { kind: 'workflow', id: created.id } });
    // The other connection's events are not the selected one's live stream.
    expect(first.pushes.some(([e, p]) => e === 'events:appended' && (p as { connection_id: string }).connection_id === otherInfo.id)).toBe(false);

    // Muted: another automatic rollback there pushes nothing.
    const muted = value(await first.service.handle('notifications:mute', { connection_id: otherInfo.id, muted: true })) as ConnectionInfo;
    expect(muted.notifications_muted).toBe(true);
    expect(first.pushes.at(-1)).toEqual(['connections:changed', { connections: expect.arrayContaining([expect.objectContaining({ id: otherInfo.id, notifications_muted: true })]) }]);
    const before = notified(first.pushes).length;
    await breachCanary(3);
    // Unmuted again, a failed run there is pushed: had the muted rollback been, it would have come first (pushes keep the log's order).
    value(await first.service.handle('notifications:mute', { connection_id: otherInfo.id, muted: false }));
    await otherBackend().call('runs:start', { workflow_id: created.id, params: { fail: true }, wait: true });
    await eventually(() => expect(notified(first.pushes).length).toBe(before + 1));
    expect(notified(first.pushes).at(-1)?.event.type).toBe('run_failed');

    // The mute is main's, kept beside the connections file: a restart still has it.
    value(await first.service.handle('notifications:mute', { connection_id: otherInfo.id, muted: true }));
    expect(JSON.parse(readFileSync(join(dir, NOTIFICATION_MUTES_FILE), 'utf8'))).toEqual({ version: 1, muted: [otherInfo.id] });
    await first.manager.close();
    const second = await open();
    expect(second.manager.list().find((c) => c.id === otherInfo.id)).toMatchObject({ notifications_muted: true, selected: false });
    await breachCanary(4);
    value(await second.service.handle('notifications:mute', { connection_id: otherInfo.id, muted: false }));
    await otherBackend().call('runs:start', { workflow_id: created.id, params: { fail: true }, wait: true });
    await eventually(() => expect(notified(second.pushes).map((p) => p.event.type)).toEqual(['run_failed']));
    await second.manager.close();

    // Removing the connection forgets its mute.
    const third = await open();
    value(await third.service.handle('notifications:mute', { connection_id: otherInfo.id, muted: true }));
    value(await third.service.handle('connections:remove', { id: otherInfo.id }));
    expect(JSON.parse(readFileSync(join(dir, NOTIFICATION_MUTES_FILE), 'utf8'))).toEqual({ version: 1, muted: [] });
    expect(existsSync(otherPath)).toBe(true);
  });

  it('pushes the selected connection’s notifiable events too, and none of other types', async () => {
    const dir = tempDir();
    const localPath = join(dir, 'sandbox.db');
    const manager = await createConnectionManager({
      sandbox: { backend: await openSandbox({ path: localPath, actor: 'me' }), path: localPath },
      dir,
      vault: sessionVault(),
      createRemote: fakeRemotes().createRemote,
    });
    onCleanup(() => manager.close());
    const pushes: Array<Parameters<ConsolePush>> = [];
    manager.onPush((event, payload) => pushes.push([event, payload]));
    const backend = manager.selectedBackend();
    const wf: Workflow = await backend.call('workflows:create', { name: 'billing', dsl: dsl('v1') });
    await backend.call('runs:start', { workflow_id: wf.id, params: {}, wait: true });
    await backend.call('runs:start', { workflow_id: wf.id, params: { fail: true }, wait: true });
    await eventually(() => expect(pushes.filter(([e]) => e === 'notifications:event')).toHaveLength(1));
    expect(pushes.find(([e]) => e === 'notifications:event')?.[1]).toMatchObject({ connection_id: SANDBOX_ID, workflow_name: 'billing', event: { type: 'run_failed' } });
  });
});
