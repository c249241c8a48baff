import { eventTypes, type Checkpoint, type ConnectionInfo, type FailingWorkflow, type RehearsalSession, type Role, type Run, type StoredRunbook, type Workflow } from '../../preload/contract/index.js';
import type { AuditState } from './audit-store.js';
import type { ConnectionsState } from './connections-store.js';
import type { IncidentsState } from './incidents-store.js';
import type { InspectorState } from './inspector-store.js';
import type { RehearsalState } from './rehearsal-store.js';
import type { RunbooksState } from './runbooks-store.js';
import type { RunsState } from './runs-store.js';
import type { WorkflowsState } from './workflows-store.js';

/*
 * Named selectors, one file. Those returning derived arrays or objects are used with `useShallow`,
 * so a component re-renders only when the elements themselves change.
 */

export const selectSelectedConnection = (s: ConnectionsState): ConnectionInfo | null => s.connections.find((c) => c.selected) ?? null;

/** When the selected connection is a snapshot: the moment it was taken (what its times are relative to), else null. */
export const selectSnapshotTakenAt = (s: ConnectionsState): string | null => selectSelectedConnection(s)?.snapshot?.taken_at ?? null;

/** Connections with a tampered or truncated log, the selected one first. Use with `useShallow`. */
export const selectAlarmedConnections = (s: ConnectionsState): ConnectionInfo[] =>
  s.connections.filter((c) => c.alarm !== null).sort((a, b) => Number(b.selected) - Number(a.selected));

/** The console's role on the selected connection; null until the server has said. */
export const selectRole = (s: ConnectionsState): Role | null => selectSelectedConnection(s)?.role ?? null;

/** The failing-workflow entry of the incident summary for one workflow, if it is failing. */
export const selectIncidentFor =
  (workflowId: string | null) =>
  (s: IncidentsState): FailingWorkflow | null =>
    s.summary?.failing.find((f) => f.workflow_id === workflowId) ?? null;


/** The environment a connection is shown as: what its server says it serves, else what was typed when adding it. */
export const shownEnvironment = (c: ConnectionInfo): string => c.server_environment ?? c.environment;

/** A server that says it serves another environment than the one typed when adding it (e.g. added as staging, serves production). */
export const environmentMismatch = (c: ConnectionInfo): boolean => c.kind === 'remote' && c.server_environment !== null && c.server_environment !== c.environment;

/** Production by either account (the server's or the operator's): the stronger confirmation errs on the safe side. */
export const selectIsProduction = (s: ConnectionsState): boolean => {
  const c = selectSelectedConnection(s);
  return c !== null && (c.environment === 'production' || c.server_environment === 'production');
};

export function selectFilteredWorkflows(s: WorkflowsState): Workflow[] {
  const q = s.query.trim().toLowerCase();
  if (!q) return s.workflows;
  return s.workflows.filter((w) => w.name.toLowerCase().includes(q) || w.id.toLowerCase().includes(q) || w.description.toLowerCase().includes(q));
}

export const selectSelectedWorkflow = (s: WorkflowsState): Workflow | null => s.workflows.find((w) => w.id === s.selectedId) ?? null;

export const selectRuns = (s: RunsState): Run[] => s.runs;

/** What the audit log's count says: the log's length unfiltered, else how many matches are loaded (and whether more are older). */
export function selectAuditCount(s: AuditState): string {
  const f = s.filter;
  if (!s.loaded) return '';
  if (!f.workflowId && !f.actor && !f.type && !f.since && !f.until) return `${s.headSeq.toLocaleString('en')} events`;
  return `${s.events.length.toLocaleString('en')}${s.nextBefore === null ? '' : '+'} matching`;
}

/** Actors to suggest: those of the rows loaded, and the one filtered on. Use with `useShallow`. */
export function selectAuditActors(s: AuditState): string[] {
  const seen = new Set(s.events.map((e) => e.actor));
  if (s.filter.actor) seen.add(s.filter.actor);
  return [...seen].sort();
}

/** Every type the log can hold, with any other seen in the rows loaded. Use with `useShallow`. */
export function selectAuditTypes(s: AuditState): string[] {
  const seen = new Set<string>(eventTypes);
  for (const e of s.events) seen.add(e.type);
  if (s.filter.type) seen.add(s.filter.type);
  return [...seen].sort();
}

export const selectSelectedCheckpoint = (s: InspectorState): Checkpoint | null => s.checkpoints.find((c) => c.seq === s.selectedSeq) ?? null;

/*
 * node: pending → running → succeeded | failed | denied   (restored: carried over from the parent on
 * resume; denied: the approval node an operator denied — its run ended denied, not failed)
 */
export type NodeState = 'pending' | 'running' | 'succeeded' | 'failed' | 'restored' | 'denied';

/** Each DSL node's state in the inspected run, from its latest checkpoint. */
export function selectNodeStates(s: InspectorState): Record<string, NodeState> {
  const out: Record<string, NodeState> = {};
  if (!s.dsl) return out;
  for (const n of s.dsl.nodes) out[n.id] = 'pending';
  for (const c of s.checkpoints) out[c.node_id] = c.status;
  const run = s.run;
  if (run && (run.status === 'running' || run.status === 'queued')) {
    // A pending node whose predecessors all finished is the one running now.
    const preds = new Map<string, string[]>();
    for (const n of s.dsl.nodes) for (const m of n.next) preds.set(m, [...(preds.get(m) ?? []), n.id]);
    for (const n of s.dsl.nodes) {
      if (out[n.id] !== 'pending') continue;
      const ps = preds.get(n.id) ?? [];
      if (ps.every((p) => out[p] === 'succeeded' || out[p] === 'restored')) out[n.id] = 'running';
    }
  }
  if (run?.failed_node && out[run.failed_node] === 'pending') out[run.failed_node] = 'failed';
  if (run?.status === 'denied' && run.failed_node && out[run.failed_node] === 'failed') out[run.failed_node] = 'denied';
  return out;
}

export const selectSelectedRunbook = (s: RunbooksState): StoredRunbook | null => s.runbooks.find((r) => r.id === s.selectedId) ?? null;

/** The session the rehearse panel shows, if it belongs to the connection the console talks to now. */
export function selectActiveSession(s: RehearsalState, connectionId: string | null): RehearsalSession | null {
  const session = s.activeId ? s.sessions[s.activeId] : undefined;
  return session && session.connection_id === connectionId ? session : null;
}

/** Who this console acts as on the selected connection (the token's name, or the signed-in person). */
export const selectActor = (s: ConnectionsState): string | null => selectSelectedConnection(s)?.actor ?? null;
