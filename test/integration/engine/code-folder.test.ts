import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { CodeFolder } from '../../../main/code/code-folder.js';
import { Engine } from '../../../main/engine/engine.js';
import { RewindError } from '../../../main/engine/errors.js';
import { rebuildFromEvents, snapshotState } from '../../../main/engine/rebuild.js';
import type { ErrorCode } from '../../../preload/contract/index.js';
import { stores } from '../../support/stores.js';
import { eventually } from '../server/harness.js';
import { aliasBomb, yamlFile } from './code-fixtures.js';

/*
 * Workflows as code, on both stores: a folder of workflow files is the only author of CODE
 * workflows. Add, change, break and remove a file; the folder-level problems that refuse a start;
 * the API's CODE_MANAGED refusals; unregister and the MANUAL workflow it gives control back to.
 * Passes are driven with `rescan()` (the watcher only triggers it), so nothing here waits on time.
 */

const dsl = (threshold: number) => ({
  defaults: { defect_rate: 0.02 },
  nodes: [
    { id: 'load', type: 'task', params: { duration_ms: 10 }, next: ['judge'] },
    { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: threshold, outcome: 'warning' }], default: 'pass' }, next: [] },
  ],
});

async function refusal(fn: () => Promise<unknown>, code: ErrorCode): Promise<RewindError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RewindError);
    expect((err as RewindError).code, (err as Error).message).toBe(code);
    return err as RewindError;
  }
  throw new Error(`expected ${code}, but it applied`);
}

