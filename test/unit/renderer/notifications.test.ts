// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useInspector } from '../../../renderer/store/inspector-store.js';
import { startLive } from '../../../renderer/store/live.js';
import { notificationFor, useNotifications } from '../../../renderer/store/notifications-store.js';
import { useToasts } from '../../../renderer/store/toasts-store.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import type { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/* Which events become desktop notifications, from which connection, muting per connection, and the page's Notification API in browser mode. */

const event = (type: string, extra: Partial<RewindEvent> = {}, payload: Record<string, unknown> = {}): RewindEvent => ({
  seq: 1,
  ts: '2026-12-02T10:00:00.000Z',
  type,
  workflow_id: 'wf_1',
  run_id: null,
  actor: 'mina.kim',
  payload,
  prev_hash: '0',
  hash: '1',
  ...extra,
});

describe('notificationFor', () => {
  it("tells of another operator's rollback and of an automatic one, not of this console's own", () => {
    expect(notificationFor(event('workflow_rollback', {}, { from_version: 3, to_version: 2 }), 'me', false, 'billing')).toEqual({
      title: 'mina.kim rolled back billing',
      body: 'v3 → v2',
      target: { kind: 'workflow', id: 'wf_1' },
    });
    expect(notificationFor(event('workflow_rollback', { actor: 'policy:canary' }, { from_version: 3, to_version: 2, reason: 'failure rate 40%' }), 'me', false, 'billing')).toEqual({
      title: 'Automatic rollback of billing',
      body: 'v3 → v2 (policy:canary): failure rate 40%',
      target: { kind: 'workflow', id: 'wf_1' },
    });
    expect(notificationFor(event('workflow_rollback', { actor: 'me' }, { from_version: 3, to_version: 2 }), 'me', false, 'billing')).toBeNull();
  });

  it('tells of failed runs and wanted approvals, opening the run', () => {
    expect(notificationFor(event('run_failed', { run_id: 'run_7' }, { failed_node: 'judge', error: 'boom' }), 'me', false, 'billing')).toEqual({
      title: 'Run of billing failed',
      body: 'run_7 · at judge · boom',
      target: { kind: 'run', id: 'run_7' },
    });
    expect(notificationFor(event('approval_requested', { run_id: 'run_8' }, { node_id: 'gate' }), 'me', false, 'payouts')?.title).toBe('Approval wanted: payouts');
  });

  it("stays quiet about everything else, and about a rehearsal scenario's staged failures", () => {
    expect(notificationFor(event('run_succeeded', { run_id: 'r' }), 'me', false, 'billing')).toBeNull();
    expect(notificationFor(event('version_published', {}, { version: 2 }), 'me', false, 'billing')).toBeNull();
    expect(notificationFor(event('run_failed', { run_id: 'r', actor: 'scenario' }), 'me', true, 'billing')).toBeNull();
  });
});

describe('desktop notifications in browser mode, from every watched connection', () => {
  const shown: Array<{ title: string; body: string | undefined; instance: { onclick: (() => void) | null } }> = [];
  const saved = globalThis.Notification;
  let fake: FakeBridge;
  let stop: () => void;
  beforeEach(async () => {
    shown.length = 0;
    fake = freshConsole();
    // The page's Notification API, as the console sees it with permission granted.
    class FakeNotification {
      static permission = 'granted';
      static requestPermission = () => Promise.resolve('granted');
      onclick: (() => void) | null = null;
      constructor(title: string, options?: { body?: string }) {
        shown.push({ title, body: options?.body, instance: this });
      }
      close(): void {}
    }
    globalThis.Notification = FakeNotification as unknown as typeof Notification;
    stop = startLive(fake.bridge);
    await Promise.all([useConnections.getState().load(), useWorkflows.getState().load()]);
  });
  afterEach(() => {
    stop();
    globalThis.Notification = saved;
  });

  const connection = (id: string) => useConnections.getState().connections.find((c) => c.id === id)!;

  it('shows one through the Notification API; a click opens the workflow', async () => {
    fake.push('notifications:event', { connection_id: 'sandbox', event: event('workflow_rollback', { workflow_id: 'wf-ml' }, { from_version: 3, to_version: 2 }), workflow_name: 'stale name' });
    await vi.waitFor(() => expect(shown).toHaveLength(1));
    // The selected connection's own mirror names the workflow.
    expect(shown.map((s) => [s.title, s.body])).toEqual([['mina.kim rolled back ml-training-pipeline', 'v3 → v2']]);
    shown[0]!.instance.onclick?.();
    await vi.waitFor(() => expect(useUi.getState().view).toBe('workflows'));
    expect(useWorkflows.getState().selectedId).toBe('wf-ml');
  });

  it("tells of another connection's automatic rollback, with main's name for the workflow; a click switches to it and opens the workflow", async () => {
    expect(connection('prod').selected).toBe(false);
    fake.push('notifications:event', {
      connection_id: 'prod',
      event: event('workflow_rollback', { actor: 'policy:canary', workflow_id: 'wf-ml' }, { from_version: 3, to_version: 2, reason: 'failure rate 40 %' }),
      workflow_name: 'billing',
    });
    await vi.waitFor(() => expect(shown).toHaveLength(1));
    expect(shown[0]).toMatchObject({ title: 'Automatic rollback of billing', body: 'v3 → v2 (policy:canary): failure rate 40 %' });
    expect(fake.callsOf('notifications:show')).toEqual([{ connection_id: 'prod', title: 'Automatic rollback of billing', body: 'v3 → v2 (policy:canary): failure rate 40 %', target: { kind: 'workflow', id: 'wf-ml' } }]);

    shown[0]!.instance.onclick?.();
    await vi.waitFor(() => expect(useWorkflows.getState().selectedId).toBe('wf-ml'));
    expect(fake.callsOf('connections:select')).toEqual([{ id: 'prod' }]);
    expect(connection('prod').selected).toBe(true);
    expect(useUi.getState().view).toBe('workflows');
  });

  it("a click main reports (the desktop's own notification) of another connection switches too and opens the run", async () => {
    fake.push('notifications:clicked', { connection_id: 'prod', target: { kind: 'run', id: 'run-failed' } });
    await vi.waitFor(() => expect(useInspector.getState().runId).toBe('run-failed'));
    expect(connection('prod').selected).toBe(true);
    expect(useUi.getState().view).toBe('runs');
  });

  it('mutes through main, mirrors the answer, and shows nothing for a muted connection; unmuted, it does again', async () => {
    await useNotifications.getState().toggleMute(connection('prod'));
    expect(fake.callsOf('notifications:mute')).toEqual([{ connection_id: 'prod', muted: true }]);
    expect(connection('prod').notifications_muted).toBe(true);
    await useNotifications.getState().notify(event('run_failed', { run_id: 'run_1' }), connection('prod'), false, 'billing');
    expect(shown).toEqual([]);
    await useNotifications.getState().toggleMute(connection('prod'));
    expect(connection('prod').notifications_muted).toBe(false);
    await useNotifications.getState().notify(event('run_failed', { run_id: 'run_1' }), connection('prod'), false, 'billing');
    expect(shown).toHaveLength(1);
  });

  it('says so when main cannot remember a mute, and changes nothing', async () => {
    fake.failNext('notifications:mute', { code: 'INTERNAL', message: 'Disk full.', hint: 'Free some space.' });
    await useNotifications.getState().toggleMute(connection('prod'));
    expect(connection('prod').notifications_muted).toBe(false);
    expect(useToasts.getState().toasts.map((t) => t.title)).toEqual(['Could not mute Prod server']);
  });
});
