import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import { sqliteDb } from './fixtures.js';
import type { Dsl } from '../../../preload/contract/entities.js';

/* Several processes may open one sandbox; each interrupts only the runs of runners that are gone. */

const slow: Dsl = {
  defaults: {},
  nodes: [
    { id: 'a', type: 'task', params: { duration_ms: 60_000 }, next: ['b'] },
    { id: 'b', type: 'task', params: { duration_ms: 1 }, next: [] },
  ],
};

describe('runner leases', () => {
  const dirs: string[] = [];
  afterEach(async () => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const file = () => {
    const d = mkdtempSync(join(tmpdir(), 'rewind-runners-'));
    dirs.push(d);
    return join(d, 'sandbox.db');
  };

  it("a second engine on the same file leaves a live engine's running run alone", async () => {
    const path = file();
    const first = await Engine.open({ path, timeScale: 1, maxNodeDelayMs: 60_000 });
    const wf = await first.workflows.create({ name: 'slow', description: '', dsl: slow, source_type: 'MANUAL' }, 'op');
    const run = await first.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    const second = await Engine.open({ path });
    expect((await second.runs.get(run.run_id)).status).toBe('running');
    await second.close();
    expect((await first.runs.get(run.run_id)).status).toBe('running');
    await first.close();
  });

  it('a run whose runner is gone is interrupted on the next open, and a clean close interrupts its own', async () => {
    const path = file();
    const first = await Engine.open({ path, timeScale: 1, maxNodeDelayMs: 60_000 });
    const wf = await first.workflows.create({ name: 'slow', description: '', dsl: slow, source_type: 'MANUAL' }, 'op');
    const run = await first.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    // A process that vanished: its runner row names a pid that does not exist.
    sqliteDb(first).prepare('UPDATE runners SET pid = 2147483646').run();
    const second = await Engine.open({ path });
    const seen = await second.runs.get(run.run_id);
    expect(seen.status).toBe('interrupted');
    expect(seen.error).toMatch(/stopped/);
    await second.close();
    sqliteDb(first).close();

    const third = await Engine.open({ path, timeScale: 1, maxNodeDelayMs: 60_000 });
    const mine = await third.runs.start({ workflow_id: wf.id, params: {}, faults: {}, wait: false }, 'op');
    await third.close();
    const fourth = await Engine.open({ path });
    expect(await fourth.runs.get(mine.run_id)).toMatchObject({ status: 'interrupted', error: 'Rewind closed while the run was in flight.' });
    await fourth.close();
  });
});