describe.each(stores)('code folder ($kind)', (factory) => {
  const dirs: string[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  let counter = 0;
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(() => factory.dispose());

  async function setup() {
    counter += 1;
    const engine = await Engine.open({ store: await factory.open(`code${counter}`) });
    const backend = new EngineBackend(engine, 'ana');
    closers.push(() => backend.close());
    const dir = mkdtempSync(join(tmpdir(), 'rewind-code-'));
    dirs.push(dir);
    const open = async () => {
      const folder = await CodeFolder.open(engine, { dir, allowCommands: false, watch: false });
      closers.push(() => folder.close());
      return folder;
    };
    const byName = async (name: string) => (await backend.call('workflows:list', { query: name })).workflows.filter((w) => w.name === name);
    return { engine, backend, dir, open, byName };
  }

  it('adds, changes, breaks and removes a file: registered, new version as code:<file>, refused with file/line/field, unregistered', async () => {
    const { engine, backend, dir, open, byName } = await setup();
    mkdirSync(join(dir, 'quality'));
    writeFileSync(join(dir, 'quality', 'defects.yaml'), yamlFile('defects', 0.05));
    writeFileSync(join(dir, 'README.md'), 'not a workflow');
    const folder = await open();

    const [wf] = await byName('defects');
    expect(wf).toMatchObject({ source_type: 'CODE', status: 'active', schedule: '0 2 * * *', active_version: 1, code_file: 'quality/defects.yaml', description: 'Judges the defect rate' });
    expect((await backend.call('versions:get', { workflow_id: wf!.id, version: 1 })).created_by).toBe('code:quality/defects.yaml');

    // Unchanged: a second pass publishes nothing.
    expect(await folder.rescan()).toMatchObject({ created: [], published: [], updated: [], unregistered: [], problems: [] });

    // Changed DSL and schedule: v2 published by the file, the schedule follows.
    writeFileSync(join(dir, 'quality', 'defects.yaml'), yamlFile('defects', 0.03, '*/30 * * * *'));
    expect(await folder.rescan()).toMatchObject({ published: ['defects'] });
    const changed = await backend.call('workflows:get', { workflow_id: wf!.id });
    expect(changed).toMatchObject({ active_version: 2, schedule: '*/30 * * * *' });
    const v2 = await backend.call('versions:get', { workflow_id: wf!.id, version: 2 });
    expect(v2).toMatchObject({ status: 'active', created_by: 'code:quality/defects.yaml' });
    expect(v2.dsl_definition).toEqual(dsl(0.03));

    // Broken: an unknown node type on line 9: refused with file, line and field; v2 stays active.
    writeFileSync(join(dir, 'quality', 'defects.yaml'), yamlFile('defects', 0.01).replace('type: task', 'type: tusk'));
    const broken = await folder.rescan();
    expect(broken.published).toEqual([]);
    expect(broken.problems).toEqual([{ kind: 'broken', file: 'quality/defects.yaml', line: 9, field: 'dsl.nodes.0.type', message: expect.stringContaining("Node 'load'") as unknown, hash: expect.any(String) as unknown }]);
    expect(await backend.call('workflows:get', { workflow_id: wf!.id })).toMatchObject({ active_version: 2 });

    // A YAML syntax error names its line too.
    writeFileSync(join(dir, 'quality', 'defects.yaml'), 'name: defects\ndsl: [unclosed\n');
    const syntax = await folder.rescan();
    expect(syntax.problems[0]).toMatchObject({ kind: 'broken', file: 'quality/defects.yaml', line: 3, message: expect.stringMatching(/^is not valid YAML/) as unknown });
    expect(syntax.unregistered).toEqual([]);

    // Removed: unregistered, its versions and events kept.
    unlinkSync(join(dir, 'quality', 'defects.yaml'));
    expect(await folder.rescan()).toMatchObject({ unregistered: ['defects'] });
    expect(await byName('defects')).toEqual([]);
    const events = await engine.events.list(0, 1000, wf!.id);
    expect(events.at(-1)).toMatchObject({ type: 'workflow_unregistered', actor: 'code:quality/defects.yaml' });
    expect(events.filter((e) => e.type === 'version_published')).toHaveLength(1);
    // Invariant 4 holds through all of it.
    expect(rebuildFromEvents(await engine.events.list(0, 100_000))).toEqual(await snapshotState(engine.store.read));
  });

  it('JSON files work too, and a bad schedule is refused naming the field and its line', async () => {
    const { dir, open, byName } = await setup();
    writeFileSync(join(dir, 'orders.json'), JSON.stringify({ name: 'orders', schedule: null, dsl: dsl(0.05) }, null, 2));
    writeFileSync(join(dir, 'late.json'), JSON.stringify({ name: 'late', description: 'x', schedule: '61 2 * * *', dsl: dsl(0.05) }, null, 2));
    const folder = await open();
    expect(await byName('orders')).toMatchObject([{ source_type: 'CODE', schedule: null, active_version: 1 }]);
    expect(await byName('late')).toEqual([]);
    const report = await folder.rescan();
    expect(report.problems).toEqual([{ kind: 'broken', file: 'late.json', line: 4, field: 'schedule', message: expect.stringContaining('minute') as unknown, hash: expect.any(String) as unknown }]);
  });

  it('refuses to start on duplicate names, unreadable files and symlink loops, registering nothing', async () => {
    const { engine, dir, open } = await setup();
    writeFileSync(join(dir, 'a.yaml'), yamlFile('same', 0.05));
    writeFileSync(join(dir, 'b.yaml'), yamlFile('same', 0.04));
    writeFileSync(join(dir, 'ok.yaml'), yamlFile('fine', 0.05));
    symlinkSync(join(dir, 'missing.yaml'), join(dir, 'dangling.yaml'));
    mkdirSync(join(dir, 'sub'));
    symlinkSync(dir, join(dir, 'sub', 'back'));
    const err = await refusal(open, 'INVALID_CODE_FILE');
    expect(err.message).toContain('a.yaml:1 name: names "same", as b.yaml does');
    expect(err.message).toContain('dangling.yaml: cannot be read');
    expect(err.message).toContain('sub/back: leads back to the code folder itself');
    for (const remedy of [/one file/, /readable/, /remove the symlink/]) expect(err.hint).toMatch(remedy);
    expect(await engine.latestSeq()).toBe(0);
  });

  it('CODE workflows refuse registering, drafting, publishing, archiving, rescheduling and unregistering through the API (403 CODE_MANAGED); pause and unpause stay allowed', async () => {
    const { backend, dir, open, byName } = await setup();
    writeFileSync(join(dir, 'etl.yaml'), yamlFile('etl', 0.05));
    await open();
    const [wf] = await byName('etl');
    const id = wf!.id;
    const managed = [
      () => backend.call('workflows:create', { name: 'etl2', source_type: 'CODE' }),
      () => backend.call('versions:createDraft', { workflow_id: id, dsl: dsl(0.01) as never }),
      () => backend.call('versions:publish', { workflow_id: id, version: 1 }),
      () => backend.call('versions:archive', { workflow_id: id, version: 1 }),
      () => backend.call('workflows:setSchedule', { workflow_id: id, schedule: '5 * * * *' }),
      () => backend.call('workflows:unregister', { workflow_id: id }),
    ];
    for (const call of managed) {
      const e = await refusal(call, 'CODE_MANAGED');
      expect(e.hint).toMatch(/code folder/);
    }
    expect(await backend.call('workflows:get', { workflow_id: id })).toMatchObject({ revision: wf!.revision, active_version: 1, schedule: '0 2 * * *' });
    expect((await backend.call('workflows:pause', { workflow_id: id })).status).toBe('paused');
    expect((await backend.call('workflows:unpause', { workflow_id: id })).status).toBe('active');
  });

  it("an operator's rollback of a CODE workflow holds through rescans and restarts, until its file changes again", async () => {
    const { engine, backend, dir, open, byName } = await setup();
    writeFileSync(join(dir, 'etl.yaml'), yamlFile('etl', 0.05));
    const folder = await open();
    writeFileSync(join(dir, 'etl.yaml'), yamlFile('etl', 0.03));
    await folder.rescan();
    const [wf] = await byName('etl');
    await backend.call('versions:rollback', { workflow_id: wf!.id, version: 1 });
    writeFileSync(join(dir, 'other.yaml'), yamlFile('other', 0.05));
    expect(await folder.rescan()).toMatchObject({ created: ['other'], published: [] });
    folder.close();
    // A restart reads the folder again: nothing to publish, the rollback holds.
    const restarted = await open();
    expect(await backend.call('workflows:get', { workflow_id: wf!.id })).toMatchObject({ active_version: 1 });
    writeFileSync(join(dir, 'etl.yaml'), yamlFile('etl', 0.02));
    expect(await restarted.rescan()).toMatchObject({ published: ['etl'] });
    expect(await backend.call('workflows:get', { workflow_id: wf!.id })).toMatchObject({ active_version: 3 });
    expect((await engine.events.list(0, 1000, wf!.id)).filter((e) => e.type === 'workflow_rollback')).toHaveLength(1);
  });

  it('a CODE file overrides the MANUAL workflow of its name; removing the file gives control back to it, with the status it had', async () => {
    const { engine, backend, dir, open, byName } = await setup();
    const manual = await backend.call('workflows:create', { name: 'billing', dsl: dsl(0.05) as never });
    await backend.call('workflows:pause', { workflow_id: manual.id });
    writeFileSync(join(dir, 'billing.yml'), yamlFile('billing', 0.05));
    const folder = await open();
    expect((await backend.call('workflows:get', { workflow_id: manual.id })).status).toBe('overridden');
    const e = await refusal(() => backend.call('workflows:unpause', { workflow_id: manual.id }), 'UNPAUSE_OVERRIDDEN');
    expect(e.hint).toMatch(/unregister/);

    unlinkSync(join(dir, 'billing.yml'));
    expect(await folder.rescan()).toMatchObject({ unregistered: ['billing'] });
    const back = await byName('billing');
    expect(back).toMatchObject([{ id: manual.id, source_type: 'MANUAL', status: 'paused' }]);
    expect((await backend.call('workflows:unpause', { workflow_id: manual.id })).status).toBe('active');
    const types = (await engine.events.list(0, 1000)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['workflow_overridden', 'workflow_unregistered', 'workflow_reactivated']));
    expect(rebuildFromEvents(await engine.events.list(0, 100_000))).toEqual(await snapshotState(engine.store.read));
  });

  it('follows the folder with fs.watch: a new file is registered without a restart', async () => {
    const { engine, dir } = await setup();
    const folder = await CodeFolder.open(engine, { dir, allowCommands: false, debounceMs: 20 });
    closers.push(() => folder.close());
    writeFileSync(join(dir, 'watched.yaml'), yamlFile('watched', 0.05));
    const deadline = Date.now() + 10_000;
    while ((await engine.workflows.list('watched')).length === 0) {
      if (Date.now() > deadline) throw new Error('the new file was never registered');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await engine.workflows.list('watched'))[0]).toMatchObject({ source_type: 'CODE', code_file: 'watched.yaml' });
  });
});

