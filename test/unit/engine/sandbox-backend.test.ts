import { describe, expect, it } from 'vitest';
import type { BackendMethod, MethodInput, RewindEvent } from '../../../preload/contract/index.js';
import type { SubscriptionState } from '../../../main/backends/backend.js';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { createWorkflow, eventsOf, expectRefusal, expectRefusalChangesNothing, linearDsl, onCleanup, openTempSandbox, pipelineDsl, subscribeLive, tempDbPath } from './fixtures.js';

describe('sandbox backend: input validation', () => {
  it('refuses an unknown field with VALIDATION_FAILED naming it', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const input = { workflow_id: wf.id, version: 1, bogus_flag: true } as unknown as MethodInput<'versions:rollback'>;
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('versions:rollback', input), 'VALIDATION_FAILED', 'Correct that field');
    expect(err.message).toContain('bogus_flag');
    expect(err.message).toContain('versions:rollback');
  });

  it('refuses a field of the wrong type with VALIDATION_FAILED naming its path', async () => {
    const sb = await openTempSandbox();
    const input = { workflow_id: 'x', version: 'two' } as unknown as MethodInput<'versions:publish'>;
    const err = await expectRefusal(() => sb.call('versions:publish', input), 'VALIDATION_FAILED', 'Correct that field');
    expect(err.details).toMatchObject({ path: 'version' });
    expect(err.message).toContain('version');
  });

  it('refuses a nested unknown field (a DSL node key) with VALIDATION_FAILED', async () => {
    const sb = await openTempSandbox();
    const dsl = { defaults: {}, nodes: [{ id: 'a', type: 'task', params: {}, next: [], colour: 'red' }] };
    const err = await expectRefusal(() => sb.call('workflows:create', { name: 'x', dsl } as unknown as MethodInput<'workflows:create'>), 'VALIDATION_FAILED', 'Correct that field');
    expect(err.message).toContain('colour');
    expect(err.details).toMatchObject({ path: 'dsl.nodes.0' });
  });

  it('refuses an unknown method with NOT_FOUND', async () => {
    const sb = await openTempSandbox();
    await expectRefusal(() => sb.call('workflows:explode' as BackendMethod, {} as never), 'NOT_FOUND', 'Update Rewind');
  });

  it('applies the contract defaults before the engine sees the input', async () => {
    const sb = await openTempSandbox();
    const wf = await sb.call('workflows:create', { name: 'orders', dsl: linearDsl() });
    expect(wf).toMatchObject({ description: '', source_type: 'MANUAL', schedule: null });
  });
});

describe('sandbox backend: idempotency keys', () => {
  it('answers a retried mutation with the same answer and applies it once', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    const input = { workflow_id: wf.id, dsl: linearDsl(0.03), change_log: 'tighten' };
    const first = await sb.call('versions:createDraft', input, { idempotencyKey: 'draft-1' });
    const seq = await sb.engine.latestSeq();
    const retry = await sb.call('versions:createDraft', input, { idempotencyKey: 'draft-1' });
    expect(retry).toEqual(first);
    expect(await sb.engine.latestSeq()).toBe(seq);
    expect((await sb.call('versions:list', { workflow_id: wf.id })).total).toBe(2);
    expect((await sb.call('workflows:get', { workflow_id: wf.id })).revision).toBe(2);
    // without the key it applies again
    const another = await sb.call('versions:createDraft', input);
    expect(another.version).toBe(3);
  });

  it('applies a retried rollback once: the retry answers the original seq', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) });
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const first = await sb.call('versions:rollback', { workflow_id: wf.id, version: 1 }, { idempotencyKey: 'rb-1' });
    const retry = await sb.call('versions:rollback', { workflow_id: wf.id, version: 1 }, { idempotencyKey: 'rb-1' });
    expect(retry).toEqual(first);
    expect((await eventsOf(sb.engine)).filter((e) => e.type === 'workflow_rollback')).toHaveLength(1);
  });

  it('refuses the same key with a different request with IDEMPOTENCY_CONFLICT', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('workflows:pause', { workflow_id: wf.id }, { idempotencyKey: 'k-1' });
    const other = await createWorkflow(sb, 'billing');
    const err = await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:pause', { workflow_id: other.id }, { idempotencyKey: 'k-1' }), 'IDEMPOTENCY_CONFLICT', 'Use a new key');
    // The key the backend stores is scoped by the server with an internal token id: neither is echoed.
    expect(err.details).toBeUndefined();
    expect(err.message).not.toContain('k-1');
    await expectRefusalChangesNothing(sb.engine, () => sb.call('workflows:unpause', { workflow_id: wf.id }, { idempotencyKey: 'k-1' }), 'IDEMPOTENCY_CONFLICT', 'Use a new key');
  });

  it('does not store a refused mutation under its key: the key stays free', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('workflows:pause', { workflow_id: wf.id });
    await expectRefusal(() => sb.call('workflows:pause', { workflow_id: wf.id }, { idempotencyKey: 'p-1' }), 'ALREADY_PAUSED', 'unpause it');
    await sb.call('workflows:unpause', { workflow_id: wf.id });
    const paused = await sb.call('workflows:pause', { workflow_id: wf.id }, { idempotencyKey: 'p-1' });
    expect(paused.status).toBe('paused');
  });

  it('starts a run once for a retried start, and the retry waits for it too', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'pipeline', pipelineDsl());
    const first = await sb.call('runs:start', { workflow_id: wf.id, seed: 1, wait: true }, { idempotencyKey: 'run-1' });
    const retry = await sb.call('runs:start', { workflow_id: wf.id, seed: 1, wait: true }, { idempotencyKey: 'run-1' });
    expect(retry.run_id).toBe(first.run_id);
    expect(retry.status).toBe('succeeded');
    expect((await sb.call('runs:list', { workflow_id: wf.id })).total).toBe(1);
  });
});

