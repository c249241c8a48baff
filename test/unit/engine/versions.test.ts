import { describe, expect, it } from 'vitest';
import type { EngineBackend } from '../../../main/backends/engine-backend.js';
import type { Workflow } from '../../../preload/contract/index.js';
import {
  createWorkflow,
  eventsOf,
  expectOneActive,
  expectRefusal,
  expectRefusalChangesNothing,
  lastEvent,
  linearDsl,
  openTempSandbox,
  pipelineDsl,
  sqliteDb,
  versionStatuses,
} from './fixtures.js';

/** orders: v1 (5 %) deprecated, v2 (3 %) active, v3 draft, v4 archived — one version in each state. */
async function everyState(sb: EngineBackend): Promise<Workflow> {
  const wf = await createWorkflow(sb, 'orders', linearDsl(0.05));
  await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03), change_log: 'tighten to 3 %' });
  await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
  await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.02), change_log: 'try 2 %' });
  await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.01), change_log: 'abandoned' });
  await sb.call('versions:archive', { workflow_id: wf.id, version: 4 });
  expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'deprecated', 2: 'active', 3: 'draft', 4: 'archived' });
  return sb.call('workflows:get', { workflow_id: wf.id });
}

describe('versions: drafts', () => {
  it('creates a draft from a DSL: next number, status draft, not published, revision bumped, event', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const draft = await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03), change_log: 'tighten', expected_revision: 1 }, { actor: 'mina' });
    expect(draft).toMatchObject({ workflow_id: wf.id, version: 2, status: 'draft', change_log: 'tighten', created_by: 'mina', published_at: null });
    expect(draft.dsl_definition).toEqual(linearDsl(0.03));
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).revision).toBe(2);
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'version_created', workflow_id: wf.id, actor: 'mina' });
    expect((await lastEvent(sb.engine)).payload).toMatchObject({ version: 2, version_id: draft.version_id, change_log: 'tighten', revision: 2 });
    await expectOneActive(sb.engine, wf.id);
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'active', 2: 'draft' });
  });

  it('snapshots the active definition when no DSL is given, with change_log "Snapshot of vN" by default', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', linearDsl(0.05));
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const snap = await sb.call('versions:createDraft', { workflow_id: wf.id });
    expect(snap).toMatchObject({ version: 3, status: 'draft', change_log: 'Snapshot of v2' });
    expect(snap.dsl_definition).toEqual(linearDsl(0.03));
    const named = await sb.call('versions:createDraft', { workflow_id: wf.id, change_log: 'before the migration' });
    expect(named).toMatchObject({ version: 4, change_log: 'before the migration' });
    expect(named.dsl_definition).toEqual(linearDsl(0.03));
  });

  it('refuses a snapshot of a workflow with no active version with NO_ACTIVE_VERSION', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'empty', null);
    await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:createDraft', { workflow_id: wf.id }), 'NO_ACTIVE_VERSION', 'with a DSL of its own');
  });

  it('refuses a draft with an invalid DSL with INVALID_DSL, changing nothing', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await expectRefusalChangesNothing(
      sb.engine,
      () => sb.call('versions:createDraft', { workflow_id: wf.id, dsl: { defaults: {}, nodes: [{ id: 'a', type: 'task', params: {}, next: ['a'] }] } }),
      'INVALID_DSL',
      /next/,
    );
  });

  it('get refuses a missing version with VERSION_NOT_FOUND', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const err = await expectRefusal(() => sb.call('versions:get', { workflow_id: wf.id, version: 7 }), 'VERSION_NOT_FOUND', 'List its versions');
    expect(err.details).toEqual({ workflow_id: wf.id, version: 7 });
  });

  it('lists versions newest first with the total, paged', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const all = await sb.call('versions:list', { workflow_id: wf.id });
    expect(all.total).toBe(4);
    expect(all.versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    const page = await sb.call('versions:list', { workflow_id: wf.id, offset: 1, limit: 2 });
    expect(page.versions.map((v) => v.version)).toEqual([3, 2]);
    expect(page.total).toBe(4);
  });
});

