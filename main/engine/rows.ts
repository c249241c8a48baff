import type { Checkpoint, Run, Workflow, WorkflowVersion } from '../../preload/contract/entities.js';
import type { Dialect } from './store/port.js';
import { type CheckpointFormat, foldStates } from './checkpoint-state.js';

/* Row shapes as the store returns them, and their mapping to the contract's entities. */

export interface WorkflowRow {
  id: string;
  name: string;
  description: string;
  source_type: 'MANUAL' | 'CODE';
  status: 'active' | 'paused' | 'overridden';
  schedule: string | null;
  active_version: number | null;
  revision: number;
  created_at: string;
  updated_at: string;
  failed_runs: number;
  unregistered_at: string | null;
  code_file: string | null;
  template_name: string | null;
  template_version: number | null;
}

export interface VersionRow {
  version_id: string;
  workflow_id: string;
  version: number;
  dsl_definition: string;
  change_log: string;
  status: WorkflowVersion['status'];
  created_by: string;
  published_at: string | null;
  created_at: string;
}

export interface RunRow {
  run_id: string;
  workflow_id: string;
  version: number;
  status: Run['status'];
  kind: Run['kind'];
  params: string;
  seed: number;
  faults: string;
  parent_run_id: string | null;
  resumed_from_seq: number | null;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  failed_node: string | null;
  runner_id: string | null;
  created_by: string;
  created_at: string;
  drawn_reason?: string | null;
  verdicts?: string | null;
  trigger: Run['trigger'];
  logical_date: string | null;
  pruned_at?: string | null;
  pruned_after?: string | null;
}

export interface CheckpointRow {
  run_id: string;
  seq: number;
  node_id: string;
  status: Checkpoint['status'];
  state: string;
  created_at: string;
  /** How `state` is stored: the state itself, or what its node changed (see checkpoint-state.ts). */
  format: CheckpointFormat;
}

export const toWorkflow = ({ template_name, template_version, ...r }: WorkflowRow): Workflow => ({
  ...r,
  version: r.active_version,
  template: template_name === null || template_version === null ? null : { name: template_name, version: template_version },
});

export const toVersion = (r: VersionRow): WorkflowVersion => ({
  ...r,
  dsl_definition: JSON.parse(r.dsl_definition) as WorkflowVersion['dsl_definition'],
});

export const toRun = ({ runner_id: _runner, ...r }: RunRow): Run => ({
  ...r,
  pruned_at: r.pruned_at ?? null,
  pruned_after: r.pruned_after ?? null,
  drawn_reason: r.drawn_reason ?? null,
  verdicts: r.verdicts ? (JSON.parse(r.verdicts) as Record<string, string>) : null,
  params: JSON.parse(r.params) as Run['params'],
  faults: JSON.parse(r.faults) as Run['faults'],
});

/** A run's checkpoints from its rows in seq order (from its first): each state folded from the rows before it. */
export function toCheckpoints(rows: CheckpointRow[]): Checkpoint[] {
  const states = foldStates(rows);
  return rows.map(({ format: _format, ...r }, i) => ({ ...r, state: states[i] }));
}

/**
 * Failed or interrupted runs of the last 24 hours that no resume has followed: the workflow list's
 * incident badge (older failures are history, on the runs list, not an open incident). Counted in
 * `open_failures` (kept by triggers on runs), an index range of those failures only.
 */
export const failedRunsSql = (dialect: Dialect): string => `(SELECT COUNT(*) FROM open_failures f WHERE f.workflow_id = w.id AND f.created_at > ${dialect.isoAgo('1 day')})`;
