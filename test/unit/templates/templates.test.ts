import { describe, expect, it } from 'vitest';
import { TemplateCatalogue } from '../../../main/templates/catalogue.js';
import { expectRefusalChangesNothing, openTempSandbox } from '../engine/fixtures.js';

/*
 * Seed 002's templates: every sample of assets/templates/ instantiated with its required values and
 * run to the end in the sandbox; the values land in the DSL with their types; bad parameters are
 * refused naming each, creating nothing.
 */

const required: Record<string, Record<string, unknown>> = {
  'etl-pipeline': { source_table: 'orders_db.orders', target_table: 'warehouse.orders_daily' },
  'ml-training-pipeline': { model_name: 'defect-classifier', dataset: 's3://ml-data/defects/2026-11' },
  'defect-rate-judgment': { line: 'A3' },
};

describe('templates', () => {
  const catalogue = new TemplateCatalogue();

  it('ships at least the ETL pipeline, the ML training pipeline and the defect-rate judgment, each parameter typed and described', () => {
    const names = catalogue.list().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(Object.keys(required)));
    for (const t of catalogue.list()) {
      expect(t.title.length).toBeGreaterThan(0);
      for (const p of t.params) {
        expect(p.description.length, `${t.name}.${p.name}`).toBeGreaterThan(0);
        // Every parameter either has a default or must be given.
        expect(p.required || p.default !== undefined, `${t.name}.${p.name}`).toBe(true);
      }
    }
  });

  it.each(Object.keys(required))('%s: instantiated with its required values and run to the end in the sandbox', async (name) => {
    const sb = await openTempSandbox();
    const wf = await sb.call('templates:instantiate', { template: name, name: `my ${name}`, params: required[name]! }, { actor: 'ana' });
    expect(wf).toMatchObject({ name: `my ${name}`, source_type: 'MANUAL', status: 'active', active_version: 1, template: { name, version: catalogue.get(name).version } });
    const v1 = await sb.call('versions:get', { workflow_id: wf.id, version: 1 });
    expect(v1.change_log).toMatch(new RegExp(`^From template ${name} v1 \\(`));
    expect(JSON.stringify(v1.dsl_definition)).not.toContain('{{param.');
    const run = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect((await sb.call('checkpoints:list', { run_id: run.run_id })).checkpoints.map((c) => c.status).every((s) => s === 'succeeded')).toBe(true);
  });

  it('puts each value in with its type: a whole placeholder keeps a number a number, one inside text is written into it', async () => {
    const sb = await openTempSandbox();
    const wf = await sb.call('templates:instantiate', {
      template: 'defect-rate-judgment',
      name: 'line B2',
      params: { line: 'B2', warning_threshold: 0.03, sample_size: 200 },
    });
    const dsl = (await sb.call('versions:get', { workflow_id: wf.id, version: 1 })).dsl_definition;
    expect(dsl.defaults).toMatchObject({ line: 'B2', sample_size: 200 });
    expect(dsl.nodes[0]!.name).toBe('Collect samples of line B2');
    expect(dsl.nodes[1]!.params.rules).toEqual([
      { field: 'defect_rate', op: '>', value: 0.1, outcome: 'reject' },
      { field: 'defect_rate', op: '>', value: 0.03, outcome: 'warning' },
    ]);
    // The judgment uses the given threshold: 4 % is a warning on this line.
    const run = await sb.call('runs:start', { workflow_id: wf.id, params: { defect_rate: 0.04 }, wait: true });
    const judged = (await sb.call('checkpoints:list', { run_id: run.run_id })).checkpoints.find((c) => c.node_id === 'judge_defect_rate');
    expect(judged?.state).toMatchObject({ output: { verdict: 'warning' } });
  });

  it('refuses unknown, missing and wrongly typed parameters in one error naming each, creating nothing', async () => {
    const sb = await openTempSandbox();
    const err = await expectRefusalChangesNothing(
      sb.engine,
      () => sb.call('templates:instantiate', { template: 'ml-training-pipeline', name: 'bad', params: { dataset: 42, epochs: 2.5, validate_schema: 'yes', colour: 'red' } }),
      'INVALID_TEMPLATE_PARAMS',
      'model_name (string, required)',
    );
    expect(err.details).toEqual({
      template: 'ml-training-pipeline',
      problems: [
        { param: 'colour', problem: 'is not a parameter of this template' },
        { param: 'model_name', problem: 'is required' },
        { param: 'dataset', problem: 'must be a string, got number 42' },
        { param: 'epochs', problem: 'must be a whole number, got number 2.5' },
        { param: 'validate_schema', problem: 'must be true or false, got the string "yes"' },
      ],
    });
    expect((await sb.call('workflows:list', {})).total).toBe(0);
  });

  it('refuses an unknown template with TEMPLATE_NOT_FOUND listing the known ones', async () => {
    const sb = await openTempSandbox();
    await expectRefusalChangesNothing(sb.engine, () => sb.call('templates:instantiate', { template: 'nope', name: 'x' }), 'TEMPLATE_NOT_FOUND', 'etl-pipeline');
    await expect(sb.call('templates:get', { template: 'nope' })).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
  });

  it('refuses a taken workflow name with DUPLICATE_NAME', async () => {
    const sb = await openTempSandbox();
    await sb.call('workflows:create', { name: 'taken' });
    await expectRefusalChangesNothing(sb.engine, () => sb.call('templates:instantiate', { template: 'defect-rate-judgment', name: 'taken', params: { line: 'A1' } }), 'DUPLICATE_NAME', 'Choose another name');
  });
});
