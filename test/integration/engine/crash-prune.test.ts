import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import type { Store } from '../../../main/engine/store/port.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';
import { buildHistory } from '../../bench/history/generate.js';

/*
 * kill -9 in the middle of pruning passes, on every store: a child prunes a history of runs that
 * ended months ago, in batches of four runs, and is killed at a random moment, again and again. After
 * each kill nothing half-pruned is visible (a pruned run has no checkpoint left, an unpruned one has
 * every row it had), the SQLite file passes integrity_check and the chain verifies. At the end every
 * run is pruned, and the runs_pruned events — those of passes cut short included, recorded by the
 * next pass — count each pruned run exactly once.
 */

const KILLS = 12;
const NOW = '2026-12-01T12:00:00.000Z';
const worker = join(import.meta.dirname, 'prune-worker.ts');

/** Runs a pruning child and kills it at a random moment of its pass; whether it finished first. */
function runAndKill(location: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, location, NOW], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (!out.includes('ready') && (out + chunk).includes('ready')) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 900));
      out += chunk;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL' || code === 0) resolve(out.includes('"done":true'));
      else reject(new Error(`prune worker exited ${String(code)}: ${stderr}`));
    });
  });
}

type Rows = Map<string, string>;

/** Every run's checkpoint rows, as stored. */
async function checkpointRows(store: Store): Promise<Rows> {
  const rows = await store.read.all<{ run_id: string; seq: number; format: string; state: string }>('SELECT run_id, seq, format, state FROM checkpoints ORDER BY run_id, seq');
  const byRun: Rows = new Map();
  for (const r of rows) byRun.set(r.run_id, `${byRun.get(r.run_id) ?? ''}${r.seq}:${r.format}:${r.state}\n`);
  return byRun;
}

describe.each(stores)('kill -9 during pruning on $kind', (factory) => {
  afterAll(() => factory.dispose());

  it(`never shows a half-pruned run, loses no unpruned checkpoint, and records every pruned run once across ${KILLS} kills`, async () => {
    const manifest = await buildHistory(await factory.open('prune-crash'), { events: 1200, endsAt: new Date('2026-06-01T00:00:00.000Z') });
    const location = factory.location('prune-crash');
    let store = await openStoreAt(location);
    const original = await checkpointRows(store);
    await store.close();
    expect(original.size).toBeGreaterThan(400);

    let finished = false;
    for (let round = 0; round < KILLS && !finished; round += 1) {
      finished = await runAndKill(location);
      if (factory.kind === 'sqlite') {
        const raw = new Database(location);
        expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
        raw.close();
      }
      store = await openStoreAt(location);
      const now = await checkpointRows(store);
      const runs = await store.read.all<{ run_id: string; pruned_at: string | null }>('SELECT run_id, pruned_at FROM runs');
      for (const r of runs) {
        if (r.pruned_at !== null) expect(now.has(r.run_id), `round ${round}: pruned run ${r.run_id} still has checkpoints`).toBe(false);
        else expect(now.get(r.run_id), `round ${round}: unpruned run ${r.run_id} lost checkpoints`).toBe(original.get(r.run_id));
      }
      const engine = await Engine.open({ store });
      expect((await engine.verifyChain()).ok, `round ${round}: chain`).toBe(true);
      await engine.close();
    }

    // A last pass (after the killed child's lease expired) records a pass cut short and finishes.
    await new Promise((r) => setTimeout(r, 400));
    const engine = await Engine.open({ store: await openStoreAt(location) });
    try {
      await engine.prune({ retainMs: 90 * 86_400_000, label: '90 days', keepFailedCheckpoints: false }, new Date(NOW));
      const runs = await engine.store.read.all<{ n: number }>('SELECT COUNT(*) AS n FROM runs WHERE pruned_at IS NULL');
      expect(runs).toEqual([{ n: 0 }]);
      expect(await engine.store.read.get('SELECT COUNT(*) AS n FROM checkpoints')).toEqual({ n: 0 });
      const events = (await engine.events.list(0, manifest.events + 1000)).filter((e) => e.type === 'runs_pruned');
      const counted = events.reduce((n, e) => n + Number(e.payload.runs), 0);
      expect(counted).toBe(manifest.runs);
      expect((await engine.verifyChain()).ok).toBe(true);
      console.log(`prune crash (${factory.kind}): ${manifest.runs} runs pruned across ${events.length} recorded passes (${events.filter((e) => e.payload.interrupted).length} cut short by a kill)`);
    } finally {
      await engine.close();
    }
  }, 900_000);
});
