import type Database from 'better-sqlite3';
import type { Checkpoint, Run } from '../../preload/contract/entities.js';
import { type CheckpointState, encodeState } from '../engine/checkpoint-state.js';
import { SNAPSHOT_RUNNER_ID } from '../engine/runners.js';

/*
 * Rows a copy of a server writes into a sandbox file of its own — a snapshot (snapshot.ts) or an
 * imported archive (archive/import.ts): the same tables the engine's migrations made, filled from
 * what the server answered.
 */

export const INSERT_META = 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

export const INSERT_WORKFLOW = `INSERT INTO workflows (id, name, description, source_type, status, schedule, active_version, revision, created_at, updated_at,
     unregistered_at, code_file, template_name, template_version)
   VALUES (@id, @name, @description, @source_type, @status, @schedule, @active_version, @revision, @created_at, @updated_at,
     @unregistered_at, @code_file, @template_name, @template_version)`;

export const INSERT_VERSION = `INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, change_log, status, created_by, published_at, created_at)
   VALUES (@version_id, @workflow_id, @version, @dsl_definition, @change_log, @status, @created_by, @published_at, @created_at)`;

export const INSERT_RUN = `INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, resumed_from_seq, started_at, finished_at, error, failed_node,
     runner_id, created_by, created_at, drawn_reason, verdicts, trigger, logical_date, pruned_at, pruned_after)
   VALUES (@run_id, @workflow_id, @version, @status, @kind, @params, @seed, @faults, @parent_run_id, @resumed_from_seq, @started_at, @finished_at, @error, @failed_node,
     @runner_id, @created_by, @created_at, @drawn_reason, @verdicts, @trigger, @logical_date, @pruned_at, @pruned_after)`;

export const INSERT_CHECKPOINT = 'INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at, format) VALUES (?, ?, ?, ?, ?, ?, ?)';

/** A run as a server answers it, as a row of the copy: the snapshot runner's, so nothing executes, interrupts or takes it over. */
export function copiedRunRow(run: Run, parentRunId: string | null = run.parent_run_id): Record<string, unknown> {
  return {
    ...run,
    params: JSON.stringify(run.params),
    faults: JSON.stringify(run.faults),
    parent_run_id: parentRunId,
    runner_id: SNAPSHOT_RUNNER_ID,
    // Servers from before canaries send neither.
    drawn_reason: run.drawn_reason ?? null,
    verdicts: run.verdicts ? JSON.stringify(run.verdicts) : null,
    // Servers from before retention send neither; a pruned run stays pruned in the copy.
    pruned_at: run.pruned_at ?? null,
    pruned_after: run.pruned_after ?? null,
  };
}

/** The states as the server answers them, stored as the run service stores them (each what it added to the one before). */
export function writeCheckpoints(insert: Database.Statement, checkpoints: readonly Checkpoint[]): void {
  let context: Record<string, unknown> = {};
  for (const c of checkpoints) {
    const row = encodeState(context, c.state as CheckpointState);
    context = row.context;
    insert.run(c.run_id, c.seq, c.node_id, c.status, row.text, c.created_at, row.format);
  }
}
