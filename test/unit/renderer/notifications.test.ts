// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionInfo, RewindBridge, RewindEvent } from '../../../preload/contract/index.js';
import { setApi } from '../../../renderer/api/client.js';
import { notificationFor, notificationsInitialState, useNotifications } from '../../../renderer/store/notifications-store.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';

/* Which events become desktop notifications, muting per connection, and the page's Notification API in browser mode. */

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

describe('desktop notifications in browser mode', () => {
  const connection = { id: 'conn_1', actor: 'me' } as ConnectionInfo;
  const shown: Array<{ title: string; body: string | undefined; instance: { onclick: (() => void) | null } }> = [];
  const saved = globalThis.Notification;
  beforeEach(() => {
    shown.length = 0;
    useNotifications.setState(notificationsInitialState);
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
    setApi({ notifications: { show: () => Promise.resolve({ ok: true, value: { shown: false, page: true } }) } } as unknown as RewindBridge);
  });
  afterEach(() => {
    globalThis.Notification = saved;
    setApi(null);
  });

  it('shows one through the Notification API; a click opens the workflow', async () => {
    await useNotifications.getState().notify(event('workflow_rollback', {}, { from_version: 3, to_version: 2 }), connection, false, 'billing');
    expect(shown.map((s) => [s.title, s.body])).toEqual([['mina.kim rolled back billing', 'v3 → v2']]);
    shown[0]!.instance.onclick?.();
    expect(useUi.getState().view).toBe('workflows');
    expect(useWorkflows.getState().selectedId).toBe('wf_1');
  });

  it('shows nothing for a muted connection, and again once unmuted', async () => {
    useNotifications.getState().toggleMute('conn_1');
    await useNotifications.getState().notify(event('run_failed', { run_id: 'run_1' }), connection, false, 'billing');
    expect(shown).toEqual([]);
    useNotifications.getState().toggleMute('conn_1');
    await useNotifications.getState().notify(event('run_failed', { run_id: 'run_1' }), connection, false, 'billing');
    expect(shown).toHaveLength(1);
  });
});
