import { describe, expect, it } from 'vitest';
import type { Dsl } from '../../../preload/contract/index.js';
import { validateCron } from '../../../main/engine/cron.js';
import {
  createWorkflow,
  eventsOf,
  expectOneActive,
  expectRefusal,
  expectRefusalChangesNothing,
  lastEvent,
  linearDsl,
  openTempSandbox,
  versionStatuses,
} from './fixtures.js';

const CRON_EXAMPLE = '"0 2 * * *"';

describe('workflows: create', () => {
  it('with a DSL: version 1 is active, active_version 1, revision 1, one workflow_created event', async () => {
    const sb = await openTempSandbox();
    const wf = await sb.call('workflows:create', { name: 'orders', description: 'nightly orders', dsl: linearDsl(), schedule: '0 2 * * *' }, { actor: 'ana' });
    expect(wf).toMatchObject({ name: 'orders', description: 'nightly orders', source_type: 'MANUAL', status: 'active', schedule: '0 2 * * *', active_version: 1, revision: 1, failed_runs: 0 });
    const versions = await sb.call('versions:list', { workflow_id: wf.id });
    expect(versions.total).toBe(1);
    expect(versions.versions[0]).toMatchObject({ version: 1, status: 'active', change_log: 'Initial version', created_by: 'ana' });
    expect(versions.versions[0]!.published_at).not.toBeNull();
    expect(versions.versions[0]!.dsl_definition).toEqual(linearDsl());
    await expectOneActive(sb.engine, wf.id);
    const events = await eventsOf(sb.engine);
    expect(events.map((e) => e.type)).toEqual(['workflow_created']);
    expect(events[0]).toMatchObject({ seq: 1, workflow_id: wf.id, actor: 'ana' });
    expect(events[0]!.payload).toMatchObject({ revision: 1, cloned_from: null });
  });

  it('without a DSL: no version, no active version', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'empty', null);
    expect(wf.active_version).toBeNull();
    expect(wf.revision).toBe(1);
    expect((await sb.call('versions:list', { workflow_id: wf.id })).total).toBe(0);
    await expectOneActive(sb.engine, wf.id);
    expect((await lastEvent(sb.engine)).payload).toMatchObject({ version: null });
  });

  it('keeps the given change_log for version 1', async () => {
    const sb = await openTempSandbox();
    const wf = await sb.call('workflows:create', { name: 'x', dsl: linearDsl(), change_log: 'imported from airflow' });
    expect((await sb.call('versions:get', { workflow_id: wf.id, version: 1 })).change_log).toBe('imported from airflow');
  });

  it('refuses a second MANUAL workflow of the same name with DUPLICATE_NAME, changing nothing', async () => {
    const sb = await openTempSandbox();
    await createWorkflow(sb, 'orders');
    const err = await expectRefusalChangesNothing(sb.engine, () => createWorkflow(sb, 'orders'), 'DUPLICATE_NAME', 'Choose another name');
    expect(err.message).toContain('"orders"');
    expect(err.details).toEqual({ name: 'orders' });
  });

  it('refuses an invalid minute ("61 2 * * *") with INVALID_CRON naming the minute field and showing a valid example', async () => {
    const sb = await openTempSandbox();
    const err = await expectRefusalChangesNothing(sb.engine, () => createWorkflow(sb, 'x', linearDsl(), { schedule: '61 2 * * *' }), 'INVALID_CRON', CRON_EXAMPLE);
    expect(err.message).toContain('minute');
    expect(err.message).toContain('"61"');
    expect(err.details).toMatchObject({ field: 'minute', value: '61' });
    // Nothing in the log but the refusals' own audit records.
    expect((await sb.engine.events.list(0, 100)).every((e) => e.type === 'mutation_refused')).toBe(true);
  });

  it.each([
    ['0 25 * * *', 'hour', '25'],
    ['0 2 32 * *', 'day of month', '32'],
    ['0 2 * 13 *', 'month', '13'],
    ['0 2 * * 9', 'day of week', '9'],
  ])('refuses "%s" naming the %s field', async (schedule, field, value) => {
    const sb = await openTempSandbox();
    const err = await expectRefusal(() => createWorkflow(sb, 'x', linearDsl(), { schedule }), 'INVALID_CRON', CRON_EXAMPLE);
    expect(err.details).toMatchObject({ field, value });
    expect(err.message).toContain(field);
  });

  it('refuses a three-field schedule with INVALID_CRON naming the field count', async () => {
    const sb = await openTempSandbox();
    const err = await expectRefusal(() => createWorkflow(sb, 'x', linearDsl(), { schedule: '0 2 *' }), 'INVALID_CRON', CRON_EXAMPLE);
    expect(err.message).toContain('has 3 fields');
    expect(err.message).toContain('5');
    expect(err.details).toMatchObject({ fields: 3 });
  });

  it('accepts macros and five-field schedules, and gives the next fire times', async () => {
    expect(validateCron('@daily').expression).toBe('@daily');
    const check = validateCron(' 0 2 * * * ');
    expect(check.expression).toBe('0 2 * * *');
    expect(check.next).toHaveLength(3);
    for (const t of check.next) expect(t).toMatch(/T02:00:00\.000Z$/);
  });

  it('refuses a DSL whose next names a missing node with INVALID_DSL naming node and field', async () => {
    const sb = await openTempSandbox();
    const dsl: Dsl = { defaults: {}, nodes: [{ id: 'a', type: 'task', params: {}, next: ['ghost'] }] };
    const err = await expectRefusalChangesNothing(sb.engine, () => createWorkflow(sb, 'x', dsl), 'INVALID_DSL', 'Point next at an existing node');
    expect(err.message).toContain("'a'");
    expect(err.message).toContain("'ghost'");
    expect(err.details).toMatchObject({ node_id: 'a', path: 'nodes.0.next.0' });
  });

  it('refuses a DSL with a cycle, and one with unknown task params, with INVALID_DSL', async () => {
    const sb = await openTempSandbox();
    const cyclic: Dsl = {
      defaults: {},
      nodes: [
        { id: 'a', type: 'task', params: {}, next: ['b'] },
        { id: 'b', type: 'task', params: {}, next: ['a'] },
      ],
    };
    const cycle = await expectRefusal(() => createWorkflow(sb, 'x', cyclic), 'INVALID_DSL', /next/);
    expect(cycle.message).toMatch(/cycle/i);
    const misspelt: Dsl = { defaults: {}, nodes: [{ id: 'a', type: 'task', params: { failure_rat: 0.5 }, next: [] }] };
    const params = await expectRefusal(() => createWorkflow(sb, 'y', misspelt), 'INVALID_DSL', 'task params');
    expect(params.message).toContain('failure_rat');
    // Nothing in the log but the refusals' own audit records.
    expect((await sb.engine.events.list(0, 100)).every((e) => e.type === 'mutation_refused')).toBe(true);
  });
});

