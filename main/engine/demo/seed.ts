import type { Engine } from '../engine.js';
import { lineInspectionDsl } from './inspection.js';
import { canaryLineSample, defectRateCanary, defectRateVersions, etlVersions, mlVersions } from './workflows.js';

const HOUR = 3_600_000;

/**
 * Seeds an empty sandbox with three workflows and a believable past: several versions each, a
 * rollback in every history, a canary that rolled itself back (seed 000's story), replays, a resumed interruption, and one open incident — the ML
 * pipeline's latest version fails at `deploy` after four good checkpoints, its failed run waiting
 * to be resumed once an operator rolls back.
 */
export async function seedDemo(engine: Engine, actor: string): Promise<void> {
  // The nightly ETL is a CODE workflow: its past versions stand for commits to the code folder.
  await engine.workflows.asCodeFolder(() => seedHistory(engine, actor));
}

/**
 * What only a demo workflow server seeds: `line-inspection`, whose http node calls the server's own
 * inspection station. It has no past runs: they would need the server listening, and seeding comes first.
 */
export async function seedServerDemo(engine: Engine, actor: string): Promise<void> {
  await engine.workflows.create(
    {
      name: 'line-inspection',
      description: 'Asks this server’s demo inspection station (GET /demo/inspect?batch=N) about a batch over http and judges the measured defect rate. Start it with {"batch": N}.',
      dsl: lineInspectionDsl,
      change_log: 'Real work: the defect rate comes from the inspection station over http',
      source_type: 'MANUAL',
    },
    actor,
  );
}

