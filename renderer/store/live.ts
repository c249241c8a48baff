import type { RewindBridge, RewindEvent } from '../../preload/contract/index.js';
import { onTransportState } from '../api/client.js';
import { describeEvent, isToastWorthy } from '../shared/event-text.js';
import { useApprovals } from './approvals-store.js';
import { useAudit } from './audit-store.js';
import { useCanary } from './canary-store.js';
import { useConnections } from './connections-store.js';
import { useIncidents } from './incidents-store.js';
import { useInspector } from './inspector-store.js';
import { useNotifications } from './notifications-store.js';
import { useRehearsal } from './rehearsal-store.js';
import { useRollback } from './rollback-store.js';
import { useRuns } from './runs-store.js';
import { useSnapshot } from './snapshot-store.js';
import { useTimeline } from './timeline-store.js';
import { useToasts } from './toasts-store.js';
import { useWorkflows } from './workflows-store.js';

const REFRESH_MS = 150;

function debounce(fn: () => void, ms: number): () => void {
  let t: ReturnType<typeof setTimeout> | null = null;
  return () => {
    if (t) clearTimeout(t);
    t = setTimeout(() => {
      t = null;
      fn();
    }, ms);
  };
}

/** The actor a rehearsal's scenario sets its incident up as (main/runbooks/scenarios.ts). */
export const SCENARIO_ACTOR = 'scenario';

/**
 * Another operator's change: its actor is not the one this console acts as on the connection, nor
 * the scenario of a rehearsal this console started (its staged failures are expected, not news).
 */
export function isSomeoneElses(e: RewindEvent, ownActor: string | null, rehearsingScenario: boolean): boolean {
  if (rehearsingScenario && e.actor === SCENARIO_ACTOR) return false;
  return e.actor !== ownActor;
}

/** A notifiable event of any watched connection (main sent it: that connection is not muted). */
function notifyFor(connectionId: string, e: RewindEvent, workflowName: string | null): void {
  const connection = useConnections.getState().connections.find((c) => c.id === connectionId);
  if (!connection) return;
  const rehearsingScenario = Object.values(useRehearsal.getState().sessions).some((s) => s.connection_id === connectionId && s.scenario !== null);
  // The selected connection's mirror is fresher than main's name cache (its list reloads on every change).
  const mirrored = connection.selected ? useWorkflows.getState().workflows.find((w) => w.id === e.workflow_id)?.name : undefined;
  void useNotifications.getState().notify(e, connection, rehearsingScenario, mirrored ?? workflowName);
}

function toastFor(e: RewindEvent): void {
  const selected = useConnections.getState().connections.find((c) => c.selected);
  const rehearsingScenario = Object.values(useRehearsal.getState().sessions).some((s) => s.connection_id === selected?.id && s.scenario !== null);
  if (!isSomeoneElses(e, selected?.actor ?? null, rehearsingScenario) || !isToastWorthy(e)) return;
  const wf = useWorkflows.getState().workflows.find((w) => w.id === e.workflow_id);
  useToasts.getState().push({
    kind: e.type === 'run_failed' || e.type === 'run_interrupted' ? 'warning' : 'info',
    title: describeEvent(e),
    body: `${e.actor}${wf ? ` · ${wf.name}` : ''}`,
  });
}

/** Wires the API's pushes into the stores; returns the unsubscribe. */
export function startLive(bridge: RewindBridge): () => void {
  const reloadWorkflows = debounce(() => void useWorkflows.getState().load(), REFRESH_MS);
  const reloadRuns = debounce(() => void useRuns.getState().load(), REFRESH_MS);
  const reloadIncidents = debounce(() => void useIncidents.getState().load(), REFRESH_MS);
  const reloadApprovals = debounce(() => void useApprovals.getState().load(), REFRESH_MS);
  const reloadHealth = debounce(() => {
    const id = useCanary.getState().workflowId;
    if (id) void useCanary.getState().loadHealth(id);
  }, REFRESH_MS);

  const onEvent = (e: RewindEvent) => {
    useAudit.getState().append(e);
    if (e.workflow_id) {
      reloadWorkflows();
      reloadIncidents();
      void useTimeline.getState().applyEvent(e);
      // A run's end changes its version's health; the open workflow's is re-read.
      if (e.workflow_id === useCanary.getState().workflowId && (/^run_(succeeded|failed|interrupted)$/.test(e.type) || e.type.startsWith('canary_'))) reloadHealth();
      if (e.type === 'workflow_rollback' || e.type === 'version_published' || e.type === 'version_archived') useRollback.getState().refreshIfShowing(e.workflow_id);
    }
    if (e.run_id) {
      reloadRuns();
      reloadApprovals();
      if (useInspector.getState().runId === e.run_id) void useInspector.getState().refresh();
    }
    toastFor(e);
  };

  const offEvents = bridge.on('events:appended', ({ connection_id, event }) => {
    const selected = useConnections.getState().connections.find((c) => c.selected);
    if (selected && selected.id !== connection_id) return;
    onEvent(event);
  });
  const offConnections = bridge.on('connections:changed', ({ connections }) => useConnections.getState().applyPush(connections));
  const offRehearsals = bridge.on('rehearsals:progress', (session) => useRehearsal.getState().applyProgress(session));
  const offSnapshots = bridge.on('snapshots:progress', (progress) => useSnapshot.getState().applyProgress(progress));
  const offNotifications = bridge.on('notifications:event', ({ connection_id, event, workflow_name }) => notifyFor(connection_id, event, workflow_name));
  const offNotificationClicks = bridge.on('notifications:clicked', ({ connection_id, target }) => void useNotifications.getState().open(connection_id, target));

  let wasDown = false;
  const offTransport = onTransportState((s) => {
    if (s === 'reconnecting') wasDown = true;
    if (s === 'open' && wasDown) {
      wasDown = false;
      // Pushes sent while we were away are gone: catch up from the log and re-read the mirrors.
      void useConnections.getState().load();
      void useAudit.getState().catchUp();
      reloadWorkflows();
      reloadRuns();
      reloadIncidents();
      reloadApprovals();
      void useInspector.getState().refresh();
      void useRehearsal.getState().loadSessions();
    }
  });

  return () => {
    offEvents();
    offConnections();
    offRehearsals();
    offSnapshots();
    offNotifications();
    offNotificationClicks();
    offTransport();
  };
}
