import { create } from 'zustand';
import type { ConnectionInfo, NotificationTarget, RewindEvent } from '../../preload/contract/index.js';
import { api } from '../api/client.js';
import { openRun, openWorkflow } from '../home/incident-actions.js';

/*
 * Desktop notifications for what an on-call operator must not miss while looking elsewhere:
 * automatic rollbacks, rollbacks by others, failed runs and approvals wanted, on the connection this
 * console watches (the selected one; its events arrive live). Each connection can be muted. The
 * desktop app shows them through Electron's Notification (main process); browser mode through the
 * page's Notification API. A click opens the run or the workflow.
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
    const node = str(p.node_id);
    return { title: `Approval wanted: ${wf}`, body: `Run ${e.run_id} waits${node ? ` at ${node}` : ''}`, target: { kind: 'run', id: e.run_id } };
  }
  return null;
}

const MUTED_KEY = 'rewind.notifications.muted';

function storedMuted(): string[] {
  try {
    const raw = globalThis.localStorage?.getItem(MUTED_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export interface NotificationsState {
  /** Connection ids whose notifications are off. */
  muted: string[];
}

export const notificationsInitialState: NotificationsState = { muted: [] };

interface NotificationsActions {
  toggleMute(connectionId: string): void;
  /** Shows the notification an event calls for, unless its connection is muted. */
  notify(e: RewindEvent, connection: ConnectionInfo, rehearsing: boolean, workflowName: string | null): Promise<void>;
  /** Opens what a clicked notification was about. */
  open(target: NotificationTarget): void;
}

/** The page's Notification API, when there is one (not in every test runner, nor in a sandboxed Electron page). */
function pageNotifications(): typeof Notification | null {
  return typeof globalThis.Notification === 'function' ? globalThis.Notification : null;
}

export const useNotifications = create<NotificationsState & NotificationsActions>()((set, get) => ({
  ...notificationsInitialState,
  muted: storedMuted(),
  toggleMute(connectionId) {
    const muted = get().muted.includes(connectionId) ? get().muted.filter((id) => id !== connectionId) : [...get().muted, connectionId];
    set({ muted });
    try {
      globalThis.localStorage?.setItem(MUTED_KEY, JSON.stringify(muted));
    } catch {
      // Private mode or a full storage: muted for this session only.
    }
    // Unmuting is a user gesture: the moment to ask the browser for permission, if it has not been asked.
    const Page = pageNotifications();
    if (!muted.includes(connectionId) && Page?.permission === 'default') void Page.requestPermission();
  },
  async notify(e, connection, rehearsing, workflowName) {
    if (get().muted.includes(connection.id)) return;
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
      get().open(n.target);
      shown.close();
    };
  },
  open(target) {
    if (target.kind === 'run') openRun(target.id);
    else openWorkflow(target.id);
  },
}));
