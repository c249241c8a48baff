import type { Dsl } from '../../../preload/contract/entities.js';

/*
 * The shape of a team's server after months of use, as issue 19 measured it: several workflows of
 * ten nodes, new versions every few days (one in four bad, rolled back within the hour), pauses,
 * ~200 runs an hour, 2 % failures. One busy workflow keeps its version for the last part of the
 * history, so a long log has a version with ~100k runs on it (the "opens a workflow" case).
 */

export const RUNS_PER_HOUR = 200;
export const WORKFLOWS = 8;
/** The busy workflow's share of all runs. */
export const BUSY_SHARE = 0.5;
/** Simulated hours between two publishes of one (non-busy) workflow. */
export const PUBLISH_EVERY_HOURS = 48;
/** One publish in this many is a bad version (30 % failures at `publish`), rolled back after an hour. */
export const BAD_EVERY = 4;
export const BAD_FOR_HOURS = 1;
/** Per-node failure chance of a good version: five tasks, ~2 % of runs fail. */
export const NODE_FAILURE_RATE = 0.004;
/** A failed run of a bad version is resumed on the good version after its rollback this often. */
export const RESUME_SHARE = 0.5;
/** The busy workflow stops publishing this far into the history (its last version then collects runs). */
export const BUSY_FREEZE_AT = 0.55;
/** Pauses: a workflow is paused this often, for half an hour. */
export const PAUSE_EVERY_HOURS = 24 * 9;

export const PEOPLE = ['mina.kim', 'joon.park', 'oncall.sre', 'ari.lee'] as const;

export const workflowName = (i: number) => (i === 0 ? 'orders-etl' : `pipeline-${String(i).padStart(2, '0')}`);

/**
 * A ten-node pipeline. `variant` changes thresholds and outputs from one version to the next (so
 * diffs have something to show); `bad` makes `publish` fail 30 % of the time.
 */
export function pipelineDsl(workflow: number, variant: number, bad: boolean): Dsl {
  const threshold = 0.03 + ((variant % 5) * 0.005);
  const rate = (extra = 0) => NODE_FAILURE_RATE + extra;
  return {
    defaults: { source: `orders_db_${workflow}`, partition: 'yesterday', defect_rate: 0.02, region: 'eu-west-1' },
    nodes: [
      { id: 'extract', type: 'task', name: 'Extract', params: { duration_ms: 900, failure_rate: rate(), output: { extracted_rows: 40_000 + workflow * 1000 + variant, batch_id: `b-${workflow}-${variant}` }, error: 'source database timed out' }, next: ['validate'] },
      { id: 'validate', type: 'transform', name: 'Validate schema', params: { set: { schema_version: 4 + (variant % 3), validated: true } }, next: ['enrich'] },
      { id: 'enrich', type: 'task', name: 'Enrich with customer data', params: { duration_ms: 1200, failure_rate: rate(), output: { enriched: true, lookup_ms: 40 } }, next: ['score'] },
      {
        id: 'score',
        type: 'judgment',
        name: 'Score defect rate',
        params: { rules: [{ field: 'defect_rate', op: '>', value: threshold * 2, outcome: 'reject' }, { field: 'defect_rate', op: '>', value: threshold, outcome: 'warning' }], default: 'pass' },
        next: ['dedupe'],
      },
      { id: 'dedupe', type: 'transform', name: 'Drop duplicates', params: { scale: { field: 'extracted_rows', factor: 0.997, to: 'unique_rows' } }, next: ['aggregate'] },
      { id: 'aggregate', type: 'task', name: 'Aggregate per day', params: { duration_ms: 1500, failure_rate: rate(), output: { aggregated_rows: 365 } }, next: ['check_counts'] },
      {
        id: 'check_counts',
        type: 'judgment',
        name: 'Row-count check',
        params: { rules: [{ field: 'aggregated_rows', op: '<', value: 1, outcome: 'empty' }], default: 'ok', output_key: 'count_check' },
        next: ['publish'],
      },
      {
        id: 'publish',
        type: 'task',
        name: 'Publish to warehouse',
        params: { duration_ms: 1100, failure_rate: rate(bad ? 0.3 : 0), output: { published: true, table: `warehouse.orders_${workflow}` }, error: bad ? 'warehouse rejected the load: column "region_code" does not exist' : 'warehouse connection reset' },
        next: ['notify'],
      },
      { id: 'notify', type: 'task', name: 'Notify downstream', params: { duration_ms: 300, failure_rate: rate(), output: { notified: 2 } }, next: ['record'] },
      { id: 'record', type: 'transform', name: 'Record outcome', params: { copy: { 'report.verdict': 'outputs.score.verdict', 'report.rows': 'aggregated_rows' } }, next: [] },
    ],
  };
}