describe('versions: publish', () => {
  it('deprecates the old active, activates the target, sets published_at, bumps the revision, appends version_published', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) });
    const seqBefore = await sb.engine.latestSeq();
    const result = await sb.call('versions:publish', { workflow_id: wf.id, version: 2, expected_revision: 2 }, { actor: 'lead' });
    expect(result).toEqual({
      success: true,
      message: 'Published "orders" to v2 (was v1).',
      workflow_id: wf.id,
      version: 2,
      from_version: 1,
      seq: seqBefore + 1,
      revision: 3,
    });
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'deprecated', 2: 'active' });
    const v2 = await sb.call('versions:get', { workflow_id: wf.id, version: 2 });
    expect(v2.published_at).not.toBeNull();
    const after = await sb.call('workflows:get', { workflow_id: wf.id });
    expect(after).toMatchObject({ active_version: 2, revision: 3 });
    expect(await eventsOf(sb.engine, seqBefore)).toHaveLength(1);
    expect(await lastEvent(sb.engine)).toMatchObject({ seq: seqBefore + 1, type: 'version_published', workflow_id: wf.id, actor: 'lead' });
    expect((await lastEvent(sb.engine)).payload).toEqual({ from_version: 1, to_version: 2, revision: 3 });
    await expectOneActive(sb.engine, wf.id);
  });

  it('publishes the first version of a workflow created without one (from_version null)', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'empty', null);
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl() });
    const result = await sb.call('versions:publish', { workflow_id: wf.id, version: 1 });
    expect(result).toMatchObject({ version: 1, from_version: null, message: 'Published "empty" to v1.' });
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(1);
    await expectOneActive(sb.engine, wf.id);
  });

  it('refuses publishing an active, deprecated or archived version with VERSION_NOT_DRAFT, each with its own hint', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const active = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:publish', { workflow_id: wf.id, version: 2 }), 'VERSION_NOT_DRAFT', 'already the active version');
    const deprecated = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:publish', { workflow_id: wf.id, version: 1 }), 'VERSION_NOT_DRAFT', 'roll back to v1');
    const archived = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:publish', { workflow_id: wf.id, version: 4 }), 'VERSION_NOT_DRAFT', 'create a new draft from its DSL');
    expect(new Set([active.hint, deprecated.hint, archived.hint]).size).toBe(3);
    expect(active.details).toMatchObject({ status: 'active' });
    expect(deprecated.details).toMatchObject({ status: 'deprecated' });
    expect(archived.details).toMatchObject({ status: 'archived' });
    await expectOneActive(sb.engine, wf.id);
  });

  it('refuses publishing a missing version with VERSION_NOT_FOUND', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:publish', { workflow_id: wf.id, version: 9 }), 'VERSION_NOT_FOUND', 'List its versions');
  });
});

describe('versions: rollback', () => {
  it('answers {success, message, workflow_id, version, from_version, seq, revision} and swaps active and deprecated', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const seqBefore = await sb.engine.latestSeq();
    const result = await sb.call('versions:rollback', { workflow_id: wf.id, version: 1, expected_revision: wf.revision }, { actor: 'oncall' });
    expect(result).toEqual({
      success: true,
      message: 'Rolled back "orders" to v1 (was v2).',
      workflow_id: wf.id,
      version: 1,
      from_version: 2,
      seq: seqBefore + 1,
      revision: wf.revision + 1,
    });
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'active', 2: 'deprecated', 3: 'draft', 4: 'archived' });
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(1);
    expect(await eventsOf(sb.engine, seqBefore)).toHaveLength(1);
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'workflow_rollback', workflow_id: wf.id, actor: 'oncall' });
    expect((await lastEvent(sb.engine)).payload).toEqual({ from_version: 2, to_version: 1, revision: wf.revision + 1 });
    await expectOneActive(sb.engine, wf.id);
    // and forward again to v2, which is now deprecated
    const forward = await sb.call('versions:rollback', { workflow_id: wf.id, version: 2 });
    expect(forward).toMatchObject({ version: 2, from_version: 1 });
    await expectOneActive(sb.engine, wf.id);
  });

  it('refuses a missing target with ROLLBACK_VERSION_MISSING', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:rollback', { workflow_id: wf.id, version: 12 }), 'ROLLBACK_VERSION_MISSING', 'Pick one of the versions on its timeline');
    expect(err.details).toEqual({ workflow_id: wf.id, version: 12 });
  });

  it('refuses a draft target with ROLLBACK_VERSION_DRAFT', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:rollback', { workflow_id: wf.id, version: 3 }), 'ROLLBACK_VERSION_DRAFT', 'Publish it instead');
    expect(err.message).toContain('never published');
  });

  it('refuses an archived target with ROLLBACK_VERSION_ARCHIVED', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:rollback', { workflow_id: wf.id, version: 4 }), 'ROLLBACK_VERSION_ARCHIVED', 'create a new draft from its DSL');
    expect(err.message).toContain('archived');
  });

  it('refuses the already-active version with ROLLBACK_ALREADY_ACTIVE', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:rollback', { workflow_id: wf.id, version: 2 }), 'ROLLBACK_ALREADY_ACTIVE', 'pick an earlier version');
    expect(err.message).toContain('already the active version');
  });

  it('gives each rollback refusal its own hint', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const hints = await Promise.all(
      [12, 3, 4, 2].map(async (version) => {
        try {
          await sb.call('versions:rollback', { workflow_id: wf.id, version });
        } catch (err) {
          return (err as { hint: string }).hint;
        }
        return 'applied';
      }),
    );
    expect(new Set(hints).size).toBe(4);
    expect(hints).not.toContain('applied');
  });
});

