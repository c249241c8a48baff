import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { contentHash, parseCodeFile } from '../../../main/code/code-files.js';
import { CodeFolder } from '../../../main/code/code-folder.js';
import { Engine } from '../../../main/engine/engine.js';
import { openStoreAt } from '../../support/open-store.js';
import { skipWithoutConcurrentInstances, stores } from '../../support/stores.js';
import { yamlFile } from './code-fixtures.js';

/*
 * A broken code file is visible (an event, once per content, cleared when fixed), and two engines
 * following one folder on one database — replicas — apply each change once: one new version, one
 * refusal, one unregister. Passes are driven with `rescan()`, so nothing waits on time.
 */

describe.each(stores)('code folder refusals and replicas ($kind)', (factory) => {
  const dirs: string[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  let counter = 0;
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(() => factory.dispose());

  async function engines(count: number): Promise<{ engines: Engine[]; dir: string }> {
    counter += 1;
    const name = `code-replicas${counter}`;
    const first = await Engine.open({ store: await factory.open(name) });
    const all = [first];
    for (let i = 1; i < count; i += 1) all.push(await Engine.open({ store: await openStoreAt(factory.location(name), `${name}-${i}`) }));
    for (const e of all) closers.push(() => e.close());
    const dir = mkdtempSync(join(tmpdir(), 'rewind-code-'));
    dirs.push(dir);
    return { engines: all, dir };
  }

  async function follow(engine: Engine, dir: string): Promise<CodeFolder> {
    const folder = await CodeFolder.open(engine, { dir, allowCommands: false, watch: false });
    closers.push(() => folder.close());
    return folder;
  }

  const eventsOf = async (engine: Engine, type: string) => (await engine.events.list(0, 10_000)).filter((e) => e.type === type);

  it('a broken file: code_file_refused with file, line and field once per content, the version unchanged; fixed: accepted and published', async () => {
    const { engines: [engine], dir } = await engines(1);
    const file = join(dir, 'defects.yaml');
    writeFileSync(file, yamlFile('defects', 0.05));
    const folder = await follow(engine!, dir);
    const [wf] = await engine!.workflows.codeWorkflows();

    writeFileSync(file, yamlFile('defects', 0.01).replace('type: task', 'type: tusk'));
    expect((await folder.rescan()).refused).toEqual(['defects.yaml']);
    const [refused] = await eventsOf(engine!, 'code_file_refused');
    expect(refused).toMatchObject({ workflow_id: wf!.id, actor: 'code:defects.yaml', payload: { file: 'defects.yaml', line: 9, field: 'dsl.nodes.0.type', message: expect.stringContaining("Node 'load'") as unknown } });
    expect(refused!.payload.hash).toBe(contentHash(readFileSync(file, 'utf8')));
    expect((await engine!.workflows.get(wf!.id)).active_version).toBe(1);

    // The same content again: nothing new to say. Another breakage: said again.
    expect((await folder.rescan()).refused).toEqual([]);
    expect(await eventsOf(engine!, 'code_file_refused')).toHaveLength(1);
    writeFileSync(file, 'name: defects\ndsl: [unclosed\n');
    await folder.rescan();
    const both = await eventsOf(engine!, 'code_file_refused');
    expect(both.map((e) => e.payload.line)).toEqual([9, 3]);

    // Fixed: the refusal is cleared in the publish's own unit of work.
    writeFileSync(file, yamlFile('defects', 0.03));
    expect(await folder.rescan()).toMatchObject({ published: ['defects'], refused: [], problems: [] });
    expect((await engine!.workflows.get(wf!.id)).active_version).toBe(2);
    expect(await eventsOf(engine!, 'code_file_accepted')).toMatchObject([{ workflow_id: wf!.id, payload: { file: 'defects.yaml', hash: contentHash(yamlFile('defects', 0.03)), removed: false } }]);
    expect((await folder.rescan()).published).toEqual([]);
    expect(await eventsOf(engine!, 'code_file_accepted')).toHaveLength(1);

    // A new file broken from the start, then removed: its refusal goes with it.
    writeFileSync(join(dir, 'draft.yaml'), 'name: draft\n');
    await folder.rescan();
    expect((await eventsOf(engine!, 'code_file_refused')).at(-1)).toMatchObject({ workflow_id: null, payload: { file: 'draft.yaml', field: 'dsl' } });
    unlinkSync(join(dir, 'draft.yaml'));
    await folder.rescan();
    expect((await eventsOf(engine!, 'code_file_accepted')).at(-1)).toMatchObject({ payload: { file: 'draft.yaml', hash: null, removed: true } });
  });

  // Replicas are a PostgreSQL deployment (schedules.test.ts races SQLite from a child process instead).
  const racing = 'two engines on one database following one folder: a change publishes one version, a breakage is refused once, a removal unregisters once';
  it.skipIf(skipWithoutConcurrentInstances(factory, racing))(racing, async () => {
    const { engines: [a, b], dir } = await engines(2);
    const file = join(dir, 'defects.yaml');
    writeFileSync(file, yamlFile('defects', 0.05));
    const [fa, fb] = [await follow(a!, dir), await follow(b!, dir)];
    expect(await eventsOf(a!, 'workflow_created')).toHaveLength(1);
    const [wf] = await a!.workflows.codeWorkflows();

    writeFileSync(file, yamlFile('defects', 0.03));
    const [ra, rb] = await Promise.all([fa.rescan(), fb.rescan()]);
    expect([...ra.published, ...rb.published]).toEqual(['defects']);
    expect(await eventsOf(a!, 'version_published')).toHaveLength(1);
    expect((await a!.workflows.get(wf!.id)).active_version).toBe(2);

    writeFileSync(file, yamlFile('defects', 0.01).replace('type: task', 'type: tusk'));
    const refused = await Promise.all([fa.rescan(), fb.rescan()]);
    expect(refused.flatMap((r) => r.refused)).toEqual(['defects.yaml']);
    expect(await eventsOf(b!, 'code_file_refused')).toHaveLength(1);

    unlinkSync(file);
    const removed = await Promise.all([fa.rescan(), fb.rescan()]);
    expect(removed.flatMap((r) => r.unregistered)).toEqual(['defects']);
    expect(await eventsOf(a!, 'workflow_unregistered')).toHaveLength(1);
    expect(await eventsOf(a!, 'code_file_accepted')).toHaveLength(1);
  });

  it('a pass that read a file before it changed applies nothing (stale): the newer content is published once, never reverted', async () => {
    const { engines: [engine], dir } = await engines(1);
    const file = join(dir, 'defects.yaml');
    writeFileSync(file, yamlFile('defects', 0.05));
    await follow(engine!, dir);
    const read = parseCodeFile('defects.yaml', yamlFile('defects', 0.04), { allowCommands: false });
    if (!('definition' in read)) throw new Error('expected a definition');
    // The file moved on before this pass took the lock.
    writeFileSync(file, yamlFile('defects', 0.03));
    const onDisk = () => contentHash(readFileSync(file, 'utf8')) === read.definition.hash;
    expect(await engine!.syncCode(read.definition, onDisk)).toEqual({ workflow: null, outcome: 'stale' });
    expect(await eventsOf(engine!, 'version_published')).toHaveLength(0);
  });
});
