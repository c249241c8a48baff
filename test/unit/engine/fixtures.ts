import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Dsl, ErrorCode, RewindEvent, Workflow } from '../../../preload/contract/index.js';
import { EngineBackend, openSandbox } from '../../../main/backends/engine-backend.js';
import { Engine, type EngineOptions } from '../../../main/engine/engine.js';
import type { SubscribeOptions } from '../../../main/backends/backend.js';
import { RewindError } from '../../../main/engine/errors.js';
import { SqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import type Database from 'better-sqlite3';

/*
 * Shared by the engine's unit tests: real SQLite files in temporary folders (removed after each
 * test), small DSLs, and assertions for refusals and invariants.
 */

const dirs: string[] = [];
const closers: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) {
    try {
      await close();
    } catch {
      // a test may already have closed it (or closed the handle under it on purpose)
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-engine-test-'));
  dirs.push(dir);
  return dir;
}

/** A path for a new database file in a fresh temp folder. */
export function tempDbPath(name = 'rewind.db'): string {
  return join(tempDir(), name);
}

/** Runs `fn` after the test, before the temp folders go (closing handles first). */
export function onCleanup(fn: () => Promise<void> | void): void {
  closers.push(fn);
}

export async function openTempSandbox(options: { path?: string; timeScale?: number; demo?: boolean; actor?: string } = {}): Promise<EngineBackend> {
  const sandbox = await openSandbox({ path: options.path ?? tempDbPath(), actor: options.actor ?? 'tester', timeScale: options.timeScale ?? 0, demo: options.demo ?? false });
  onCleanup(() => sandbox.close());
  return sandbox;
}

/**
 * A sandbox whose nodes take real time (one simulated ms = one real ms, capped at `nodeDelayMs`
 * per node), so a run stays in flight while a test looks at it.
 */
export async function openSlowSandbox(nodeDelayMs: number, path = tempDbPath()): Promise<EngineBackend> {
  const engine = await Engine.open({ path, timeScale: 1, maxNodeDelayMs: nodeDelayMs });
  const sandbox = new EngineBackend(engine, 'tester');
  onCleanup(() => sandbox.close());
  return sandbox;
}

export async function openTempEngine(options: Partial<EngineOptions> = {}): Promise<Engine> {
  const engine = await Engine.open({ path: options.path ?? tempDbPath(), ...options });
  onCleanup(() => engine.close());
  return engine;
}

/** load → judge → record: a small linear workflow with one node of each type. */
export function linearDsl(threshold = 0.05): Dsl {
  return {
    defaults: { defect_rate: 0.02, line: 'A1' },
    nodes: [
      { id: 'load', type: 'task', params: { duration_ms: 1000, output: { rows: 10 } }, next: ['judge'] },
      {
        id: 'judge',
        type: 'judgment',
        params: {
          rules: [
            { field: 'defect_rate', op: '>', value: threshold * 2, outcome: 'reject' },
            { field: 'defect_rate', op: '>', value: threshold, outcome: 'warning' },
          ],
          default: 'pass',
        },
        next: ['record'],
      },
      { id: 'record', type: 'transform', params: { copy: { 'report.verdict': 'outputs.judge.verdict' } }, next: [] },
    ],
  };
}

/** extract → train → evaluate → deploy: four tasks, for fault injection and resume. */
export function pipelineDsl(opts: { deployFails?: boolean; withValidate?: boolean } = {}): Dsl {
  return {
    defaults: { accuracy: 0.93 },
    nodes: [
      { id: 'extract', type: 'task', params: { duration_ms: 1000, output: { rows: 100 } }, next: [opts.withValidate ? 'validate' : 'train'] },
      ...(opts.withValidate ? [{ id: 'validate', type: 'transform' as const, params: { set: { schema: 2 } }, next: ['train'] }] : []),
      { id: 'train', type: 'task', params: { duration_ms: 5000, output: { epochs: 3 } }, next: ['evaluate'] },
      { id: 'evaluate', type: 'judgment', params: { rules: [{ field: 'accuracy', op: '<', value: 0.9, outcome: 'reject' }], default: 'promote' }, next: ['deploy'] },
      {
        id: 'deploy',
        type: 'task',
        params: opts.deployFails ? { duration_ms: 500, failure_rate: 1, error: 'registry refused the upload' } : { duration_ms: 500, output: { deployed: true } },
        next: [],
      },
    ],
  };
}

/** Calls `fn`, expecting a RewindError with `code` whose hint contains `hint` (string or pattern). */
export async function expectRefusal(fn: () => unknown, code: ErrorCode, hint: string | RegExp): Promise<RewindError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code} but nothing was thrown`).toBeInstanceOf(RewindError);
  const err = caught as RewindError;
  expect(err.code, err.message).toBe(code);
  if (typeof hint === 'string') expect(err.hint).toContain(hint);
  else expect(err.hint).toMatch(hint);
  expect(err.message.length).toBeGreaterThan(0);
  return err;
}

interface Snapshot {
  seq: number;
  workflows: unknown[];
  versions: unknown[];
  runs: unknown[];
}

async function snapshot(engine: Engine): Promise<Snapshot> {
  const read = engine.store.read;
  return {
    seq: await engine.latestSeq(),
    workflows: await read.all('SELECT * FROM workflows ORDER BY id'),
    versions: await read.all('SELECT * FROM workflow_versions ORDER BY workflow_id, version'),
    runs: await read.all('SELECT * FROM runs ORDER BY run_id'),
  };
}

/** The SQLite connection under an engine, for tests of SQLite itself (corrupting a file, a vanished process). */
export function sqliteDb(engine: Engine): Database.Database {
  if (!(engine.store instanceof SqliteStore)) throw new Error('This test needs the SQLite store.');
  return engine.store.db;
}

/**
 * A refusal that changes nothing: same code and hint, no row changed, and no event appended but the
 * refusal's own audit record (`mutation_refused`, for a mutation refused by a rule; none for a read).
 */
export async function expectRefusalChangesNothing(engine: Engine, fn: () => unknown, code: ErrorCode, hint: string | RegExp): Promise<RewindError> {
  const before = await snapshot(engine);
  const err = await expectRefusal(fn, code, hint);
  const after = await snapshot(engine);
  const appended = await engine.events.list(before.seq, 10);
  expect(appended.every((e) => e.type === 'mutation_refused' && e.payload.code === code)).toBe(true);
  expect(appended.length).toBeLessThanOrEqual(1);
  expect({ ...after, seq: after.seq - appended.length }).toEqual(before);
  return err;
}

/** Invariant 1: a workflow with an active_version has exactly one active version row, and it is that one. */
export async function expectOneActive(engine: Engine, workflowId: string): Promise<void> {
  const wf = (await engine.store.read.get<{ active_version: number | null }>('SELECT active_version FROM workflows WHERE id = ?', [workflowId]))!;
  const active = await engine.store.read.all<{ version: number }>("SELECT version FROM workflow_versions WHERE workflow_id = ? AND status = 'active'", [workflowId]);
  if (wf.active_version === null) expect(active).toEqual([]);
  else expect(active).toEqual([{ version: wf.active_version }]);
}

export async function versionStatuses(engine: Engine, workflowId: string): Promise<Record<number, string>> {
  const rows = await engine.store.read.all<{ version: number; status: string }>('SELECT version, status FROM workflow_versions WHERE workflow_id = ? ORDER BY version', [workflowId]);
  return Object.fromEntries(rows.map((r) => [r.version, r.status]));
}

export function eventsOf(engine: Engine, after = 0): Promise<RewindEvent[]> {
  return engine.events.list(after, 100_000);
}

export async function lastEvent(engine: Engine): Promise<RewindEvent> {
  const all = await eventsOf(engine);
  const last = all[all.length - 1];
  if (!last) throw new Error('no events');
  return last;
}

/** Subscribes and resolves once the backlog has been delivered and the subscription is live. */
export async function subscribeLive(backend: EngineBackend, options: Omit<SubscribeOptions, 'onState'> & { onState?: SubscribeOptions['onState'] }): Promise<() => void> {
  let off: () => void = () => undefined;
  await new Promise<void>((resolve) => {
    off = backend.subscribe({
      ...options,
      onState: (state, detail) => {
        options.onState?.(state, detail);
        if (state === 'live') resolve();
      },
    });
  });
  return off;
}

export async function createWorkflow(sandbox: EngineBackend, name: string, dsl: Dsl | null = linearDsl(), extra: { source_type?: 'MANUAL' | 'CODE'; schedule?: string } = {}): Promise<Workflow> {
  const create = () => sandbox.call('workflows:create', { name, ...(dsl ? { dsl } : {}), ...extra });
  // CODE workflows come from the code folder; tests stand in for it.
  return extra.source_type === 'CODE' ? sandbox.engine.workflows.asCodeFolder(create) : create();
}