describe.each(stores)('code folder: one bad file, missed changes ($kind)', (factory) => {
  const dirs: string[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  let counter = 0;
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(() => factory.dispose());

  async function setup() {
    counter += 1;
    const engine = await Engine.open({ store: await factory.open(`isolate${counter}`) });
    const backend = new EngineBackend(engine, 'ana');
    closers.push(() => backend.close());
    const dir = mkdtempSync(join(tmpdir(), 'rewind-code-'));
    dirs.push(dir);
    const refusals = async () => (await engine.events.list(0, 10_000)).filter((e) => e.type === 'code_file_refused').map((e) => e.payload);
    const active = async (name: string) => (await engine.workflows.list(name)).find((w) => w.name === name)?.active_version ?? null;
    return { engine, dir, refusals, active };
  }

  it('refuses a YAML alias bomb by name (code_file_refused) and still syncs the good file beside it, at open and while following', async () => {
    const { engine, dir, refusals, active } = await setup();
    writeFileSync(join(dir, 'good.yaml'), yamlFile('good', 0.05));
    writeFileSync(join(dir, 'bomb.yaml'), aliasBomb('bomb'));
    // At open: not a folder-level failure naming "." — the bomb is one broken file.
    const folder = await CodeFolder.open(engine, { dir, allowCommands: false, watch: false });
    closers.push(() => folder.close());
    expect(await active('good')).toBe(1);
    expect(await refusals()).toEqual([expect.objectContaining({ file: 'bomb.yaml', message: expect.stringMatching(/aliases .* more than 100 times/) })]);

    // While following: the good file changes and a second bomb arrives in the same pass.
    writeFileSync(join(dir, 'good.yaml'), yamlFile('good', 0.02));
    writeFileSync(join(dir, 'bomb2.yaml'), aliasBomb('bomb2'));
    const pass = await folder.rescan();
    expect(pass.published).toEqual(['good']);
    expect(pass.refused).toEqual(['bomb2.yaml']);
    expect(await active('good')).toBe(2);
    expect((await refusals()).map((r) => r.file)).toEqual(['bomb.yaml', 'bomb2.yaml']);
  });

  it('refuses a file over the size cap or the parse-time cap, by name, and syncs the others', async () => {
    const { engine, dir, refusals, active } = await setup();
    writeFileSync(join(dir, 'good.yaml'), yamlFile('good', 0.05));
    writeFileSync(join(dir, 'big.yaml'), `${yamlFile('big', 0.05)}# ${'x'.repeat(4000)}\n`);
    const folder = await CodeFolder.open(engine, { dir, allowCommands: false, watch: false, limits: { maxBytes: 2048 } });
    closers.push(() => folder.close());
    expect(await active('good')).toBe(1);
    expect(await active('big')).toBeNull();
    expect(await refusals()).toEqual([expect.objectContaining({ file: 'big.yaml', message: expect.stringMatching(/bytes; a workflow file holds at most 2048/) })]);

    // A parse that cannot finish within its time (a cap of 0 ms: every file overruns it) is given up, naming the cap.
    const slow = await CodeFolder.open(engine, { dir, allowCommands: false, watch: false, limits: { maxParseMs: 0 } });
    closers.push(() => slow.close());
    expect((await slow.rescan()).problems.map((p) => [p.file, p.message])).toEqual(
      expect.arrayContaining([['good.yaml', expect.stringContaining('took longer than 0 ms to parse')]]),
    );
  });

  it('picks up, within one rescan period, changes the watcher is never told of: edits and removals in a folder swapped in by a rename', async () => {
    const { engine, dir, active } = await setup();
    const live = join(dir, 'flows');
    mkdirSync(live);
    writeFileSync(join(live, 'a.yaml'), yamlFile('a', 0.05));
    writeFileSync(join(live, 'b.yaml'), yamlFile('b', 0.05));
    const folder = await CodeFolder.open(engine, { dir: live, allowCommands: false, debounceMs: 20, rescanMs: 150 });
    closers.push(() => folder.close());
    expect(await active('a')).toBe(1);

    // A deploy swaps the checkout: the watch stays on the old folder's inodes (now flows.old).
    cpSync(live, `${live}.new`, { recursive: true });
    writeFileSync(join(`${live}.new`, 'c.yaml'), yamlFile('c', 0.05));
    renameSync(live, `${live}.old`);
    renameSync(`${live}.new`, live);
    await eventually(async () => (await active('c')) === 1, 15_000, 'the swapped-in folder read');

    // Now edit a file in place and delete another in the new folder: no watch covers either.
    writeFileSync(join(live, 'a.yaml'), yamlFile('a', 0.01));
    unlinkSync(join(live, 'b.yaml'));
    // The rescan period only decides how soon; the bound is generous for a loaded machine.
    await eventually(async () => (await active('a')) === 2 && (await engine.workflows.list('b')).every((w) => w.name !== 'b'), 15_000, 'the edit and the removal picked up');
  });
});

describe.each(stores)('unregister ($kind)', (factory) => {
  const closers: Array<() => Promise<void>> = [];
  let counter = 0;
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  afterAll(() => factory.dispose());

  async function backendWithSlowRuns() {
    counter += 1;
    const engine = await Engine.open({ store: await factory.open(`unreg${counter}`), timeScale: 1, maxNodeDelayMs: 60_000 });
    const backend = new EngineBackend(engine, 'ana');
    closers.push(() => backend.close());
    return backend;
  }

  it('is refused while a run is in flight (RUNS_IN_FLIGHT naming it, nothing changed); cancel_running cancels it and unregisters', async () => {
    const backend = await backendWithSlowRuns();
    const slow = { nodes: [{ id: 'long', type: 'task' as const, params: { duration_ms: 60_000 }, next: [] }], defaults: {} };
    const wf = await backend.call('workflows:create', { name: 'slow', dsl: slow });
    const run = await backend.call('runs:start', { workflow_id: wf.id });
    const e = await refusal(() => backend.call('workflows:unregister', { workflow_id: wf.id }), 'RUNS_IN_FLIGHT');
    expect(e.details).toMatchObject({ run_ids: [run.run_id] });
    expect(e.hint).toMatch(/cancel_running/);
    expect(await backend.call('workflows:get', { workflow_id: wf.id })).toMatchObject({ revision: wf.revision, unregistered_at: null });

    const out = await backend.call('workflows:unregister', { workflow_id: wf.id, cancel_running: true }, { actor: 'bo' });
    expect(out.cancelled_runs).toEqual([run.run_id]);
    expect((await backend.call('runs:get', { run_id: run.run_id })).status).toBe('cancelled');
    expect((await backend.call('workflows:list', {})).workflows.map((w) => w.id)).not.toContain(wf.id);
    // Its runs stay for the record, and new ones cannot start.
    expect((await backend.call('runs:list', { workflow_id: wf.id })).total).toBe(1);
    await refusal(() => backend.call('runs:start', { workflow_id: wf.id }), 'WORKFLOW_NOT_FOUND');
  });

  it('refuses a stale revision (412) and changes nothing', async () => {
    const backend = await backendWithSlowRuns();
    const wf = await backend.call('workflows:create', { name: 'stale' });
    await backend.call('workflows:pause', { workflow_id: wf.id });
    await refusal(() => backend.call('workflows:unregister', { workflow_id: wf.id, expected_revision: wf.revision }), 'STALE_REVISION');
    expect((await backend.call('workflows:list', {})).total).toBe(1);
  });
});
