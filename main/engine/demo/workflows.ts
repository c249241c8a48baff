import type { CanarySpec } from '../../../preload/contract/canary.js';
import type { Dsl } from '../../../preload/contract/entities.js';

/*
 * The demo sandbox's definitions, drawn from the origin documents: a defect-rate judgment whose
 * threshold moved from 5 % to 3 % (seed 001), an ML training pipeline (seed 002) and a nightly ETL
 * batch (seed 004). Each list is the workflow's versions in order.
 */

const inspection = (threshold: number, extra: Dsl['nodes'] = []): Dsl => ({
  defaults: { line: 'A3', defect_rate: 0.02, sample_size: 500 },
  nodes: [
    { id: 'collect_samples', type: 'task', name: 'Collect inspection samples', params: { duration_ms: 4000 }, next: ['judge_defect_rate'] },
    {
      id: 'judge_defect_rate',
      type: 'judgment',
      name: 'Judge defect rate',
      params: {
        rules: [
          { field: 'defect_rate', op: '>', value: threshold * 2, outcome: 'reject' },
          { field: 'defect_rate', op: '>', value: threshold, outcome: 'warning' },
        ],
        default: 'pass',
      },
      next: ['record_verdict'],
    },
    { id: 'record_verdict', type: 'transform', name: 'Record verdict', params: { copy: { 'report.verdict': 'outputs.judge_defect_rate.verdict', 'report.line': 'line' } }, next: extra.map((n) => n.id) },
    ...extra,
  ],
});

export const defectRateVersions: Array<{ dsl: Dsl; change_log: string }> = [
  { dsl: inspection(0.05), change_log: 'Defect-rate judgment: warn above 5 %, reject above 10 %' },
  { dsl: inspection(0.03), change_log: 'Tighten threshold to 3 % after customer complaint QA-1182' },
  {
    dsl: inspection(0.03, [
      {
        id: 'notify_quality',
        type: 'task',
        name: 'Page the quality lead',
        params: { duration_ms: 1500, fail_if: { field: 'report.verdict', op: '!=', value: 'pass' }, error: 'pager webhook returned 410 Gone (old endpoint)' },
        next: [],
      },
    ]),
    change_log: 'Page the quality lead on every non-pass verdict',
  },
];

/**
 * Seed 000's canary: the judgment tightened to warn above 2 %, tried on 10 % of the runs. Lines
 * sampling 2–3 % pass under v2 and warn under it: the warning rate jumps, and the policy rolls it back.
 */
export const defectRateCanary: { dsl: Dsl; change_log: string; policy: CanarySpec } = {
  dsl: inspection(0.02),
  change_log: 'Warn above 2 % (quality audit QA-1204), as a 10 % canary',
  policy: { percent: 10, min_runs: 5, max_failure_rate: 0.1, verdict: { key: 'verdict', value: 'warning', max_rate: 0.2 }, window_runs: 20, promote: 'auto' },
};

/** A sampled defect rate between 2.1 % and 2.8 %: a pass under v2's 3 %, a warning under the canary's 2 %. */
export const canaryLineSample = (i: number): Record<string, unknown> => ({ line: ['A3', 'B1', 'C2'][i % 3], defect_rate: 0.021 + (i % 8) * 0.001 });

