import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../main/backends/backend.js';
import { RewindError } from '../../../main/engine/errors.js';
import type { Dsl, ErrorCode, RehearsalRecord, RewindEvent } from '../../../preload/contract/index.js';
import { dsls, eventually, uniqueName } from '../server/harness.js';
import { acted } from '../../support/reviews.js';

export interface BackendUnderTest {
  backend: Backend;
  cleanup: () => Promise<void>;
}

/** Resolves to the RewindError a call is refused with; fails the test when it is not refused. */
async function refusal(promise: Promise<unknown>): Promise<RewindError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RewindError);
    const e = err as RewindError;
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.hint.length).toBeGreaterThan(0);
    return e;
  }
  throw new Error('expected the call to be refused, but it applied');
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<RewindError> {
  const e = await refusal(promise);
  expect(e.code).toBe(code);
  return e;
}

/**
 * The one contract suite both backends must pass: the sandbox in-process and the remote backend
 * against a real server. The backend under test runs with a time scale of 1 (nodes of a few ms), so
 * that a deliberately slow run is still in flight when the suite cancels it.
 */
export function backendContract(label: string, factory: () => Promise<BackendUnderTest>): void {
  describe(`backend contract: ${label}`, () => {
    let backend: Backend;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ backend, cleanup } = await factory());
    });
    afterAll(async () => {
      await cleanup();
    });

    /** `null`: a workflow with no version yet. */
    const create = (prefix: string, dsl: Dsl | null = dsls.v1) =>
      backend.call('workflows:create', { name: uniqueName(prefix), ...(dsl ? { dsl } : {}) });

    /** A workflow with v1 deprecated, v2 active and v3 a draft. */
    async function withHistory(prefix: string) {
      const wf = await create(prefix);
      await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2, change_log: 'tighten' });
      await backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
      await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v3, change_log: 'rework' });
      return backend.call('workflows:get', { workflow_id: wf.id });
    }

    describe('workflows', () => {
      it('creates with a DSL (v1 active) and without one (nothing active)', async () => {
        const wf = await create('create');
        expect(wf).toMatchObject({ active_version: 1, revision: 1, status: 'active', source_type: 'MANUAL', failed_runs: 0, schedule: null });
        const bare = await create('bare', null);
        expect(bare.active_version).toBeNull();
        const versions = await backend.call('versions:list', { workflow_id: wf.id });
        expect(versions.total).toBe(1);
        expect(versions.versions[0]).toMatchObject({ version: 1, status: 'active' });
      });

      it('refuses a duplicate name, a bad DSL, a bad cron and unknown fields', async () => {
        const wf = await create('dup');
        await expectCode(backend.call('workflows:create', { name: wf.name, dsl: dsls.v1 }), 'DUPLICATE_NAME');
        const broken = { nodes: [{ id: 'a', type: 'task' as const, params: {}, next: ['nowhere'] }], defaults: {} };
        await expectCode(backend.call('workflows:create', { name: uniqueName('bad-dsl'), dsl: broken }), 'INVALID_DSL');
        const cron = await expectCode(backend.call('workflows:create', { name: uniqueName('bad-cron'), schedule: '61 * * * *' }), 'INVALID_CRON');
        expect(cron.hint).toMatch(/\*/);
        await expectCode(backend.call('workflows:create', { name: uniqueName('x'), colour: 'red' } as never), 'VALIDATION_FAILED');
        await expectCode(backend.call('workflows:get', { workflow_id: 'no-such-workflow' }), 'WORKFLOW_NOT_FOUND');
      });

      it('lists with a search and reads one', async () => {
        const wf = await create('listable');
        const all = await backend.call('workflows:list', {});
        expect(all.total).toBe(all.workflows.length);
        expect(all.workflows.map((w) => w.id)).toContain(wf.id);
        const found = await backend.call('workflows:list', { query: wf.name });
        expect(found.workflows.map((w) => w.id)).toEqual([wf.id]);
        // An operator types a name in any case.
        const shouted = await backend.call('workflows:list', { query: wf.name.toUpperCase() });
        expect(shouted.workflows.map((w) => w.id)).toEqual([wf.id]);
        expect(await backend.call('workflows:get', { workflow_id: wf.id })).toEqual(wf);
      });

      it('clones the active definition as a new v1', async () => {
        const wf = await withHistory('clone-src');
        const copy = await backend.call('workflows:clone', { workflow_id: wf.id });
        expect(copy.id).not.toBe(wf.id);
        expect(copy.active_version).toBe(1);
        const v1 = await backend.call('versions:get', { workflow_id: copy.id, version: 1 });
        expect(v1.dsl_definition).toEqual((await backend.call('versions:get', { workflow_id: wf.id, version: 2 })).dsl_definition);
        await expectCode(backend.call('workflows:clone', { workflow_id: (await create('clone-bare', null)).id }), 'NO_ACTIVE_VERSION');
      });

      it('pauses and unpauses, refusing what does not apply', async () => {
        const wf = await create('pause');
        const paused = await backend.call('workflows:pause', { workflow_id: wf.id });
        expect(paused).toMatchObject({ status: 'paused', revision: wf.revision + 1 });
        await expectCode(backend.call('workflows:pause', { workflow_id: wf.id }), 'ALREADY_PAUSED');
        await expectCode(backend.call('runs:start', { workflow_id: wf.id }), 'WORKFLOW_PAUSED');
        const unpaused = await backend.call('workflows:unpause', { workflow_id: wf.id });
        expect(unpaused.status).toBe('active');
        await expectCode(backend.call('workflows:unpause', { workflow_id: wf.id }), 'NOT_PAUSED');
      });

      it('refuses to register a CODE workflow (CODE_MANAGED: it comes from the code folder), leaving the MANUAL one as it was', async () => {
        const manual = await create('override');
        const e = await expectCode(backend.call('workflows:create', { name: manual.name, source_type: 'CODE', dsl: dsls.v1 }), 'CODE_MANAGED');
        expect(e.hint).toMatch(/code folder/);
        expect((await backend.call('workflows:get', { workflow_id: manual.id })).status).toBe('active');
        expect((await backend.call('workflows:list', { query: manual.name })).workflows.map((w) => w.source_type)).toEqual(['MANUAL']);
      });

      it('unregisters a workflow: it leaves the list, its runs stay; a second unregister is WORKFLOW_NOT_FOUND', async () => {
        const wf = await create('unregister');
        const run = await backend.call('runs:start', { workflow_id: wf.id, wait: true });
        const out = await backend.call('workflows:unregister', { workflow_id: wf.id });
        expect(out.workflow).toMatchObject({ id: wf.id, name: wf.name });
        expect(out.workflow.unregistered_at).not.toBeNull();
        expect(out).toMatchObject({ cancelled_runs: [], reactivated: null });
        expect((await backend.call('workflows:list', { query: wf.name })).total).toBe(0);
        expect((await backend.call('runs:get', { run_id: run.run_id })).status).toBe('succeeded');
        await expectCode(backend.call('workflows:get', { workflow_id: wf.id }), 'WORKFLOW_NOT_FOUND');
        await expectCode(backend.call('workflows:unregister', { workflow_id: wf.id }), 'WORKFLOW_NOT_FOUND');
        // The name is free again.
        expect((await backend.call('workflows:create', { name: wf.name })).id).not.toBe(wf.id);
      });

      it('lists the templates and creates a workflow from one, recording the template and its version', async () => {
        const { templates } = await backend.call('templates:list', {});
        expect(templates.map((t) => t.name)).toEqual(expect.arrayContaining(['etl-pipeline', 'ml-training-pipeline', 'defect-rate-judgment']));
        const name = uniqueName('from-template');
        const wf = await backend.call('templates:instantiate', { template: 'defect-rate-judgment', name, params: { line: 'B2', warning_threshold: 0.03 } });
        expect(wf).toMatchObject({ name, source_type: 'MANUAL', status: 'active', active_version: 1, template: { name: 'defect-rate-judgment', version: 1 } });
        const e = await expectCode(backend.call('templates:instantiate', { template: 'defect-rate-judgment', name: uniqueName('bad'), params: { warning_threshold: 'high', colour: 'red' } }), 'INVALID_TEMPLATE_PARAMS');
        expect(e.message).toMatch(/colour/);
        expect(e.message).toMatch(/line is required/);
        expect(e.message).toMatch(/warning_threshold must be a number/);
      });

      it('sets, validates and clears the schedule', async () => {
        const wf = await create('schedule');
        const set = await backend.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '*/30 * * * *' });
        expect(set.schedule).toBe('*/30 * * * *');
        await expectCode(backend.call('workflows:setSchedule', { workflow_id: wf.id, schedule: 'every day' }), 'INVALID_CRON');
        expect((await backend.call('workflows:setSchedule', { workflow_id: wf.id, schedule: null })).schedule).toBeNull();
      });
    });

    describe('versions', () => {
      it('drafts from a DSL or as a snapshot of the active definition, and lists newest first', async () => {
        const wf = await create('draft');
        const d2 = await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2, change_log: 'from dsl' });
        expect(d2).toMatchObject({ version: 2, status: 'draft', change_log: 'from dsl', published_at: null });
        const d3 = await backend.call('versions:createDraft', { workflow_id: wf.id, change_log: 'snapshot' });
        expect(d3.status).toBe('draft');
        expect(d3.dsl_definition).toEqual((await backend.call('versions:get', { workflow_id: wf.id, version: 1 })).dsl_definition);
        const list = await backend.call('versions:list', { workflow_id: wf.id });
        expect(list.total).toBe(3);
        expect(list.versions.map((v) => v.version)).toEqual([3, 2, 1]);
        const page = await backend.call('versions:list', { workflow_id: wf.id, offset: 1, limit: 1 });
        expect(page).toMatchObject({ total: 3, versions: [{ version: 2 }] });
        await expectCode(backend.call('versions:createDraft', { workflow_id: (await create('no-active', null)).id }), 'NO_ACTIVE_VERSION');
        await expectCode(backend.call('versions:get', { workflow_id: wf.id, version: 99 }), 'VERSION_NOT_FOUND');
        await expectCode(backend.call('versions:get', { workflow_id: wf.id, version: 0 }), 'VALIDATION_FAILED');
      });

      it('publishes a draft: it becomes active, the old one deprecated, the revision bumps', async () => {
        const wf = await create('publish');
        await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
        const result = acted(await backend.call('versions:publish', { workflow_id: wf.id, version: 2 }));
        expect(result).toMatchObject({ success: true, workflow_id: wf.id, version: 2, from_version: 1, revision: wf.revision + 2 });
        const [event] = (await backend.call('events:list', { after: result.seq - 1, limit: 1 })).events;
        expect(event).toMatchObject({ seq: result.seq, type: 'version_published', workflow_id: wf.id, payload: { from_version: 1, to_version: 2 } });
        const statuses = (await backend.call('versions:list', { workflow_id: wf.id })).versions.map((v) => [v.version, v.status]);
        expect(statuses).toEqual([
          [2, 'active'],
          [1, 'deprecated'],
        ]);
        await expectCode(backend.call('versions:publish', { workflow_id: wf.id, version: 2 }), 'VERSION_NOT_DRAFT');
        await expectCode(backend.call('versions:publish', { workflow_id: wf.id, version: 7 }), 'VERSION_NOT_FOUND');
      });

      it('rolls back, answering as seed 000 does, and refuses each impossible target with its own code', async () => {
        const wf = await withHistory('rollback');
        const result = acted(await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 }));
        expect(result).toMatchObject({ success: true, workflow_id: wf.id, version: 1, from_version: 2, revision: wf.revision + 1 });
        expect(result.message).toMatch(/v1/);
        const [event] = (await backend.call('events:list', { after: result.seq - 1, limit: 1 })).events;
        expect(event).toMatchObject({ type: 'workflow_rollback', payload: { from_version: 2, to_version: 1 } });
        expect((await backend.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(1);
        await expectCode(backend.call('versions:rollback', { workflow_id: wf.id, version: 9 }), 'ROLLBACK_VERSION_MISSING');
        await expectCode(backend.call('versions:rollback', { workflow_id: wf.id, version: 3 }), 'ROLLBACK_VERSION_DRAFT');
        await expectCode(backend.call('versions:rollback', { workflow_id: wf.id, version: 1 }), 'ROLLBACK_ALREADY_ACTIVE');
        await backend.call('versions:archive', { workflow_id: wf.id, version: 2 });
        await expectCode(backend.call('versions:rollback', { workflow_id: wf.id, version: 2 }), 'ROLLBACK_VERSION_ARCHIVED');
      });

      it('archives what is not active', async () => {
        const wf = await withHistory('archive');
        const archived = await backend.call('versions:archive', { workflow_id: wf.id, version: 3 });
        expect(archived.status).toBe('archived');
        await expectCode(backend.call('versions:archive', { workflow_id: wf.id, version: 2 }), 'ARCHIVE_ACTIVE_VERSION');
      });

      it('diffs two versions and previews a rollback', async () => {
        const wf = await withHistory('diff');
        const diff = await backend.call('versions:diff', { workflow_id: wf.id, from: 1, to: 3 });
        expect(diff.diff.identical).toBe(false);
        expect(diff.diff.added.sort()).toEqual(['fetch', 'notify']);
        expect(diff.diff.removed.sort()).toEqual(['judge', 'load', 'report']);
        const changed = await backend.call('versions:diff', { workflow_id: wf.id, from: 1, to: 2 });
        expect(changed.diff.changed.map((c) => c.node_id)).toEqual(['judge']);
        const preview = await backend.call('versions:rollbackPreview', { workflow_id: wf.id, version: 1 });
        expect(preview).toMatchObject({ workflow_id: wf.id, from_version: 2, to_version: 1, revision: wf.revision, refusal: null });
        expect(preview.diff?.changed.map((c) => c.node_id)).toEqual(['judge']);
        const refused = await backend.call('versions:rollbackPreview', { workflow_id: wf.id, version: 3 });
        expect(refused.refusal?.code).toBe('ROLLBACK_VERSION_DRAFT');
      });
    });

    describe('concurrency tokens and idempotency', () => {
      it('refuses a stale revision with the current one, and applies nothing', async () => {
        const wf = await withHistory('stale');
        await backend.call('workflows:setSchedule', { workflow_id: wf.id, schedule: '0 * * * *', expected_revision: wf.revision });
        const e = await expectCode(backend.call('versions:rollback', { workflow_id: wf.id, version: 1, expected_revision: wf.revision }), 'STALE_REVISION');
        expect(e.details).toMatchObject({ current_revision: wf.revision + 1, workflow: { id: wf.id, active_version: 2 } });
        expect((await backend.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(2);
        await expectCode(backend.call('workflows:pause', { workflow_id: wf.id, expected_revision: wf.revision }), 'STALE_REVISION');
        const applied = acted(await backend.call('versions:rollback', { workflow_id: wf.id, version: 1, expected_revision: wf.revision + 1 }));
        expect(applied.revision).toBe(wf.revision + 2);
      });

      it('applies a mutation once per idempotency key, and refuses the key for another request', async () => {
        const wf = await withHistory('idem');
        const key = `contract-${uniqueName('key')}`;
        const first = acted(await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 }, { idempotencyKey: key }));
        const again = acted(await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 }, { idempotencyKey: key }));
        expect(again).toEqual(first);
        const events = (await backend.call('events:list', { after: first.seq - 1, workflow_id: wf.id })).events;
        expect(events.filter((e) => e.type === 'workflow_rollback')).toHaveLength(1);
        await expectCode(backend.call('versions:rollback', { workflow_id: wf.id, version: 2 }, { idempotencyKey: key }), 'IDEMPOTENCY_CONFLICT');
      });
    });

    describe('runs and checkpoints', () => {
      it('runs to the end with a checkpoint per node, and lists and reads runs', async () => {
        const wf = await create('run');
        const run = await backend.call('runs:start', { workflow_id: wf.id, params: { defect_rate: 0.07 }, seed: 7, wait: true });
        expect(run).toMatchObject({ workflow_id: wf.id, version: 1, status: 'succeeded', kind: 'start', seed: 7, parent_run_id: null });
        const { checkpoints } = await backend.call('checkpoints:list', { run_id: run.run_id });
        expect(checkpoints.map((c) => [c.seq, c.node_id, c.status])).toEqual([
          [1, 'load', 'succeeded'],
          [2, 'judge', 'succeeded'],
          [3, 'report', 'succeeded'],
        ]);
        const judged = await backend.call('checkpoints:get', { run_id: run.run_id, seq: 2 });
        expect(JSON.stringify(judged.state)).toContain('warning');
        await expectCode(backend.call('checkpoints:get', { run_id: run.run_id, seq: 9 }), 'CHECKPOINT_NOT_FOUND');
        expect(await backend.call('runs:get', { run_id: run.run_id })).toEqual(run);
        const listed = await backend.call('runs:list', { workflow_id: wf.id, status: 'succeeded' });
        expect(listed.runs.map((r) => r.run_id)).toEqual([run.run_id]);
        expect((await backend.call('runs:list', { workflow_id: wf.id, status: 'failed' })).total).toBe(0);
        await expectCode(backend.call('runs:get', { run_id: 'no-such-run' }), 'RUN_NOT_FOUND');
        await expectCode(backend.call('runs:start', { workflow_id: (await create('not-published', null)).id }), 'NO_ACTIVE_VERSION');
      });

      it('pages the runs list by keyset cursors: newest first, none twice, none missed while runs start between pages, totals exact', async () => {
        const wf = await create('pages');
        for (let i = 0; i < 7; i++) await backend.call('runs:start', { workflow_id: wf.id, wait: true });
        const whole = await backend.call('runs:list', { workflow_id: wf.id, limit: 100 });
        expect(whole).toMatchObject({ total: 7, has_more: false, next_cursor: null });
        const first = await backend.call('runs:list', { workflow_id: wf.id, limit: 3 });
        expect(first).toMatchObject({ total: 7, has_more: true });
        // A run that starts between two pages is newer than every page after the first: it shifts nothing.
        const later = await backend.call('runs:start', { workflow_id: wf.id, wait: true });
        const second = await backend.call('runs:list', { workflow_id: wf.id, limit: 3, after: first.next_cursor! });
        const third = await backend.call('runs:list', { workflow_id: wf.id, limit: 3, after: second.next_cursor! });
        expect(third).toMatchObject({ total: 8, has_more: false, next_cursor: null });
        expect([...first.runs, ...second.runs, ...third.runs].map((r) => r.run_id)).toEqual(whole.runs.map((r) => r.run_id));
        // Before the first page's first run: what started since, newest first.
        const since = await backend.call('runs:list', { workflow_id: wf.id, limit: 3, before: first.prev_cursor! });
        expect(since).toMatchObject({ has_more: false, runs: [{ run_id: later.run_id }] });
        const older = await backend.call('runs:list', { workflow_id: wf.id, limit: 2, before: third.prev_cursor! });
        expect(older.runs.map((r) => r.run_id)).toEqual(whole.runs.slice(4, 6).map((r) => r.run_id));
        expect(older.has_more).toBe(true);
        expect((await backend.call('runs:list', { workflow_id: wf.id, status: 'succeeded', limit: 1 })).total).toBe(8);
        await expectCode(backend.call('runs:list', { workflow_id: wf.id, after: 'not-a-cursor' }), 'VALIDATION_FAILED');
        await expectCode(backend.call('runs:list', { workflow_id: wf.id, after: first.next_cursor!, before: first.prev_cursor! }), 'VALIDATION_FAILED');
      });

      it('resumes a failed run after its last good checkpoint, when the target has its nodes', async () => {
        const wf = await create('resume');
        await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v3 });
        const failed = await backend.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'report' }, wait: true });
        expect(failed).toMatchObject({ status: 'failed', failed_node: 'report' });
        expect((await backend.call('workflows:get', { workflow_id: wf.id })).failed_runs).toBe(1);
        const incompatible = await backend.call('runs:compatibility', { run_id: failed.run_id, version: 2 });
        expect(incompatible).toMatchObject({ compatible: false, completed_nodes: ['load', 'judge'] });
        expect(incompatible.missing_nodes.sort()).toEqual(['judge', 'load']);
        const e = await expectCode(backend.call('runs:resume', { run_id: failed.run_id, version: 2 }), 'RESUME_INCOMPATIBLE');
        expect(e.details?.missing_nodes).toBeDefined();
        const compatible = await backend.call('runs:compatibility', { run_id: failed.run_id, version: 1 });
        expect(compatible).toMatchObject({ compatible: true, resume_after_seq: 2 });
        const child = await backend.call('runs:resume', { run_id: failed.run_id, wait: true });
        expect(child).toMatchObject({ status: 'succeeded', kind: 'resume', parent_run_id: failed.run_id, resumed_from_seq: 2 });
        // The inspector's "resumed as": the runs of that parent, without the workflow's others.
        const children = await backend.call('runs:list', { parent_run_id: failed.run_id });
        expect(children).toMatchObject({ runs: [child], total: 1, has_more: false });
        const restored = (await backend.call('checkpoints:list', { run_id: child.run_id })).checkpoints;
        expect(restored.map((c) => c.status)).toEqual(['restored', 'restored', 'succeeded']);
        await expectCode(backend.call('runs:resume', { run_id: child.run_id }), 'RUN_NOT_RESUMABLE');
      });

      it('replays a run under another version and diffs the outcomes', async () => {
        const wf = await create('replay');
        await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
        const run = await backend.call('runs:start', { workflow_id: wf.id, wait: true });
        const replay = await backend.call('runs:replay', { run_id: run.run_id, version: 2 });
        expect(replay.original.run_id).toBe(run.run_id);
        expect(replay.replay).toMatchObject({ kind: 'replay', version: 2, parent_run_id: run.run_id, status: 'succeeded' });
        // defect_rate 0.04: pass under v1's 5 %, a warning under v2's 3 %.
        expect(replay.outcomes.find((o) => o.node_id === 'judge')?.changed).toBe(true);
        expect(replay.changed).toBeGreaterThanOrEqual(1);
      });

      it('cancels a run in flight, and refuses to cancel a finished one', async () => {
        const wf = await create('cancel', dsls.slow);
        const run = await backend.call('runs:start', { workflow_id: wf.id });
        expect(['queued', 'running']).toContain(run.status);
        const preview = await backend.call('versions:rollbackPreview', { workflow_id: wf.id, version: 1 });
        expect(preview.refusal?.code).toBe('ROLLBACK_ALREADY_ACTIVE');
        const cancelled = await backend.call('runs:cancel', { run_id: run.run_id });
        expect(cancelled.status).toBe('cancelled');
        await expectCode(backend.call('runs:cancel', { run_id: run.run_id }), 'RUN_NOT_CANCELLABLE');
      });
    });

    describe('incidents', () => {
      it('summarises a failing workflow (failure rate by version, bad since, last good, newest failed run) and the rollback that followed, with its actor', async () => {
        const wf = await create('incident');
        await backend.call('runs:start', { workflow_id: wf.id, wait: true });
        await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
        await backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
        await backend.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'report' }, wait: true });
        const newest = await backend.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'judge' }, wait: true });
        const before = (await backend.call('incidents:summary', {})).failing.find((f) => f.workflow_id === wf.id);
        expect(before).toMatchObject({ workflow_name: wf.name, active_version: 2, open_failures: 2, bad_since: 2, last_good: 1, latest_failed_run_id: newest.run_id });
        expect(before?.by_version).toEqual([
          { version: 2, runs: 2, failed: 2, succeeded: 0 },
          { version: 1, runs: 1, failed: 0, succeeded: 1 },
        ]);

        const rolled = acted(await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 }));
        const after = await backend.call('incidents:summary', {});
        expect(after.failing.find((f) => f.workflow_id === wf.id)).toMatchObject({ active_version: 1, bad_since: 2, last_good: 1 });
        expect(after.recent_rollbacks[0]).toMatchObject({ seq: rolled.seq, workflow_id: wf.id, workflow_name: wf.name, from_version: 2, to_version: 1 });
        expect(after.recent_rollbacks[0]?.actor.length).toBeGreaterThan(0);
      });
    });

    describe('events', () => {
      it('lists the log after a seq, filters by workflow, and verifies the chain', async () => {
        const wf = await create('events');
        const mine = (await backend.call('events:list', { workflow_id: wf.id })).events;
        expect(mine.map((e) => e.type)).toEqual(['workflow_created']);
        const head = mine[0]!.seq;
        const page = await backend.call('events:list', { after: head - 3 < 0 ? 0 : head - 3, limit: 2 });
        expect(page.events).toHaveLength(2);
        expect(page.events[1]!.seq).toBe(page.events[0]!.seq + 1);
        expect(page.events[1]!.prev_hash).toBe(page.events[0]!.hash);
        const chain = await backend.call('events:verify', {});
        expect(chain).toMatchObject({ ok: true, first_broken_seq: null });
        expect(chain.length).toBeGreaterThanOrEqual(head);
        // The head is the chain's last link: its seq and hash, and the chain as known (the walk just done reached it).
        const top = await backend.call('events:head', {});
        expect(top).toEqual({ seq: chain.length, hash: chain.head_hash, chain: { ok: true, first_broken_seq: null, reason: null, verified_seq: chain.length }, server_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
        const [last] = (await backend.call('events:list', { after: top.seq - 1, limit: 1 })).events;
        expect(last?.hash).toBe(top.hash);
      });

      it('pages back from the head with before, filtered by type, actor, workflow and time on the server', async () => {
        const wf = await withHistory('audit-pages');
        await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 });
        const head = (await backend.call('events:head', {})).seq;
        const mine = (await backend.call('events:list', { before: head + 1, limit: 3, workflow_id: wf.id })).events;
        expect(mine.map((e) => e.type)).toEqual(['workflow_rollback', 'version_created', 'version_published']);
        expect(mine.map((e) => e.seq)).toEqual([...mine.map((e) => e.seq)].sort((a, b) => b - a));
        const page = await backend.call('events:list', { before: head + 1, limit: 3, workflow_id: wf.id });
        expect(page.next_before).toBe(mine[2]!.seq);
        const older = await backend.call('events:list', { before: page.next_before!, limit: 10, workflow_id: wf.id });
        expect(older.events.map((e) => e.type)).toEqual(['version_created', 'workflow_created']);
        expect(older.next_before).toBeNull();

        const lifecycle = await backend.call('events:list', { before: head + 1, workflow_id: wf.id, type: 'workflow_rollback,version_published' });
        expect(lifecycle.events.map((e) => e.type)).toEqual(['workflow_rollback', 'version_published']);
        const actor = mine[0]!.actor;
        const byActor = await backend.call('events:list', { before: head + 1, limit: 50, actor, type: 'workflow_rollback' });
        expect(byActor.events[0]?.seq).toBe(mine[0]!.seq);
        expect(byActor.events.every((e) => e.actor === actor && e.type === 'workflow_rollback')).toBe(true);
        expect((await backend.call('events:list', { before: head + 1, actor: 'nobody-at-all' })).events).toEqual([]);

        const at = mine[0]!.ts;
        const inTime = await backend.call('events:list', { before: head + 1, workflow_id: wf.id, since: at, until: new Date(Date.parse(at) + 1).toISOString() });
        expect(inTime.events.map((e) => e.seq)).toContain(mine[0]!.seq);
        expect(inTime.events.every((e) => e.ts === at)).toBe(true);
        await expectCode(backend.call('events:list', { before: head + 1, since: at, until: at }), 'INVALID_RANGE');
        await expectCode(backend.call('events:list', { before: head + 1, type: 'Run Failed' }), 'VALIDATION_FAILED');
        // The origin clients' forward pages are unchanged, and say where the next one starts.
        const forward = await backend.call('events:list', { after: mine[2]!.seq - 1, limit: 2 });
        expect(forward.events.map((e) => e.seq)).toEqual([mine[2]!.seq, mine[2]!.seq + 1]);
        expect(forward.next_after).toBe(mine[2]!.seq + 1);
      });

      it('subscribes: the backlog after a seq, then live events, each once and in order', async () => {
        const wf = await create('subscribe');
        const { events: before } = await backend.call('events:list', { workflow_id: wf.id });
        const start = before[0]!.seq - 1;
        const seen: RewindEvent[] = [];
        const states: string[] = [];
        const stop = backend.subscribe({ after: start, onEvent: (e) => seen.push(e), onState: (s) => states.push(s) });
        try {
          await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
          await backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
          const last = acted(await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 }));
          await eventually(() => seen.some((e) => e.seq === last.seq), 10_000, 'the rollback event');
          const seqs = seen.map((e) => e.seq);
          expect(seqs[0]).toBe(start + 1);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => start + 1 + i));
          const logged = (await backend.call('events:list', { after: start, limit: seqs.length })).events;
          expect(seen).toEqual(logged);
          expect(states).toContain('live');
        } finally {
          stop();
        }
        const count = seen.length;
        await backend.call('workflows:pause', { workflow_id: wf.id });
        await new Promise((r) => setTimeout(r, 100));
        expect(seen).toHaveLength(count);
      });
    });

    describe('runbooks and rehearsals', () => {
      /** A runbook whose name needs percent-encoding in a path (a space and a slash). */
      const yamlRunbook = (name: string, roll = 'previous') => `name: ${name}
description: Roll the pipeline back, then check it.
level: application
steps:
  - kind: checklist
    title: Announce
    expected_ms: 60000
    items: [Tell the channel]
  - kind: action
    title: Roll back
    expected_ms: 30000
    action: { type: rollback, workflow: some-pipeline, to: ${roll} }
  - kind: note
    title: Done
    expected_ms: 0
    text: Write the report.
`;
      const runbookName = () => `${uniqueName('Level 1')} / app`;
      const record = (runbook_name: string, started_at: string, passed: boolean): RehearsalRecord => ({
        runbook_name,
        scenario: 'ml-registry-outage',
        started_at,
        finished_at: started_at,
        total_ms: passed ? 1500 : 2500,
        passed,
        steps: [
          { index: 1, title: 'Announce', kind: 'checklist', outcome: 'passed', expected_ms: 60000, duration_ms: 1000, detail: 'confirmed 1 item' },
          { index: 2, title: 'Roll back', kind: 'action', outcome: passed ? 'passed' : 'failed', expected_ms: 30000, duration_ms: 500, detail: passed ? 'some-pipeline: v4 → v3' : 'FORBIDDEN: no' },
          { index: 3, title: 'Done', kind: 'note', outcome: passed ? 'passed' : 'skipped', expected_ms: 0, duration_ms: 0, detail: passed ? 'read' : 'not reached: step 2 failed' },
        ],
        rollbacks: passed ? [{ workflow: 'some-pipeline', from_version: 4, to_version: 3 }] : [],
      });
      const lastEvent = async (type: string) => (await backend.call('events:list', { limit: 10000 })).events.filter((e) => e.type === type).at(-1);

      it('imports YAML, reads it by name and by id, lists it and exports it as YAML and JSON', async () => {
        const name = runbookName();
        const stored = await backend.call('runbooks:import', { text: yamlRunbook(name), format: 'yaml' });
        expect(stored).toMatchObject({ name, level: 'application', runbook: { name, steps: [{ kind: 'checklist' }, { kind: 'action' }, { kind: 'note' }] } });
        expect(await backend.call('runbooks:get', { runbook: name })).toEqual(stored);
        expect(await backend.call('runbooks:get', { runbook: stored.id })).toEqual(stored);
        expect((await backend.call('runbooks:list', {})).runbooks.map((r) => r.id)).toContain(stored.id);
        const yaml = await backend.call('runbooks:export', { runbook: name });
        expect(yaml.format).toBe('yaml');
        const json = await backend.call('runbooks:export', { runbook: stored.id, format: 'json' });
        expect(JSON.parse(json.text)).toEqual(stored.runbook);
        const again = await backend.call('runbooks:import', { text: yaml.text, format: 'yaml' });
        expect(again).toMatchObject({ id: stored.id, runbook: stored.runbook });
        expect(await lastEvent('runbook_saved')).toMatchObject({ payload: { runbook_id: stored.id, name, source: 'import', created: false } });
        await expectCode(backend.call('runbooks:get', { runbook: 'no-such-runbook' }), 'RUNBOOK_NOT_FOUND');
      });

      it('saves a runbook: a new one, then a new definition under the same name', async () => {
        const name = runbookName();
        const first = await backend.call('runbooks:save', { runbook: { name, description: 'v1', steps: [{ kind: 'note', title: 'Read', expected_ms: 1, text: 'hi' }] } });
        expect(first).toMatchObject({ name, level: null });
        expect(await lastEvent('runbook_saved')).toMatchObject({ payload: { runbook_id: first.id, name, source: 'editor', created: true, steps: 1 } });
        const second = await backend.call('runbooks:save', { runbook: { ...first.runbook, description: 'v2' } });
        expect(second).toMatchObject({ id: first.id, created_at: first.created_at, runbook: { description: 'v2' } });
        await expectCode(backend.call('runbooks:save', { runbook: { ...first.runbook, steps: [] } }), 'VALIDATION_FAILED');
      });

      it('refuses a bad file with INVALID_RUNBOOK naming the step and the field, and keeps nothing', async () => {
        const name = runbookName();
        const e = await expectCode(backend.call('runbooks:import', { text: yamlRunbook(name, 'yesterday'), format: 'yaml' }), 'INVALID_RUNBOOK');
        expect(e.message).toBe("Step 2 ('Roll back'): action.to: expected a version number or 'previous'");
        expect(e.details).toEqual({ path: 'steps.1.action.to' });
        await expectCode(backend.call('runbooks:import', { text: '{"name": ', format: 'json' }), 'INVALID_RUNBOOK');
        await expectCode(backend.call('runbooks:get', { runbook: name }), 'RUNBOOK_NOT_FOUND');
      });

      it('records rehearsals, lists them newest first, reads one and reports it as rehearsed', async () => {
        const name = runbookName();
        const stored = await backend.call('runbooks:import', { text: yamlRunbook(name), format: 'yaml' });
        const older = await backend.call('rehearsals:record', { runbook: name, record: record(name, '2026-11-24T10:00:00.000Z', false) });
        const newer = await backend.call('rehearsals:record', { runbook: stored.id, record: record(name, '2026-11-24T11:00:00.000Z', true) });
        expect(newer).toEqual({ ...record(name, '2026-11-24T11:00:00.000Z', true), id: newer.id, runbook_id: stored.id, created_by: newer.created_by });
        expect(await lastEvent('rehearsal_recorded')).toMatchObject({ payload: { rehearsal_id: newer.id, runbook_id: stored.id, name, passed: true, total_ms: 1500 } });
        expect((await backend.call('rehearsals:list', { runbook: name })).rehearsals.map((r) => r.id)).toEqual([newer.id, older.id]);
        expect((await backend.call('rehearsals:list', { runbook: name, limit: 1 })).rehearsals.map((r) => r.id)).toEqual([newer.id]);
        expect(await backend.call('rehearsals:get', { rehearsal_id: older.id })).toEqual(older);

        // The report describes the runbook as it was rehearsed, not a later edit.
        await backend.call('runbooks:save', { runbook: { ...stored.runbook, steps: [{ kind: 'note', title: 'Rewritten', expected_ms: 1, text: 'x' }] } });
        const { markdown } = await backend.call('rehearsals:report', { rehearsal_id: newer.id });
        expect(markdown).toContain(`# Post-incident report: ${name}`);
        expect(markdown).toContain('| 2 | Roll back | action | passed | 30.0 s | 500 ms | some-pipeline: v4 → v3 |');
        expect(markdown).toContain('Recovered version: some-pipeline v3');
        expect(markdown).toContain('planned 1 min 30 s');

        await expectCode(backend.call('rehearsals:record', { runbook: name, record: record('another runbook', '2026-11-24T12:00:00.000Z', true) }), 'VALIDATION_FAILED');
        await expectCode(backend.call('rehearsals:record', { runbook: 'no-such-runbook', record: record('no-such-runbook', '2026-11-24T12:00:00.000Z', true) }), 'RUNBOOK_NOT_FOUND');
        await expectCode(backend.call('rehearsals:get', { rehearsal_id: 'no-such-rehearsal' }), 'REHEARSAL_NOT_FOUND');
        await expectCode(backend.call('rehearsals:report', { rehearsal_id: 'no-such-rehearsal' }), 'REHEARSAL_NOT_FOUND');
      });

      it('deletes a runbook with its rehearsals; deleting it again deletes nothing', async () => {
        const name = runbookName();
        const stored = await backend.call('runbooks:import', { text: yamlRunbook(name), format: 'yaml' });
        const kept = await backend.call('rehearsals:record', { runbook: name, record: record(name, '2026-11-24T10:00:00.000Z', true) });
        expect(await backend.call('runbooks:delete', { runbook: name })).toEqual({ deleted: true });
        expect(await lastEvent('runbook_deleted')).toMatchObject({ payload: { runbook_id: stored.id, name, rehearsals: 1 } });
        await expectCode(backend.call('runbooks:get', { runbook: stored.id }), 'RUNBOOK_NOT_FOUND');
        await expectCode(backend.call('rehearsals:get', { rehearsal_id: kept.id }), 'REHEARSAL_NOT_FOUND');
        await expectCode(backend.call('rehearsals:list', { runbook: name }), 'RUNBOOK_NOT_FOUND');
        expect(await backend.call('runbooks:delete', { runbook: name })).toEqual({ deleted: false });
        expect((await backend.call('events:verify', {})).ok).toBe(true);
      });
    });
  });
}