describe('versions: archive', () => {
  it('archives a deprecated or draft version with an event and a revision bump', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const archived = await sb.call('versions:archive', { workflow_id: wf.id, version: 1, expected_revision: wf.revision });
    expect(archived).toMatchObject({ version: 1, status: 'archived' });
    expect(await lastEvent(sb.engine)).toMatchObject({ type: 'version_archived' });
    expect((await lastEvent(sb.engine)).payload).toEqual({ version: 1, from_status: 'deprecated', revision: wf.revision + 1 });
    await sb.call('versions:archive', { workflow_id: wf.id, version: 3 });
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'archived', 2: 'active', 3: 'archived', 4: 'archived' });
    await expectOneActive(sb.engine, wf.id);
  });

  it('refuses archiving the active version with ARCHIVE_ACTIVE_VERSION', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:archive', { workflow_id: wf.id, version: 2 }), 'ARCHIVE_ACTIVE_VERSION', 'Roll back or publish another version first');
    expect(err.details).toEqual({ workflow_id: wf.id, version: 2 });
  });

  it('archiving an archived version is a no-op: no event, no revision bump', async () => {
    const sb = await openTempSandbox();
    const wf = await everyState(sb);
    const seq = await sb.engine.latestSeq();
    const again = await sb.call('versions:archive', { workflow_id: wf.id, version: 4 });
    expect(again).toMatchObject({ version: 4, status: 'archived' });
    expect(await sb.engine.latestSeq()).toBe(seq);
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).revision).toBe(wf.revision);
  });
});

describe('versions: diff', () => {
  it('reports nodes added, removed and changed, and params changed', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'pipeline', pipelineDsl());
    const v2 = pipelineDsl({ withValidate: true });
    v2.nodes = v2.nodes.filter((n) => n.id !== 'evaluate');
    v2.nodes.find((n) => n.id === 'train')!.next = ['deploy'];
    v2.nodes.find((n) => n.id === 'train')!.params = { duration_ms: 9000, output: { epochs: 3 } };
    v2.defaults = { accuracy: 0.95 };
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: v2 });
    const d = await sb.call('versions:diff', { workflow_id: wf.id, from: 1, to: 2 });
    expect(d.from.version).toBe(1);
    expect(d.to.version).toBe(2);
    expect(d.diff.added).toEqual(['validate']);
    expect(d.diff.removed).toEqual(['evaluate']);
    expect(d.diff.changed).toEqual([
      { node_id: 'extract', changes: [{ path: 'next', before: ['train'], after: ['validate'] }] },
      {
        node_id: 'train',
        changes: [
          { path: 'params.duration_ms', before: 5000, after: 9000 },
          { path: 'next', before: ['evaluate'], after: ['deploy'] },
        ],
      },
    ]);
    expect(d.diff.defaults_changed).toEqual([{ path: 'accuracy', before: 0.93, after: 0.95 }]);
    expect(d.diff.identical).toBe(false);
  });

  it('finds the 5 % → 3 % threshold change, and two identical versions identical', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders', linearDsl(0.05));
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) });
    await sb.call('versions:createDraft', { workflow_id: wf.id });
    const d = await sb.call('versions:diff', { workflow_id: wf.id, from: 1, to: 2 });
    expect(d.diff.changed).toEqual([
      {
        node_id: 'judge',
        changes: [
          { path: 'params.rules.0.value', before: 0.1, after: 0.06 },
          { path: 'params.rules.1.value', before: 0.05, after: 0.03 },
        ],
      },
    ]);
    expect((await sb.call('versions:diff', { workflow_id: wf.id, from: 1, to: 3 })).diff.identical).toBe(true);
    await expectRefusal(() => sb.call('versions:diff', { workflow_id: wf.id, from: 1, to: 8 }), 'VERSION_NOT_FOUND', 'List its versions');
  });
});

