import type { Dsl } from '../../preload/contract/entities.js';
import type { Backend } from '../backends/backend.js';
import { canaryLineSample, defectRateCanary, defectRateVersions, etlVersions } from '../engine/demo/workflows.js';
import type { Engine } from '../engine/engine.js';
import { RewindError } from '../engine/errors.js';
import { evaluateCheck, resolveWorkflow } from './checks.js';
import type { RollbackLevel } from '../engine/runbooks/format.js';

/*
 * Scenarios set up an incident in a sandbox before a rehearsal, through the Backend like any client:
 * they publish a bad version and start runs that fail, until seed 003's trigger (a failure rate above
 * 20 %) fires. They are written against the demo sandbox's workflows.
 */

export interface Scenario {
  name: string;
  description: string;
  level: RollbackLevel;
  /** Sets up the incident; answers what it did and the trigger it fired. */
  setup(backend: Backend): Promise<string>;
  /**
   * Why this sandbox cannot stage the incident as it is — a workflow already fixed (rolled back),
   * paused or missing — or null when it can. Read before anything changes, so the console can offer
   * to reset the sandbox to the demo first instead of failing half-way.
   */
  check(backend: Backend): Promise<string | null>;
}

/** What a scenario needs of one demo workflow: there, not paused, and (for an outage it only triggers) still on its newest, failing version. */
async function needs(backend: Backend, workflow: string, options: { onNewest?: boolean; noCanary?: boolean } = {}): Promise<string | null> {
  const { workflows } = await backend.call('workflows:list', { query: workflow });
  const wf = workflows.find((w) => w.name === workflow && w.status !== 'overridden') ?? workflows.find((w) => w.name === workflow);
  if (!wf) return `${workflow} is not in this sandbox`;
  if (wf.status !== 'active') return `${workflow} is ${wf.status}`;
  if (options.noCanary && wf.canary) return `${workflow} already runs a canary of v${wf.canary.version}`;
  if (options.onNewest) {
    const { versions } = await backend.call('versions:list', { workflow_id: wf.id, limit: 50, include_dsl: false });
    const newest = versions.find((v) => v.status === 'active' || v.status === 'deprecated')?.version ?? null;
    if (newest !== null && wf.active_version !== newest) return `${workflow} runs v${wf.active_version ?? '?'}, not its newest v${newest}: it was rolled back already`;
  }
  return null;
}

/** The first reason among several checks, or null. */
async function firstOf(...checks: Array<Promise<string | null>>): Promise<string | null> {
  for (const reason of await Promise.all(checks)) if (reason !== null) return reason;
  return null;
}

const ACTOR = { actor: 'scenario' };
const TRIGGER = 0.2;

/**
 * Publishes `dsl` as the workflow's new active version. A CODE workflow's bad deploy is a commit to its
 * code folder: on a sandbox (whose engine is at hand) the scenario stands in for that folder; elsewhere
 * the server refuses it (CODE_MANAGED), as it should.
 */
async function deployBad(backend: Backend, workflow: string, dsl: Dsl, changeLog: string): Promise<number> {
  const wf = await resolveWorkflow(backend, workflow);
  const deploy = async () => {
    const draft = await backend.call('versions:createDraft', { workflow_id: wf.id, dsl, change_log: changeLog, expected_revision: wf.revision }, ACTOR);
    await backend.call('versions:publish', { workflow_id: wf.id, version: draft.version }, ACTOR);
    return draft.version;
  };
  const engine = 'engine' in backend ? (backend as { engine: Engine }).engine : null;
  return wf.source_type === 'CODE' && engine ? engine.workflows.asCodeFolder(deploy) : deploy();
}

/** Starts `count` runs, then checks that the failure-rate trigger fires; a scenario that sets up no incident would make the rehearsal prove nothing. */
async function failRuns(backend: Backend, workflow: string, count: number, params: Record<string, unknown> = {}): Promise<string> {
  const wf = await resolveWorkflow(backend, workflow);
  for (let i = 0; i < count; i++) await backend.call('runs:start', { workflow_id: wf.id, params, wait: true }, ACTOR);
  const trigger = await evaluateCheck(backend, { type: 'workflow_failure_rate', workflow, window: count, below: TRIGGER });
  if (trigger.ok) {
    throw new RewindError('VALIDATION_FAILED', `The scenario expected ${workflow} to be failing, but ${trigger.detail}.`, 'Rehearse this scenario on a fresh demo sandbox.', { workflow });
  }
  return `${workflow}: ${trigger.detail}`;
}

// v3's paging step with a threshold a hundred times too tight: every verdict pages, and the pager endpoint is gone.
function defectMisconfig(): Dsl {
  const dsl = structuredClone(defectRateVersions[2]!.dsl);
  const judge = dsl.nodes.find((n) => n.id === 'judge_defect_rate')!;
  judge.params = { ...judge.params, rules: [{ field: 'defect_rate', op: '>', value: 0.0006, outcome: 'reject' }, { field: 'defect_rate', op: '>', value: 0.0003, outcome: 'warning' }] };
  return dsl;
}