const ml = (opts: { epochs: number; minAccuracy: number; validate: boolean; deploy: Record<string, unknown> }): Dsl => ({
  defaults: { dataset: 's3://ml-data/defects/2026-11', accuracy: 0.93, model: 'defect-classifier' },
  nodes: [
    { id: 'load_data', type: 'task', name: 'Load training data', params: { duration_ms: 120_000, output: { rows: 1_284_300 } }, next: [opts.validate ? 'validate_schema' : 'train'] },
    ...(opts.validate
      ? [{ id: 'validate_schema', type: 'transform' as const, name: 'Validate schema', params: { set: { schema_version: 4 } }, next: ['train'] }]
      : []),
    { id: 'train', type: 'task', name: 'Train model', params: { duration_ms: 900_000, output: { epochs: opts.epochs, checkpoint_uri: 's3://ml-models/defect-classifier/ckpt-final' } }, next: ['evaluate'] },
    {
      id: 'evaluate',
      type: 'judgment',
      name: 'Evaluate accuracy',
      params: { rules: [{ field: 'accuracy', op: '<', value: opts.minAccuracy, outcome: 'reject' }], default: 'promote', output_key: 'evaluation' },
      next: ['deploy'],
    },
    { id: 'deploy', type: 'task', name: 'Deploy to model registry', params: { duration_ms: 60_000, ...opts.deploy }, next: [] },
  ],
});

export const mlVersions: Array<{ dsl: Dsl; change_log: string }> = [
  { dsl: ml({ epochs: 10, minAccuracy: 0.9, validate: false, deploy: { output: { registry: 'registry.internal' } } }), change_log: 'Initial training pipeline' },
  {
    dsl: ml({ epochs: 20, minAccuracy: 0.9, validate: false, deploy: { fail_if: { field: 'outputs.evaluate.evaluation', op: '==', value: 'promote' }, error: 'deploy step inverted the promote check' } }),
    change_log: 'Train 20 epochs; refactor deploy gate',
  },
  { dsl: ml({ epochs: 20, minAccuracy: 0.9, validate: true, deploy: { output: { registry: 'registry.internal' } } }), change_log: 'Fix deploy gate; validate schema before training' },
  {
    dsl: ml({ epochs: 20, minAccuracy: 0.9, validate: true, deploy: { failure_rate: 1, error: 'registry-v2.internal:443 connection refused (ECONNREFUSED)' } }),
    change_log: 'Move deploys to registry-v2',
  },
];

const etl = (opts: { dedupe: boolean; aggregate: Record<string, unknown> }): Dsl => ({
  defaults: { partition: 'yesterday', source: 'orders_db', target: 'warehouse.orders_daily' },
  nodes: [
    { id: 'extract', type: 'task', name: 'Extract orders', params: { duration_ms: 300_000, output: { extracted_rows: 482_113 } }, next: [opts.dedupe ? 'dedupe' : 'clean'] },
    ...(opts.dedupe ? [{ id: 'dedupe', type: 'transform' as const, name: 'Drop duplicate orders', params: { scale: { field: 'extracted_rows', factor: 0.997, to: 'unique_rows' } }, next: ['clean'] }] : []),
    { id: 'clean', type: 'transform', name: 'Clean and normalise', params: { set: { currency: 'EUR', timezone: 'UTC' } }, next: ['aggregate'] },
    { id: 'aggregate', type: 'task', name: 'Aggregate per day', params: { duration_ms: 600_000, ...opts.aggregate }, next: ['check_counts'] },
    {
      id: 'check_counts',
      type: 'judgment',
      name: 'Row-count check',
      params: { rules: [{ field: 'aggregated_rows', op: '<', value: 1, outcome: 'empty' }], default: 'ok', output_key: 'count_check' },
      next: ['load_warehouse'],
    },
    { id: 'load_warehouse', type: 'task', name: 'Load warehouse', params: { duration_ms: 240_000, fail_if: { field: 'outputs.check_counts.count_check', op: '==', value: 'empty' }, error: 'refusing to load an empty partition' }, next: [] },
  ],
});

export const etlVersions: Array<{ dsl: Dsl; change_log: string }> = [
  { dsl: etl({ dedupe: false, aggregate: { output: { aggregated_rows: 365 } } }), change_log: 'Nightly orders ETL' },
  { dsl: etl({ dedupe: true, aggregate: { output: { aggregated_rows: 365 } } }), change_log: 'Drop duplicate orders before cleaning' },
  { dsl: etl({ dedupe: true, aggregate: { output: { aggregated_rows: 0 } } }), change_log: 'Aggregate by order date instead of ship date' },
];