describe('workflows: list and get', () => {
  it('lists by name, and searches name and description with % and _ taken literally', async () => {
    const sb = await openTempSandbox();
    await createWorkflow(sb, 'beta_job');
    await createWorkflow(sb, 'betaXjob');
    await createWorkflow(sb, 'Alpha');
    await createWorkflow(sb, 'rate 100%');
    await sb.call('workflows:create', { name: 'gamma', description: 'checks the Beta line' });
    const names = async (query?: string) => (await sb.call('workflows:list', query === undefined ? {} : { query })).workflows.map((w) => w.name);
    expect(await names()).toEqual(['Alpha', 'beta_job', 'betaXjob', 'gamma', 'rate 100%']);
    expect(await names('beta')).toEqual(['beta_job', 'betaXjob', 'gamma']);
    expect(await names('a_j')).toEqual(['beta_job']);
    expect(await names('%')).toEqual(['rate 100%']);
    expect(await names('0%')).toEqual(['rate 100%']);
    expect(await names('nothing-like-this')).toEqual([]);
    const all = await sb.call('workflows:list', {});
    expect(all.total).toBe(5);
  });

  it('get refuses an unknown id with WORKFLOW_NOT_FOUND', async () => {
    const sb = await openTempSandbox();
    const err = await expectRefusal(() => sb.call('workflows:get', { workflow_id: 'nope' }), 'WORKFLOW_NOT_FOUND', 'List the workflows');
    expect(err.details).toEqual({ workflow_id: 'nope' });
  });
});

