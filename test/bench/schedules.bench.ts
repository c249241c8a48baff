import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../main/engine/engine.js';
import type { Dsl, Run } from '../../preload/contract/entities.js';
import { type BenchResult, type BenchSuite, nowMs, result } from './lib.js';

/*
 * The scheduler's overhead: 1,000 workflows on a per-minute schedule, one minute's ticks handled by a
 * scheduler pass (the due query, cron arithmetic, the tick's claim, its run, schedule_fired, the
 * schedule's row) against a bare loop over the same rows that only starts each workflow's run — the
 * work a tick cannot avoid. And an idle pass (nothing due) against a bare read of those rows.
 */

const WORKFLOWS = 1000;
const MINUTES = 3;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const dsl: Dsl = { defaults: {}, nodes: [{ id: 'only', type: 'transform', params: { set: { done: true } }, next: [] }] };
const atLeastHalf = { text: 'scheduler ≥ 0.5× bare loop', met: (r: number) => r >= 0.5 };

async function settle(engine: Engine, runs: Run[]): Promise<void> {
  for (const r of runs) await engine.runs.wait(r.run_id);
}

export const schedulesSuite: BenchSuite = {
  name: 'schedules',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-schedules-'));
    let now = T0;
    const engine = await Engine.open({ path: join(dir, 'schedules.db'), timeScale: 0, clock: () => new Date(now) });
    try {
      const ids: string[] = [];
      for (let i = 0; i < WORKFLOWS; i += 1) {
        const wf = await engine.workflows.create({ name: `every-minute-${i}`, description: '', dsl, source_type: 'MANUAL' }, 'bench');
        await engine.schedules.set({ workflow_id: wf.id, schedule: '* * * * *' }, 'bench');
        ids.push(wf.id);
      }
      // A first minute unmeasured: the scheduler's rows exist and SQLite's pages are warm for both.
      now += 60_000;
      await settle(engine, await engine.schedules.tick());

      let schedulerMs = 0;
      let bareMs = 0;
      let ticks = 0;
      let starts = 0;
      for (let m = 0; m < MINUTES; m += 1) {
        now += 60_000;
        let t = nowMs();
        const fired = await engine.schedules.tick();
        schedulerMs += nowMs() - t;
        ticks += fired.length;
        await settle(engine, fired);

        // The bare loop: the same rows read, one run started per workflow, nothing decided or claimed.
        t = nowMs();
        const rows = await engine.store.read.all<{ id: string }>('SELECT id FROM workflows ORDER BY id');
        const started: Run[] = [];
        for (const { id } of rows) started.push(await engine.runs.start({ workflow_id: id, params: {}, faults: {}, wait: false }, 'bench'));
        bareMs += nowMs() - t;
        starts += started.length;
        await settle(engine, started);
      }
      if (ticks !== WORKFLOWS * MINUTES) throw new Error(`The scheduler fired ${ticks} ticks; ${WORKFLOWS * MINUTES} were due.`);

      // Idle: mid-minute, nothing is due; a pass is one indexed query.
      now += 30_000;
      const passes = 200;
      let t = nowMs();
      for (let i = 0; i < passes; i += 1) await engine.schedules.tick();
      const idleMs = (nowMs() - t) / passes;
      t = nowMs();
      for (let i = 0; i < passes; i += 1) await engine.store.read.all('SELECT w.id, w.schedule FROM workflows w');
      const bareReadMs = (nowMs() - t) / passes;

      return [
        result(`ticks handled per second (${WORKFLOWS} workflows, per-minute)`, ticks / (schedulerMs / 1000), 'ticks/s', starts / (bareMs / 1000), atLeastHalf),
        result(`idle pass over ${WORKFLOWS} schedules, nothing due`, idleMs, 'ms', bareReadMs),
      ];
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