describe('sandbox backend: subscribe', () => {
  it('delivers the backlog, then live events, each once, in seq order', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl(0.03) });
    const got: RewindEvent[] = [];
    const states: SubscriptionState[] = [];
    const off = await subscribeLive(sb, { after: 0, onEvent: (e) => got.push(e), onState: (s) => states.push(s) });
    expect(got.map((e) => e.seq)).toEqual([1, 2]);
    expect(states).toEqual(['live']);
    await sb.call('versions:publish', { workflow_id: wf.id, version: 2 });
    await sb.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    expect(got.map((e) => [e.seq, e.type])).toEqual([
      [1, 'workflow_created'],
      [2, 'version_created'],
      [3, 'version_published'],
      [4, 'workflow_rollback'],
    ]);
    expect(got).toEqual(await eventsOf(sb.engine));
    off();
    expect(states).toEqual(['live', 'closed']);
    await sb.call('workflows:pause', { workflow_id: wf.id });
    expect(got).toHaveLength(4);
  });

  it('starts after the given seq (a reconnecting client) and includes run events as they happen', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'pipeline', pipelineDsl());
    await sb.call('workflows:pause', { workflow_id: wf.id });
    await sb.call('workflows:unpause', { workflow_id: wf.id });
    const got: number[] = [];
    const off = await subscribeLive(sb, { after: 2, onEvent: (e) => got.push(e.seq) });
    expect(got).toEqual([3]);
    const run = await sb.call('runs:start', { workflow_id: wf.id, wait: true });
    off();
    expect(got).toEqual([3, 4, 5]);
    expect((await eventsOf(sb.engine, 3)).map((e) => [e.type, e.run_id])).toEqual([
      ['run_started', run.run_id],
      ['run_succeeded', run.run_id],
    ]);
  });

  it('delivers a backlog larger than one page, then live, without gaps or repeats', async () => {
    const sb = await openTempSandbox();
    const wf = await createWorkflow(sb, 'orders');
    await sb.engine.mutate(async () => {
      for (let i = 0; i < 5100; i += 1) await sb.engine.append({ type: 'test_marker', workflow_id: wf.id, actor: 'tester', ts: new Date().toISOString(), payload: { i } });
    });
    const got: number[] = [];
    const off = await subscribeLive(sb, { after: 0, onEvent: (e) => got.push(e.seq) });
    await sb.call('workflows:pause', { workflow_id: wf.id });
    off();
    expect(got).toHaveLength(5102);
    expect(got).toEqual(got.map((_, i) => i + 1));
  });
});

describe('sandbox backend: command nodes on a backend that refuses them', () => {
  it('refuses a rollback to a version holding a command node, and changes nothing', async () => {
    const path = tempDbPath();
    const permissive = await openSandbox({ path, actor: 'tester', allowCommands: true });
    const withCommand = { defaults: {}, nodes: [{ id: 'train', type: 'command' as const, params: { argv: ['make', 'train'] }, next: [] }] };
    const wf = await permissive.call('workflows:create', { name: 'trainer', dsl: withCommand });
    await permissive.call('versions:createDraft', { workflow_id: wf.id, dsl: linearDsl() });
    await permissive.call('versions:publish', { workflow_id: wf.id, version: 2 });
    await permissive.close();

    const strict = await openSandbox({ path, actor: 'tester', allowCommands: false });
    onCleanup(() => strict.close());
    const err = await expectRefusalChangesNothing(strict.engine, () => strict.call('versions:rollback', { workflow_id: wf.id, version: 1 }), 'COMMANDS_DISABLED', '--allow-commands');
    expect(err.message).toContain('Rolling back to v1');
    expect(err.message).toContain("node 'train'");
    expect((await strict.call('workflows:get', { workflow_id: wf.id })).active_version).toBe(2);
  });
});