describe('workflows: clone', () => {
  it('copies the active definition into a new, paused workflow (seed 002): new id, v1 active = source DSL, "(copy)" then "(copy) 2"', async () => {
    const sb = await openTempSandbox();
    const src = await createWorkflow(sb, 'orders', linearDsl(0.05));
    await sb.call('versions:createDraft', { workflow_id: src.id, dsl: linearDsl(0.03), change_log: 'tighter' });
    await sb.call('versions:publish', { workflow_id: src.id, version: 2 });

    const copy = await sb.call('workflows:clone', { workflow_id: src.id }, { actor: 'bo' });
    expect(copy.id).not.toBe(src.id);
    expect(copy).toMatchObject({ name: 'orders (copy)', active_version: 1, revision: 1, source_type: 'MANUAL', status: 'paused', schedule: null });
    const v1 = await sb.call('versions:get', { workflow_id: copy.id, version: 1 });
    expect(v1.status).toBe('active');
    expect(v1.dsl_definition).toEqual(linearDsl(0.03));
    expect(v1.change_log).toBe('Cloned from orders v2');
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'workflow_created', workflow_id: copy.id, actor: 'bo' });
    expect((await lastEvent(sb.engine)).payload).toMatchObject({ cloned_from: { workflow_id: src.id, version: 2 } });
    await expectRefusal(() => sb.call('runs:start', { workflow_id: copy.id }), 'WORKFLOW_PAUSED', 'Unpause it first');

    const second = await sb.call('workflows:clone', { workflow_id: src.id });
    expect(second.name).toBe('orders (copy) 2');
    const third = await sb.call('workflows:clone', { workflow_id: src.id });
    expect(third.name).toBe('orders (copy) 3');
    const named = await sb.call('workflows:clone', { workflow_id: src.id, name: 'orders-eu' });
    expect(named.name).toBe('orders-eu');
    // The source is untouched.
    expect((await sb.call('workflows:get', { workflow_id: src.id })).revision).toBe(src.revision + 2);
  });

  it('refuses to clone a workflow without versions with NO_ACTIVE_VERSION', async () => {
    const sb = await openTempSandbox();
    const src = await createWorkflow(sb, 'empty', null);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:clone', { workflow_id: src.id }), 'NO_ACTIVE_VERSION', 'Publish a version first');
    expect(err.details).toEqual({ workflow_id: src.id });
  });

  it('refuses a clone whose chosen name is taken with DUPLICATE_NAME', async () => {
    const sb = await openTempSandbox();
    const src = await createWorkflow(sb, 'orders');
    await createWorkflow(sb, 'taken');
    await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:clone', { workflow_id: src.id, name: 'taken' }), 'DUPLICATE_NAME', 'Choose another name');
  });
});

describe('workflows: pause and unpause', () => {
  it('pauses and unpauses, bumping the revision and appending an event each time', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const paused = await sb.call('workflows:pause', { workflow_id: wf.id, expected_revision: 1 });
    expect(paused).toMatchObject({ status: 'paused', revision: 2 });
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'workflow_paused', workflow_id: wf.id });
    expect((await lastEvent(sb.engine)).payload).toEqual({ from_status: 'active', status: 'paused', revision: 2 });
    const unpaused = await sb.call('workflows:unpause', { workflow_id: wf.id, expected_revision: 2 });
    expect(unpaused).toMatchObject({ status: 'active', revision: 3 });
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'workflow_unpaused', seq: 3 });
  });

  it('refuses pausing a paused workflow with ALREADY_PAUSED and unpausing an active one with NOT_PAUSED', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:unpause', { workflow_id: wf.id }), 'NOT_PAUSED', 'already runs');
    await sb.call('workflows:pause', { workflow_id: wf.id });
    await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:pause', { workflow_id: wf.id }), 'ALREADY_PAUSED', 'unpause it');
  });
});