describe('versions: invariants across a sequence of operations', () => {
  it('keeps exactly one active version named by active_version after every operation, refused ones included', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const ops: Array<() => Promise<unknown>> = [
      () => sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.04) }),
      () => sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) }),
      () => sb.call('versions:publish', { workflow_id: wf.id, version: 3 }),
      () => sb.call('versions:publish', { workflow_id: wf.id, version: 2 }),
      () => sb.call('versions:rollback', { workflow_id: wf.id, version: 1 }),
      () => sb.call('versions:rollback', { workflow_id: wf.id, version: 1 }), // refused: already active
      () => sb.call('versions:archive', { workflow_id: wf.id, version: 3 }),
      () => sb.call('versions:rollback', { workflow_id: wf.id, version: 3 }), // refused: archived
      () => sb.call('versions:archive', { workflow_id: wf.id, version: 1 }), // refused: active
      () => sb.call('versions:rollback', { workflow_id: wf.id, version: 2 }),
      () => sb.call('versions:createDraft', { workflow_id: wf.id }),
      () => sb.call('versions:publish', { workflow_id: wf.id, version: 4 }),
    ];
    const refused: string[] = [];
    for (const op of ops) {
      try {
        await op();
      } catch (err) {
        refused.push((err as { code: string }).code);
      }
      await expectOneActive(sb.engine, wf.id);
    }
    expect(refused).toEqual(['ROLLBACK_ALREADY_ACTIVE', 'ROLLBACK_VERSION_ARCHIVED', 'ARCHIVE_ACTIVE_VERSION']);
    expect(await versionStatuses(sb.engine, wf.id)).toEqual({ 1: 'deprecated', 2: 'deprecated', 3: 'archived', 4: 'active' });
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(4);
    // seq stays gapless through the refusals
    const seqs = (await eventsOf(sb.engine)).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it.each([
    ['publish', 'version_published'],
    ['rollback', 'workflow_rollback'],
  ] as const)('%s is all or nothing: when its event cannot be appended, no status, active_version or revision changes', async (op, eventType) => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) });
    if (op === 'rollback') await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const before = {
      statuses: await versionStatuses(sb.engine, wf.id),
      workflow: await sb.call('workflows:get', { workflow_id: wf.id }),
      seq: await sb.engine.latestSeq(),
    };
    sqliteDb(sb.engine).exec(`CREATE TRIGGER fail_${eventType} BEFORE INSERT ON events WHEN NEW.type = '${eventType}' BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;`);
    const call = op === 'publish' ? () => sb.call('versions:publish', { workflow_id: wf.id, version: 2 }) : () => sb.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    await expect(call()).rejects.toThrow('disk full (simulated)');
    expect(await versionStatuses(sb.engine, wf.id)).toEqual(before.statuses);
    expect(await sb.call('workflows:get', { workflow_id: wf.id })).toEqual(before.workflow);
    expect(await sb.engine.latestSeq()).toBe(before.seq);
    await expectOneActive(sb.engine, wf.id);
    sqliteDb(sb.engine).exec(`DROP TRIGGER fail_${eventType}`);
    await call();
    await expectOneActive(sb.engine, wf.id);
  });

  it('the database itself refuses a second active version (partial unique index)', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('versions:createDraft', { workflow_id: wf.id });
    expect(() => sqliteDb(sb.engine).prepare("UPDATE workflow_versions SET status = 'active' WHERE workflow_id = ? AND version = 2").run(wf.id)).toThrow(/UNIQUE/);
    await expectOneActive(sb.engine, wf.id);
  });
});