// A partition-key change that leaves the aggregate empty: the load step refuses it, as a bad migration would.
function etlSchemaChange(): Dsl {
  const dsl = structuredClone(etlVersions[2]!.dsl);
  const clean = dsl.nodes.find((n) => n.id === 'clean')!;
  clean.params = { set: { currency: 'EUR', timezone: 'UTC', partition_key: 'order_date', schema_version: 5 } };
  return dsl;
}

const mlRegistryOutage: Scenario = {
  name: 'ml-registry-outage',
  description: "The ML pipeline's active v4 deploys to registry-v2, which refuses connections: every run fails at deploy.",
  level: 'application',
  setup: async (backend) => failRuns(backend, 'ml-training-pipeline', 3),
  check: (backend) => needs(backend, 'ml-training-pipeline', { onNewest: true }),
};

const defectThresholdMisconfig: Scenario = {
  name: 'defect-threshold-misconfig',
  description: 'A defect-rate threshold of 0.03 % is published by mistake: every sample pages the quality lead, and the pager webhook is gone.',
  level: 'configuration',
  setup: async (backend) => {
    const v = await deployBad(backend, 'defect-rate-judgment', defectMisconfig(), 'Threshold 0.03 % (typo for 3 %)');
    return `published v${v}; ${await failRuns(backend, 'defect-rate-judgment', 3)}`;
  },
  check: (backend) => needs(backend, 'defect-rate-judgment', { noCanary: true }),
};

const etlPartitionChange: Scenario = {
  name: 'etl-partition-schema-change',
  description: "The nightly ETL's v4 moves the partition key to order_date (schema 5): the aggregate comes out empty and the warehouse load refuses it.",
  level: 'database',
  setup: async (backend) => {
    const v = await deployBad(backend, 'nightly-orders-etl', etlSchemaChange(), 'Partition by order_date (schema v5)');
    return `published v${v}; ${await failRuns(backend, 'nightly-orders-etl', 2)}`;
  },
  check: (backend) => needs(backend, 'nightly-orders-etl'),
};

const defectCanaryBreach: Scenario = {
  name: 'defect-canary-breach',
  description: "Seed 000's canary: the defect judgment tightened to 2 % takes 10 % of the runs, its warning rate jumps, and the policy rolls it back by itself.",
  level: 'application',
  setup: async (backend) => {
    const wf = await resolveWorkflow(backend, 'defect-rate-judgment');
    const draft = await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: defectRateCanary.dsl, change_log: defectRateCanary.change_log, expected_revision: wf.revision }, ACTOR);
    await backend.call('versions:publish', { workflow_id: wf.id, version: draft.version, canary: defectRateCanary.policy }, ACTOR);
    // Seeded draws, bounded: the scenario ends once the policy has rolled the canary back.
    for (let i = 0; i < 400; i++) {
      if (!(await backend.call('workflows:get', { workflow_id: wf.id })).canary) break;
      await backend.call('runs:start', { workflow_id: wf.id, params: canaryLineSample(i), seed: 5000 + i, wait: true }, ACTOR);
    }
    const after = await backend.call('workflows:get', { workflow_id: wf.id });
    if (after.canary || after.active_version === draft.version) {
      throw new RewindError('VALIDATION_FAILED', `The canary v${draft.version} of defect-rate-judgment did not breach.`, 'Rehearse this scenario on a fresh demo sandbox.', { workflow: wf.id });
    }
    return `canary v${draft.version} at ${defectRateCanary.policy.percent} % rolled back by itself to v${after.active_version ?? '?'}`;
  },
  check: (backend) => needs(backend, 'defect-rate-judgment', { noCanary: true }),
};

const fullOutage: Scenario = {
  name: 'full-outage',
  description: 'All three at once: the ML registry outage, the defect-threshold typo and the ETL partition change.',
  level: 'full-system',
  setup: async (backend) => {
    const parts = [];
    for (const s of [mlRegistryOutage, defectThresholdMisconfig, etlPartitionChange]) parts.push(await s.setup(backend));
    return parts.join('; ');
  },
  check: (backend) => firstOf(mlRegistryOutage.check(backend), defectThresholdMisconfig.check(backend), etlPartitionChange.check(backend)),
};

export const scenarios: Readonly<Record<string, Scenario>> = Object.fromEntries(
  [mlRegistryOutage, defectThresholdMisconfig, etlPartitionChange, defectCanaryBreach, fullOutage].map((s) => [s.name, s]),
);

/** A scenario by name. Scenarios break things on purpose, so they run only against a sandbox. */
export function scenarioFor(name: string, backend: Backend): Scenario {
  const scenario = scenarios[name];
  if (!scenario) {
    throw new RewindError('NOT_FOUND', `There is no scenario named "${name}".`, `Pick one of: ${Object.keys(scenarios).join(', ')}.`, { scenario: name });
  }
  if (backend.kind !== 'sandbox') {
    throw new RewindError('FORBIDDEN', `The scenario "${name}" breaks workflows on purpose and runs only against a sandbox.`, 'Rehearse against the sandbox, or run the runbook live without a scenario.', {
      scenario: name,
    });
  }
  return scenario;
}