describe('workflows: MANUAL / CODE override', () => {
  it('creating a CODE workflow of the same name overrides the MANUAL one, with an event', async () => {
    const sb = await openTempSandbox();
    const manual = await createWorkflow(sb, 'orders');
    const code = await createWorkflow(sb, 'orders', linearDsl(), { source_type: 'CODE' });
    expect(code).toMatchObject({ source_type: 'CODE', status: 'active' });
    const after = await sb.call('workflows:get', { workflow_id: manual.id });
    expect(after).toMatchObject({ status: 'overridden', revision: manual.revision + 1 });
    const types = (await eventsOf(sb.engine)).map((e) => [e.type, e.workflow_id]);
    expect(types).toEqual([
      ['workflow_created', manual.id],
      ['workflow_created', code.id],
      ['workflow_overridden', manual.id],
    ]);
    expect((await lastEvent(sb.engine)).payload).toEqual({ from_status: 'active', status: 'overridden', overridden_by: code.id, revision: 2 });
  });

  it('a paused MANUAL workflow is overridden too, and a MANUAL one created beside a CODE one starts overridden', async () => {
    const sb = await openTempSandbox();
    const manual = await createWorkflow(sb, 'orders');
    await sb.call('workflows:pause', { workflow_id: manual.id });
    await createWorkflow(sb, 'orders', linearDsl(), { source_type: 'CODE' });
    expect((await sb.call('workflows:get', { workflow_id: manual.id })).status).toBe('overridden');

    await createWorkflow(sb, 'billing', linearDsl(), { source_type: 'CODE' });
    const late = await createWorkflow(sb, 'billing');
    expect(late.status).toBe('overridden');
  });

  it('refuses unpausing the overridden MANUAL workflow with UNPAUSE_OVERRIDDEN naming the remedy', async () => {
    const sb = await openTempSandbox();
    const manual = await createWorkflow(sb, 'orders');
    const code = await createWorkflow(sb, 'orders', linearDsl(), { source_type: 'CODE' });
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:unpause', { workflow_id: manual.id }), 'UNPAUSE_OVERRIDDEN', 'Change the CODE workflow instead');
    expect(err.hint).toContain('unregister it');
    expect(err.message).toContain('overridden by a CODE workflow');
    expect(err.details).toEqual({ workflow_id: manual.id, overridden_by: code.id });
  });

  it('refuses pausing the overridden MANUAL workflow with WORKFLOW_OVERRIDDEN', async () => {
    const sb = await openTempSandbox();
    const manual = await createWorkflow(sb, 'orders');
    await createWorkflow(sb, 'orders', linearDsl(), { source_type: 'CODE' });
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:pause', { workflow_id: manual.id }), 'WORKFLOW_OVERRIDDEN', 'Pause the CODE workflow');
    expect(err.message).toContain('overridden');
  });

  it('refuses a second CODE workflow of the same name with DUPLICATE_NAME', async () => {
    const sb = await openTempSandbox();
    await createWorkflow(sb, 'orders', linearDsl(), { source_type: 'CODE' });
    await expectRefusal(() => createWorkflow(sb, 'orders', linearDsl(), { source_type: 'CODE' }), 'DUPLICATE_NAME', 'Choose another name');
  });
});