async function seedHistory(engine: Engine, actor: string): Promise<void> {
  const start = Date.now() - 14 * 24 * HOUR;
  let t = start;
  const at = <T>(hoursLater: number, fn: () => Promise<T>): Promise<T> => {
    t += hoursLater * HOUR;
    return engine.atTime(new Date(t), fn);
  };
  const { workflows, versions, runs } = engine;
  const people = { lead: 'mina.kim', dev: 'joon.park', ops: actor };

  // Defect-rate judgment: 5 % → 3 %, then a paging step that broke, rolled back to v2.
  const defect = await at(0, () =>
    workflows.create(
      {
        name: 'defect-rate-judgment',
        description: 'Judges each production line’s sampled defect rate and records a pass / warning / reject verdict.',
        dsl: defectRateVersions[0]!.dsl,
        change_log: defectRateVersions[0]!.change_log,
        schedule: '*/30 * * * *',
        source_type: 'MANUAL',
      },
      people.lead,
    ),
  );
  const d1 = await at(2, () => runs.start({ workflow_id: defect.id, params: { line: 'A3', defect_rate: 0.04 }, seed: 11, faults: {}, wait: false }, people.ops));
  await at(20, () => versions.createDraft({ workflow_id: defect.id, dsl: defectRateVersions[1]!.dsl, change_log: defectRateVersions[1]!.change_log }, people.lead));
  await at(1, () => versions.publish({ workflow_id: defect.id, version: 2 }, people.lead));
  await at(1, () => runs.startReplay({ run_id: d1.run_id, version: 2 }, people.lead));
  await at(3, () => runs.start({ workflow_id: defect.id, params: { line: 'B1', defect_rate: 0.025 }, seed: 12, faults: {}, wait: false }, people.ops));
  await at(30, () => versions.createDraft({ workflow_id: defect.id, dsl: defectRateVersions[2]!.dsl, change_log: defectRateVersions[2]!.change_log }, people.dev));
  await at(1, () => versions.publish({ workflow_id: defect.id, version: 3 }, people.dev));
  await at(2, () => runs.start({ workflow_id: defect.id, params: { line: 'A3', defect_rate: 0.041 }, seed: 13, faults: {}, wait: false }, people.ops));
  await at(0.2, () => versions.rollback({ workflow_id: defect.id, version: 2 }, people.ops));
  await at(1, () => runs.start({ workflow_id: defect.id, params: { line: 'A3', defect_rate: 0.041 }, seed: 14, faults: {}, wait: false }, people.ops));

  // Seed 000's canary: v4 takes 10 % of the runs, its warning rate jumps, and it rolls itself back to v2.
  await at(4, () => versions.createDraft({ workflow_id: defect.id, dsl: defectRateCanary.dsl, change_log: defectRateCanary.change_log }, people.lead));
  await at(0.5, () => engine.canaries.start({ workflow_id: defect.id, version: 4, canary: defectRateCanary.policy }, people.lead));
  // Seeded draws: the same runs draw the canary on every machine. Bounded, should a policy change stop it breaching.
  for (let i = 0; i < 400 && (await engine.canaries.current(defect.id)) !== null; i++) {
    await at(0.1, () => runs.start({ workflow_id: defect.id, params: canaryLineSample(i), seed: 1000 + i, faults: {}, wait: false }, 'scheduler'));
  }

  // Nightly ETL: dedupe added, then an aggregation change that emptied the partition, rolled back;
  // one night the worker died mid-run and the run was resumed from its checkpoint.
  const etlWf = await at(2, () =>
    workflows.create(
      {
        name: 'nightly-orders-etl',
        description: 'Extracts yesterday’s orders, cleans and aggregates them, and loads the warehouse.',
        dsl: etlVersions[0]!.dsl,
        change_log: etlVersions[0]!.change_log,
        schedule: '0 2 * * *',
        source_type: 'CODE',
      },
      people.dev,
    ),
  );
  await at(12, () => runs.start({ workflow_id: etlWf.id, params: {}, seed: 21, faults: {}, wait: false }, 'scheduler'));
  await at(10, () => versions.createDraft({ workflow_id: etlWf.id, dsl: etlVersions[1]!.dsl, change_log: etlVersions[1]!.change_log }, people.dev));
  await at(1, () => versions.publish({ workflow_id: etlWf.id, version: 2 }, people.dev));
  const crashed = await at(13, () => runs.start({ workflow_id: etlWf.id, params: {}, seed: 22, faults: { crash_at_node: 'aggregate' }, wait: false }, 'scheduler'));
  await at(1, () => runs.resume({ run_id: crashed.run_id, faults: {}, wait: false }, people.ops));
  await at(20, () => versions.createDraft({ workflow_id: etlWf.id, dsl: etlVersions[2]!.dsl, change_log: etlVersions[2]!.change_log }, people.dev));
  await at(1, () => versions.publish({ workflow_id: etlWf.id, version: 3 }, people.dev));
  await at(3, () => runs.start({ workflow_id: etlWf.id, params: {}, seed: 23, faults: {}, wait: false }, 'scheduler'));
  await at(6, () => versions.rollback({ workflow_id: etlWf.id, version: 2 }, people.ops));
  await at(1, () => runs.start({ workflow_id: etlWf.id, params: {}, seed: 24, faults: {}, wait: false }, 'scheduler'));
  await at(0.5, () => versions.archive({ workflow_id: etlWf.id, version: 1 }, people.dev));

  // ML pipeline: v2's inverted deploy gate was rolled back, v3 fixed it, v4's registry move fails now.
  const mlWf = await at(4, () =>
    workflows.create(
      {
        name: 'ml-training-pipeline',
        description: 'Loads the month’s labelled images, trains the defect classifier, evaluates it and deploys it to the model registry.',
        dsl: mlVersions[0]!.dsl,
        change_log: mlVersions[0]!.change_log,
        source_type: 'MANUAL',
      },
      people.dev,
    ),
  );
  await at(2, () => runs.start({ workflow_id: mlWf.id, params: {}, seed: 31, faults: {}, wait: false }, people.dev));
  await at(24, () => versions.createDraft({ workflow_id: mlWf.id, dsl: mlVersions[1]!.dsl, change_log: mlVersions[1]!.change_log }, people.dev));
  await at(1, () => versions.publish({ workflow_id: mlWf.id, version: 2 }, people.dev));
  await at(2, () => runs.start({ workflow_id: mlWf.id, params: {}, seed: 32, faults: {}, wait: false }, people.dev));
  await at(0.5, () => versions.rollback({ workflow_id: mlWf.id, version: 1 }, people.ops));
  await at(20, () => versions.createDraft({ workflow_id: mlWf.id, dsl: mlVersions[2]!.dsl, change_log: mlVersions[2]!.change_log }, people.dev));
  await at(1, () => versions.publish({ workflow_id: mlWf.id, version: 3 }, people.lead));
  await at(3, () => runs.start({ workflow_id: mlWf.id, params: {}, seed: 33, faults: {}, wait: false }, people.dev));
  await at(40, () => versions.createDraft({ workflow_id: mlWf.id, dsl: mlVersions[3]!.dsl, change_log: mlVersions[3]!.change_log }, people.dev));
  await at(1, () => versions.publish({ workflow_id: mlWf.id, version: 4 }, people.dev));
  // The open incident: the run on v4 got through load, validate, train and evaluate, then deploy failed.
  await engine.atTime(new Date(Date.now() - 25 * 60_000), () =>
    runs.start({ workflow_id: mlWf.id, params: { dataset: 's3://ml-data/defects/2026-11' }, seed: 34, faults: {}, wait: false }, 'scheduler'),
  );
}
