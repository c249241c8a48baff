import { create } from 'zustand';
import type { ConnectionInfo, NotificationTarget, RewindEvent } from '../../preload/contract/index.js';
import { api } from '../api/client.js';
import { openRun, openWorkflow } from '../home/incident-actions.js';
import { useConnections } from './connections-store.js';
import { selectSelectedConnection } from './selectors.js';
import { useToasts } from './toasts-store.js';

/*
 * Desktop notifications for what an on-call operator must not miss while looking elsewhere:
 * automatic rollbacks, rollbacks by others, failed runs and approvals wanted, on every connection
 * this console watches — main pushes their notifiable events as `notifications:event`, the selected
 * connection's and the others', except those of a muted connection. The rules are here, in one place.
 * The desktop app shows them through Electron's Notification (main process); browser mode through the
 * page's Notification API. A click switches to the notification's connection and opens the run or
 * the workflow.
 */

export interface DesktopNotification {
  title: string;
  body: string;
  target: NotificationTarget;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const ver = (v: unknown): string => (typeof v === 'number' ? `v${v}` : 'v?');

/**
 * What to tell the operator about an event, or null for nothing. `ownActor` is who this console acts
 * as (its own rollbacks are not news); `rehearsing` is a scenario rehearsal of this console's, whose
 * staged failures are expected.
 */
export function notificationFor(e: RewindEvent, ownActor: string | null, rehearsing: boolean, workflowName: string | null): DesktopNotification | null {
  if (rehearsing && e.actor === 'scenario') return null;
  const wf = workflowName ?? e.workflow_id ?? 'a workflow';
  const p = e.payload;
  if (e.type === 'workflow_rollback' && e.workflow_id) {
    const automatic = e.actor.startsWith('policy:');
    if (!automatic && e.actor === ownActor) return null;
    const reason = str(p.reason);
    return {
      title: automatic ? `Automatic rollback of ${wf}` : `${e.actor} rolled back ${wf}`,
      body: `${ver(p.from_version)} → ${ver(p.to_version)}${automatic ? ` (${e.actor})` : ''}${reason ? `: ${reason}` : ''}`,
      target: { kind: 'workflow', id: e.workflow_id },
    };
  }
  if ((e.type === 'run_failed' || e.type === 'run_interrupted') && e.run_id) {
    const node = str(p.failed_node);
    const error = str(p.error);
    return {
      title: `Run of ${wf} ${e.type === 'run_failed' ? 'failed' : 'was interrupted'}`,
      body: [e.run_id, node ? `at ${node}` : null, error].filter(Boolean).join(' · '),
      target: { kind: 'run', id: e.run_id },
    };
  }
  if (e.type === 'approval_requested' && e.run_id) {
    // What an approver judges by, from the request itself: the prompt, who asks, what is done.
    const node = str(p.node_id);
    const prompt = str(p.prompt);
    const trigger = str(p.trigger);
    const done = Array.isArray(p.done) ? p.done.filter((d): d is string => typeof d === 'string') : null;
    const asker = `Run ${e.run_id} ${ver(p.version)}${trigger ? ` (${trigger})` : ''}${str(p.started_by) ? ` by ${str(p.started_by)}` : ''}`;
    return {
      title: `Approval wanted: ${wf}`,
      body: [prompt ? `“${prompt}”` : null, `${asker} waits${node ? ` at ${node}` : ''}`, done === null ? null : done.length ? `done: ${done.join(', ')}` : 'nothing done yet']
        .filter(Boolean)
        .join(' · '),
      target: { kind: 'run', id: e.run_id },
    };
  }
  return null;
}

export interface NotificationsActions {
  /** Silences a connection's notifications, or hears them again; main keeps it, the connection list mirrors it. */
  toggleMute(connection: ConnectionInfo): Promise<void>;
  /** Shows the notification an event of `connection` calls for (main sends none of a muted connection). */
  notify(e: RewindEvent, connection: ConnectionInfo, rehearsing: boolean, workflowName: string | null): Promise<void>;
  /** Opens what a clicked notification was about, switching to its connection first when it is another. */
  open(connectionId: string, target: NotificationTarget): Promise<void>;
}

/** The page's Notification API, when there is one (not in every test runner, nor in a sandboxed Electron page). */
function pageNotifications(): typeof Notification | null {
  return typeof globalThis.Notification === 'function' ? globalThis.Notification : null;
}

export const useNotifications = create<NotificationsActions>()((_set, get) => ({
  async toggleMute(connection) {
    const muted = !connection.notifications_muted;
    const answer = await api().notifications.mute({ connection_id: connection.id, muted });
    if (!answer.ok) {
      useToasts.getState().push({ kind: 'warning', title: `Could not ${muted ? 'mute' : 'unmute'} ${connection.name}`, body: `${answer.error.message} ${answer.error.hint}` });
      return;
    }
    const { connections, applyPush } = useConnections.getState();
    applyPush(connections.map((c) => (c.id === connection.id ? answer.value : c)));
    // Unmuting is a user gesture: the moment to ask the browser for permission, if it has not been asked.
    const Page = pageNotifications();
    if (!muted && Page?.permission === 'default') void Page.requestPermission();
  },
  async notify(e, connection, rehearsing, workflowName) {
    if (connection.notifications_muted) return;
    const n = notificationFor(e, connection.actor, rehearsing, workflowName);
    if (!n) return;
    const answer = await api().notifications.show({ connection_id: connection.id, title: n.title, body: n.body, target: n.target });
    if (!answer.ok || !answer.value.page) return;
    const Page = pageNotifications();
    if (!Page) return;
    const permission = Page.permission === 'default' ? await Page.requestPermission() : Page.permission;
    if (permission !== 'granted') return;
    const shown = new Page(n.title, { body: n.body, tag: `rewind:${connection.id}:${n.target.kind}:${n.target.id}` });
    shown.onclick = () => {
      globalThis.focus?.();
      void get().open(connection.id, n.target);
      shown.close();
    };
  },
  async open(connectionId, target) {
    const selectedId = () => selectSelectedConnection(useConnections.getState())?.id;
    if (selectedId() !== connectionId) {
      await useConnections.getState().select(connectionId);
      // The switch was refused (the connection is gone): its error shows in the connection list.
      if (selectedId() !== connectionId) return;
    }
    if (target.kind === 'run') openRun(target.id);
    else openWorkflow(target.id);
  },
}));