describe('workflows: schedule', () => {
  it('sets and clears the schedule, bumping the revision, with an event naming old and new', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', linearDsl(), { schedule: '0 2 * * *' });
    const set = await sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '*/15 * * * *', expected_revision: 1 });
    expect(set).toMatchObject({ schedule: '*/15 * * * *', revision: 2 });
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'workflow_schedule_set' });
    expect((await lastEvent(sb.engine)).payload).toEqual({ schedule: '*/15 * * * *', from_schedule: '0 2 * * *', revision: 2, catchup: null, max_concurrent: null });
    const cleared = await sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: null });
    expect(cleared).toMatchObject({ schedule: null, revision: 3 });
  });

  it('refuses an invalid schedule with INVALID_CRON, changing nothing', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '0 0 2 * * * *' }), 'INVALID_CRON', CRON_EXAMPLE);
    expect(err.details).toMatchObject({ fields: 7 });
  });
});

describe('workflows: revision (optimistic concurrency)', () => {
  it('refuses every mutation taking expected_revision with STALE_REVISION and details.current_revision', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) }); // revision 2: v2 draft
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.02) }); // revision 3: v3 draft
    const current = (await sb.call('workflows:get', { workflow_id: wf.id })).revision;
    expect(current).toBe(3);
    const stale = 1;
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['pause', () => sb.call('workflows:pause', { workflow_id: wf.id, expected_revision: stale })],
      ['setSchedule', () => sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '0 3 * * *', expected_revision: stale })],
      ['createDraft', () => sb.call('versions:createDraft', { workflow_id: wf.id, expected_revision: stale })],
      ['publish', () => sb.call('versions:publish', { workflow_id: wf.id, version: 2, expected_revision: stale })],
      ['archive', () => sb.call('versions:archive', { workflow_id: wf.id, version: 3, expected_revision: stale })],
    ];
    for (const [name, attempt] of attempts) {
      const err = await expectRefusalChangesNothing(sb.engine, attempt, 'STALE_REVISION', 'Reload the workflow');
      expect(err.details, name).toMatchObject({ current_revision: 3, expected_revision: 1 });
      expect(err.message, name).toContain('revision 1');
    }
    // rollback and unpause need a state where they would otherwise apply.
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 }); // revision 4
    const rollback = await expectRefusalChangesNothing(
      sb.engine,
      () => sb.call('versions:rollback', { workflow_id: wf.id, version: 1, expected_revision: 3 }),
      'STALE_REVISION',
      'Reload the workflow',
    );
    expect(rollback.details).toMatchObject({ current_revision: 4 });
    await sb.call('workflows:pause', { workflow_id: wf.id }); // revision 5
    const unpause = await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:unpause', { workflow_id: wf.id, expected_revision: 4 }), 'STALE_REVISION', 'Reload the workflow');
    expect(unpause.details).toMatchObject({ current_revision: 5 });
    // The current revision applies.
    expect(await sb.call('workflows:unpause', { workflow_id: wf.id, expected_revision: 5 })).toMatchObject({ status: 'active', revision: 6 });
  });

  it('bumps the revision by exactly one on every change, and the event records it', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const steps: Array<() => Promise<unknown>> = [
      () => sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) }),
      () => sb.call('versions:publish', { workflow_id: wf.id, version: 2 }),
      () => sb.call('versions:rollback', { workflow_id: wf.id, version: 1 }),
      () => sb.call('versions:archive', { workflow_id: wf.id, version: 2 }),
      () => sb.call('workflows:pause', { workflow_id: wf.id }),
      () => sb.call('workflows:unpause', { workflow_id: wf.id }),
      () => sb.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '@hourly' }),
      () => sb.call('versions:createDraft', { workflow_id: wf.id }),
    ];
    let expected = 1;
    for (const step of steps) {
      await step();
      expected += 1;
      const now = await sb.call('workflows:get', { workflow_id: wf.id });
      expect(now.revision).toBe(expected);
      expect((await lastEvent(sb.engine)).payload['revision']).toBe(expected);
      await expectOneActive(sb.engine, wf.id);
    }
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'active', 2: 'archived', 3: 'draft' });
  });
});
