import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendMethod } from '../../preload/contract/backend-methods.js';
import type { Engine } from '../engine/engine.js';
import { RunbookStore } from '../engine/runbooks/store.js';
import { reportMarkdown } from '../engine/runbooks/report.js';
import { loadSampleRunbooks } from '../engine/runbooks/samples.js';
import { type Runbook, type StoredRunbook, exportRunbook, parseRunbook } from '../engine/runbooks/format.js';
import type { Handler } from './handler.js';

/*
 * The engine backend's runbook and rehearsal methods. Every change commits with its audit event in
 * one `engine.mutate`, so the runbook history is in the same hash-chained log as the workflows'.
 */

type RunbookMethod = Extract<BackendMethod, `runbooks:${string}` | `rehearsals:${string}`>;
type RunbookHandlers = { [M in RunbookMethod]: Handler<M> };

/** The samples in the source tree; a packaged app may ship none, and then the demo has none. */
const SAMPLES_DIR = join(import.meta.dirname, '../../assets/runbooks');

function storeOf(engine: Engine): RunbookStore {
  return new RunbookStore(() => engine.q(), () => new Date(engine.now()));
}

/** Saves a runbook with its `runbook_saved` event; the caller holds the unit of work. */
async function saveWithEvent(engine: Engine, store: RunbookStore, runbook: Runbook, actor: string, source: 'editor' | 'import'): Promise<StoredRunbook> {
  const created = (await store.findRunbook(runbook.name)) === null;
  const stored = await store.saveRunbook(runbook, actor);
  await engine.append({
    type: 'runbook_saved',
    actor,
    payload: { runbook_id: stored.id, name: stored.name, level: stored.level, steps: stored.runbook.steps.length, created, source },
  });
  return stored;
}

export function runbookHandlers(engine: Engine): RunbookHandlers {
  const store = storeOf(engine);
  return {
    'runbooks:list': { apply: async () => ({ runbooks: await store.listRunbooks() }) },
    'runbooks:get': { apply: (i) => store.getRunbook(i.runbook) },
    'runbooks:save': { apply: (i, a) => engine.mutate(() => saveWithEvent(engine, store, i.runbook, a, 'editor')) },
    // Parsed before the transaction: a bad file is refused (INVALID_RUNBOOK, naming step and field) having touched nothing.
    'runbooks:import': {
      apply: (i, a) => {
        const runbook = parseRunbook(i.text, i.format);
        return engine.mutate(() => saveWithEvent(engine, store, runbook, a, 'import'));
      },
    },
    'runbooks:export': { apply: async (i) => ({ text: exportRunbook((await store.getRunbook(i.runbook)).runbook, i.format), format: i.format }) },
    'runbooks:delete': {
      apply: (i, a) =>
        engine.mutate(async () => {
          const deleted = await store.deleteRunbook(i.runbook);
          if (!deleted) return { deleted: false };
          await engine.append({ type: 'runbook_deleted', actor: a, payload: { runbook_id: deleted.runbook.id, name: deleted.runbook.name, rehearsals: deleted.rehearsals } });
          return { deleted: true };
        }),
    },
    'rehearsals:list': { apply: async (i) => ({ rehearsals: await store.listRehearsals(i.runbook, i.limit) }) },
    'rehearsals:get': { apply: (i) => store.getRehearsal(i.rehearsal_id) },
    'rehearsals:record': {
      apply: (i, a) =>
        engine.mutate(async () => {
          const stored = await store.saveRehearsal(i.runbook, i.record, a);
          await engine.append({
            type: 'rehearsal_recorded',
            actor: a,
            payload: { rehearsal_id: stored.id, runbook_id: stored.runbook_id, name: stored.runbook_name, scenario: stored.scenario, passed: stored.passed, total_ms: stored.total_ms },
          });
          return stored;
        }),
    },
    'rehearsals:report': {
      apply: async (i) => ({ markdown: reportMarkdown(await store.getRehearsal(i.rehearsal_id), await store.rehearsedRunbook(i.rehearsal_id)) }),
    },
  };
}

/** The demo sandbox's runbooks: the shipped samples, imported as an operator would, each with its audit event. */
export async function seedSampleRunbooks(engine: Engine, actor: string, dir = SAMPLES_DIR): Promise<void> {
  if (!existsSync(dir)) return;
  const samples = loadSampleRunbooks(dir);
  const store = storeOf(engine);
  await engine.mutate(async () => {
    for (const { runbook } of samples) await saveWithEvent(engine, store, runbook, actor, 'import');
  });
}
