import { describe, expect, it } from 'vitest';
import { validateDsl } from '../../../main/engine/dsl/graph.js';
import { declaredParams } from '../../../main/engine/dsl/run-params.js';
import { RewindError } from '../../../main/engine/errors.js';
import type { Dsl } from '../../../preload/contract/index.js';
import { createWorkflow, expectRefusal, expectRefusalChangesNothing, openTempSandbox } from './fixtures.js';

/*
 * The context has an owner per key: a run's params are checked against what its version declares
 * (`params`, and the keys of `defaults` with the type of their value), and never set a reserved key.
 */

const orders = (): Dsl => ({
  defaults: { region: 'eu', retries: 3 },
  params: {
    order_id: { type: 'string', required: true, description: 'The order to ship.' },
    batch: { type: 'integer', default: 1 },
    dry_run: { type: 'boolean', default: false },
    tags: { type: 'array' },
  },
  nodes: [
    { id: 'ship', type: 'task', params: { duration_ms: 0 }, next: ['record'] },
    { id: 'record', type: 'transform', params: { copy: { 'report.order': 'order_id', 'report.batch': 'batch', 'report.region': 'region' } }, next: [] },
  ],
});

function refused(input: unknown): RewindError {
  try {
    validateDsl(input);
  } catch (err) {
    if (err instanceof RewindError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('declared params at draft', () => {
  it('types the keys of defaults by their value, beside the declarations', () => {
    const declared = declaredParams(validateDsl(orders()));
    expect(Object.fromEntries([...declared].map(([k, d]) => [k, [d.type, d.required, d.source]]))).toEqual({
      order_id: ['string', true, 'params'],
      batch: ['integer', false, 'params'],
      dry_run: ['boolean', false, 'params'],
      tags: ['array', false, 'params'],
      region: ['string', false, 'defaults'],
      retries: ['number', false, 'defaults'],
    });
  });

  it('refuses reserved names, a required param with a default, a default given twice or of the wrong type', () => {
    const nodes = orders().nodes;
    const cases: Array<[unknown, string, RegExp]> = [
      [{ nodes, params: { server: { type: 'object' } } }, 'params.server', /reserved/],
      [{ nodes, defaults: { server: { host: 'x' } } }, 'defaults.server', /reserved/],
      [{ nodes, defaults: { secret: 'x' } }, 'defaults.secret', /reserved/],
      [{ nodes, params: { 'a.b': { type: 'string' } } }, 'params.a.b', /not usable as a context key/],
      [{ nodes, params: { a: { type: 'string', required: true, default: 'x' } } }, 'params.a', /required and has a default/],
      [{ nodes, defaults: { a: 'x' }, params: { a: { type: 'string', required: true } } }, 'params.a', /required and has a default/],
      [{ nodes, defaults: { a: 'x' }, params: { a: { type: 'string', default: 'y' } } }, 'params.a.default', /in its declaration and in defaults/],
      [{ nodes, params: { a: { type: 'integer', default: 1.5 } } }, 'params.a.default', /not an integer/],
      [{ nodes, defaults: { a: 'x' }, params: { a: { type: 'number' } } }, 'defaults.a', /not a number/],
      [{ nodes, params: { a: { type: 'text' } } }, 'params.a.type', /./],
    ];
    for (const [dsl, path, message] of cases) {
      const err = refused(dsl);
      expect(err.code, path).toBe('INVALID_DSL');
      expect(err.details?.path, path).toBe(path);
      expect(err.message, path).toMatch(message);
    }
  });
});

describe('run params at start', () => {
  it('applies declared defaults beneath the run params, and starts with what it was given', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders());
    const run = await sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o-7', tags: ['x'] }, wait: true });
    expect(run.status).toBe('succeeded');
    const last = (await sb.call('checkpoints:list', { run_id: run.run_id })).checkpoints.at(-1)!;
    expect((last.state as { context: Record<string, unknown> }).context).toMatchObject({ order_id: 'o-7', batch: 1, dry_run: false, region: 'eu', tags: ['x'], report: { order: 'o-7', batch: 1, region: 'eu' } });
  });

  it('refuses an unknown param with UNKNOWN_PARAM listing the known ones, and starts nothing', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders());
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o', colour: 'red' }, wait: true }), 'UNKNOWN_PARAM', 'Known params: order_id, batch, dry_run, tags, region, retries');
    expect(err.message).toBe("The run param 'colour' is not declared by v1 of this workflow.");
    expect(err.details).toMatchObject({ param: 'colour', params: ['colour'], known: ['order_id', 'batch', 'dry_run', 'tags', 'region', 'retries'], version: 1 });
  });

  it('refuses a value of the wrong type (declared or from defaults) with INVALID_PARAM_TYPE', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders());
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o', batch: 2.5 }, wait: true }), 'INVALID_PARAM_TYPE', /Send 'batch' as an integer, e\.g\. \{"batch":7\}/);
    expect(err.details).toMatchObject({ param: 'batch', expected: 'integer', got: 'number' });
    const fromDefaults = await expectRefusal(() => sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o', region: 7 }, wait: true }), 'INVALID_PARAM_TYPE', /as a string/);
    expect(fromDefaults.message).toContain('through its default');
    await expectRefusal(() => sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 42 }, wait: true }), 'INVALID_PARAM_TYPE', /--params/);
  });

  it('refuses a run missing a required param with MISSING_PARAM, naming it', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders());
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, params: { batch: 3 }, wait: true }), 'MISSING_PARAM', '--param order_id=…');
    expect(err.details).toMatchObject({ param: 'order_id', params: ['order_id'] });
  });

  it('refuses a param naming a reserved key (outputs, server, secret) with RESERVED_PARAM, whatever the version declares', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders());
    for (const key of ['server', 'secret', 'outputs']) {
      const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o', [key]: { host: '127.0.0.1:9210' } }, wait: true }), 'RESERVED_PARAM', `Remove '${key}'`);
      expect(err.details).toMatchObject({ param: key });
    }
  });

  it('refuses a backfill of a workflow whose required param has no default, starting nothing; one with defaults runs', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders(), { schedule: '0 2 * * *' });
    await expectRefusal(() => sb.call('schedules:backfill', { workflow_id: wf.id, from: '2026-11-01', to: '2026-11-03' }), 'MISSING_PARAM', '--param order_id=…');
    expect((await sb.call('runs:list', { workflow_id: wf.id })).total).toBe(0);
    const withDefault: Dsl = { ...orders(), params: { ...orders().params, order_id: { type: 'string', default: 'nightly' } } };
    const nightly = await createWorkflow(sb, 'nightly-orders', withDefault, { schedule: '0 2 * * *' });
    const backfill = await sb.call('schedules:backfill', { workflow_id: nightly.id, from: '2026-11-01', to: '2026-11-03' });
    expect(backfill.runs).toHaveLength(2);
    for (const r of backfill.runs) expect((await sb.engine.runs.wait(r.run_id)).status).toBe('succeeded');
  });

  it('keeps resume and replay working on a version that no longer declares a param the run was given', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', orders());
    const failed = await sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o-9', tags: [] }, faults: { fail_node: 'record' }, wait: true });
    expect(failed.status).toBe('failed');
    const v2: Dsl = { ...orders(), params: { order_id: { type: 'string', required: true } } };
    v2.nodes[1]!.params = { copy: { 'report.order': 'order_id' } };
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: v2, change_log: 'drop batch, dry_run and tags' });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const resumed = await sb.call('runs:resume', { run_id: failed.run_id, version: 2, wait: true });
    expect(resumed.status).toBe('succeeded');
    const replayed = await sb.call('runs:replay', { run_id: failed.run_id, version: 2 });
    expect(replayed.replay.status).toBe('succeeded');
    // A fresh start on v2 is checked against v2.
    await expectRefusal(() => sb.call('runs:start', { workflow_id: wf.id, params: { order_id: 'o', tags: [] }, wait: true }), 'UNKNOWN_PARAM', 'Known params: order_id, region, retries');
  });
});
