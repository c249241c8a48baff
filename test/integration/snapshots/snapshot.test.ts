import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../../main/backends/remote/index.js';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { SNAPSHOT_RUNNER_ID } from '../../../main/engine/engine.js';
import { RewindError } from '../../../main/engine/errors.js';
import { rebuildFromEvents, snapshotState } from '../../../main/engine/rebuild.js';
import { inspectSandboxFile } from '../../../main/snapshots/sandbox-file.js';
import { snapshotServer, type SnapshotProgress } from '../../../main/snapshots/snapshot.js';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { dsls, startServer, tempDir, type TestServer, uniqueName } from '../server/harness.js';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { startDropProxy } from './drop-proxy.js';

const RUNS = 10;

type Row = Record<string, unknown>;

/** Every table a snapshot copies, as rows, for byte-for-byte comparison. */
function dump(db: Database.Database) {
  const all = (sql: string) => db.prepare(sql).all() as Row[];
  return {
    events: all('SELECT * FROM events ORDER BY seq'),
    workflows: all('SELECT * FROM workflows ORDER BY id'),
    versions: all('SELECT * FROM workflow_versions ORDER BY version_id'),
    runs: all('SELECT * FROM runs ORDER BY run_id').map(({ runner_id: _r, ...run }) => run),
    checkpoints: all('SELECT * FROM checkpoints ORDER BY run_id, seq'),
    runbooks: all('SELECT * FROM runbooks ORDER BY id'),
    rehearsals: all('SELECT * FROM rehearsals ORDER BY id'),
  };
}

function dumpFile(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return dump(db);
  } finally {
    db.close();
  }
}

/** What the snapshot should hold: the server's tables, its runs cut to the newest N and their ancestors. */
function expected(server: TestServer, n: number) {
  const db = sqliteDb(server.backend.engine);
  const all = dump(db);
  const byId = new Map(all.runs.map((r) => [r.run_id as string, r]));
  const keep = new Set((db.prepare('SELECT run_id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(n) as Array<{ run_id: string }>).map((r) => r.run_id));
  for (const id of [...keep]) {
    for (let p = byId.get(id)?.parent_run_id as string | null; p; p = byId.get(p)?.parent_run_id as string | null) keep.add(p);
  }
  return { ...all, runs: all.runs.filter((r) => keep.has(r.run_id as string)), checkpoints: all.checkpoints.filter((c) => keep.has(c.run_id as string)) };
}

/** The demo data plus runs of our own: a failure resumed last, so its parent is older than the newest N. */
async function seedExtraRuns(server: TestServer): Promise<void> {
  const b = server.backend;
  const wf = await b.call('workflows:create', { name: uniqueName('snap'), dsl: dsls.v1 });
  // An unregistered workflow stays for the record, and its name is taken again: the snapshot holds both.
  const retired = await b.call('workflows:create', { name: 'retired', dsl: dsls.v1 });
  await b.call('workflows:unregister', { workflow_id: retired.id });
  await b.call('workflows:create', { name: 'retired', dsl: dsls.v2 });
  await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2, change_log: 'tighter threshold' });
  await b.call('versions:publish', { workflow_id: wf.id, version: 2 });
  const failed = await b.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'report' }, wait: true });
  expect(failed.status).toBe('failed');
  for (let i = 0; i < RUNS + 2; i++) await b.call('runs:start', { workflow_id: wf.id, params: { defect_rate: i / 100 }, wait: true });
  const resumed = await b.call('runs:resume', { run_id: failed.run_id, wait: true });
  expect(resumed).toMatchObject({ status: 'succeeded', parent_run_id: failed.run_id });
  // A rehearsal on record, so the snapshot has a recovery-time history to carry offline.
  const [runbook] = (await b.call('runbooks:list', {})).runbooks;
  const step = { index: 1, title: 'Roll back', kind: 'action' as const, outcome: 'passed' as const, expected_ms: 5000, duration_ms: 4200, detail: 'rolled back' };
  const record = { runbook_name: runbook!.name, scenario: null, started_at: '2026-12-01T10:00:00.000Z', finished_at: '2026-12-01T10:00:04.200Z', total_ms: 4200, passed: true, steps: [step], rollbacks: [] };
  await b.call('rehearsals:record', { runbook: runbook!.id, record });
}

describe('snapshots of a real workflow server (127.0.0.1)', () => {
  let server: TestServer;
  let dir: string;
  const remotes: RemoteBackend[] = [];
  const remote = (url: string) => {
    // A viewer token is enough: a snapshot only reads.
    const r = new RemoteBackend({ url, token: server.tokens.viewer, retries: 1, timeoutMs: 5000 });
    remotes.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await startServer({ demo: true });
    await seedExtraRuns(server);
    dir = tempDir('rewind-snapshot-');
  });
  afterAll(async () => {
    for (const r of remotes) await r.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds exactly the server’s workflows, versions and events, and the newest runs with their checkpoints and ancestors', async () => {
    const path = join(dir, 'full.db');
    const progress: SnapshotProgress[] = [];
    const result = await snapshotServer({ backend: remote(server.url), sourceUrl: server.url, path, runs: RUNS, onProgress: (p) => progress.push(p), pageSize: 7 });

    const want = expected(server, RUNS);
    const got = dumpFile(path);
    expect(got.events).toEqual(want.events);
    expect(got.workflows).toEqual(want.workflows);
    expect(got.versions).toEqual(want.versions);
    expect(got.runs).toEqual(want.runs);
    expect(got.checkpoints).toEqual(want.checkpoints);
    // Runbooks and their rehearsal history come along, so the server's procedures can be rehearsed offline.
    expect(got.runbooks).toEqual(want.runbooks);
    expect(got.rehearsals).toEqual(want.rehearsals);
    expect(got.runbooks.length).toBeGreaterThan(0);
    expect(got.rehearsals).toHaveLength(1);
    expect(got.runs.length).toBe(RUNS + 1);
    expect(result).toMatchObject({
      path,
      source_url: server.url,
      workflows: want.workflows.length,
      versions: want.versions.length,
      events: want.events.length,
      runs: RUNS + 1,
      checkpoints: want.checkpoints.length,
      runbooks: want.runbooks.length,
      rehearsals: 1,
      resumed: false,
    });

    const phases = [...new Set(progress.map((p) => p.phase))];
    expect(phases).toEqual(['events', 'workflows', 'versions', 'runs', 'runbooks', 'done']);
    expect(progress.filter((p) => p.phase === 'events').at(-1)).toMatchObject({ done: want.events.length, total: want.events.length });
    expect(progress.filter((p) => p.phase === 'runs').at(-1)).toMatchObject({ done: RUNS + 1, total: RUNS + 1 });

    expect(inspectSandboxFile(path)).toMatchObject({
      kind: 'sandbox',
      snapshot: { sourceUrl: server.url, headSeq: want.events.length, complete: true, runsRequested: RUNS, cursor: { phase: 'done', events: want.events.length, runs: RUNS + 1 } },
    });

    // The copy verified each event as it arrived and kept that head: opening it reads no event again.
    const file = new Database(path, { readonly: true });
    expect(file.prepare('SELECT seq, hash, verified_by FROM chain_verified').get()).toEqual({ seq: want.events.length, hash: want.events.at(-1)?.hash, verified_by: `snapshot of ${server.url}` });
    file.close();
    // It opens as a normal sandbox: the chain verifies, the state rebuilds from the log, nothing is appended.
    const opened = await openSandbox({ path });
    try {
      expect(opened.engine.chainAtOpen).toMatchObject({ ok: true, length: want.events.length, head_hash: want.events.at(-1)?.hash });
      expect(await opened.engine.latestSeq()).toBe(want.events.length);
      expect(rebuildFromEvents(await opened.engine.events.list(0, 1_000_000))).toEqual(await snapshotState(opened.engine.store.read));
      const [history] = (await opened.call('runbooks:list', {})).runbooks.filter((r) => r.name === want.runbooks.find((w) => w.id === want.rehearsals[0]!.runbook_id)!.name);
      expect((await opened.call('rehearsals:list', { runbook: history!.id })).rehearsals).toMatchObject([{ total_ms: 4200, passed: true }]);
      expect((await opened.call('runs:list', {})).runs.map((r) => r.run_id)).toEqual((await server.backend.call('runs:list', { limit: RUNS })).runs.map((r) => r.run_id).concat(expect.any(String)));
    } finally {
      await opened.close();
    }
  });

  it('resumes a snapshot interrupted by a dropped connection, in the events and in the runs, to the same result', async () => {
    const reference = dumpFile(join(dir, 'full.db'));
    // One request reads the head, about 22 pages of 7 copy the events (the demo's canary and incident stories among
    // them), then one run per request: the first drop falls in the events, the second in the runs.
    for (const [dropAt, phase] of [[7, 'events'], [35, 'runs']] as const) {
      const proxy = await startDropProxy(server.url);
      try {
        const path = join(dir, `dropped-${dropAt}.db`);
        const backend = remote(proxy.url);
        proxy.dropAt(dropAt);
        const progress: SnapshotProgress[] = [];
        const failure = await snapshotServer({ backend, sourceUrl: proxy.url, path, runs: RUNS, onProgress: (p) => progress.push(p), pageSize: 7 }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(RewindError);
        expect(failure).toMatchObject({ code: 'UNREACHABLE' });
        expect(progress.at(-1)).toMatchObject({ phase: 'failed', detail: expect.stringMatching(/127\.0\.0\.1/) });
        const stopped = inspectSandboxFile(path);
        if (stopped.kind !== 'sandbox' || !stopped.snapshot) throw new Error('no snapshot record after the drop');
        expect(stopped.snapshot.complete).toBe(false);
        const at = stopped.snapshot.cursor;
        expect(at.phase).toBe(phase);
        if (phase === 'events') expect(at.events).toSatisfy((n: number) => n > 0 && n < reference.events.length);
        else expect(at).toMatchObject({ events: reference.events.length, runs: expect.toSatisfy((n: number) => n > 0 && n < RUNS + 1) });

        proxy.heal();
        const resumedProgress: SnapshotProgress[] = [];
        const result = await snapshotServer({ backend, sourceUrl: proxy.url, path, runs: RUNS, onProgress: (p) => resumedProgress.push(p), pageSize: 7 });
        expect(result).toMatchObject({ resumed: true, events: reference.events.length, runs: RUNS + 1 });
        // It carried on from where it stopped rather than starting over.
        if (phase === 'events') expect(resumedProgress[0]).toMatchObject({ phase: 'events', done: at.events });
        expect(dumpFile(path)).toEqual(reference);
      } finally {
        await proxy.close();
      }
    }
  });

  it('is consistent as of the head it read first, while the server moves on', async () => {
    const path = join(dir, 'moving.db');
    const before = await server.backend.engine.latestSeq();
    const wf = (await server.backend.call('workflows:list', {})).workflows.find((w) => w.name.startsWith('snap-'));
    if (!wf) throw new Error('no workflow of ours');
    let moved: Promise<unknown> | null = null;
    await snapshotServer({
      backend: remote(server.url),
      sourceUrl: server.url,
      path,
      runs: RUNS,
      pageSize: 5,
      onProgress: (p) => {
        if (moved || p.phase !== 'events' || p.done === 0) return;
        // Mid-copy: a rollback, a new draft and a new run land on the server.
        moved = (async () => {
          await server.backend.call('versions:rollback', { workflow_id: wf.id, version: 1 });
          await server.backend.call('versions:createDraft', { workflow_id: wf.id, change_log: 'after the head' });
          await server.backend.call('runs:start', { workflow_id: wf.id, wait: true });
        })();
      },
    });
    await moved;
    expect(await server.backend.engine.latestSeq()).toBeGreaterThan(before);
    const got = dumpFile(path);
    expect(got.events).toHaveLength(before);
    const events = got.events.map((e) => ({ ...e, payload: JSON.parse(e.payload as string) as Record<string, unknown> }) as RewindEvent);
    const db = new Database(path, { readonly: true });
    try {
      expect(rebuildFromEvents(events)).toEqual(await snapshotState(new SqliteStore(db, 0).read));
    } finally {
      db.close();
    }
    expect(got.workflows.find((w) => w.id === wf.id)).toMatchObject({ active_version: 2, revision: wf.revision });
    const latest = (await server.backend.call('runs:list', { limit: 1 })).runs[0];
    expect(got.runs.map((r) => r.run_id)).not.toContain(latest?.run_id);
  });

  it('keeps a run that was running on the server as it stood, and opening the file does not interrupt it', async () => {
    const slow = await startServer({ timeScale: 1 });
    try {
      const wf = await slow.backend.call('workflows:create', { name: uniqueName('slow'), dsl: dsls.slow });
      const run = await slow.backend.call('runs:start', { workflow_id: wf.id });
      const path = join(dir, 'running.db');
      const r = new RemoteBackend({ url: slow.url, token: slow.tokens.viewer });
      remotes.push(r);
      await snapshotServer({ backend: r, sourceUrl: slow.url, path, runs: 5 });
      const got = dumpFile(path);
      expect(got.runs).toEqual([expect.objectContaining({ run_id: run.run_id, status: 'running', finished_at: null })]);
      const db = new Database(path, { readonly: true });
      expect(db.prepare('SELECT runner_id FROM runs').get()).toEqual({ runner_id: SNAPSHOT_RUNNER_ID });
      db.close();

      const opened = await openSandbox({ path });
      try {
        expect(await opened.call('runs:get', { run_id: run.run_id })).toMatchObject({ status: 'running' });
        expect(await opened.engine.latestSeq()).toBe(got.events.length);
      } finally {
        await opened.close();
      }
      expect(dumpFile(path)).toEqual(got);
    } finally {
      await slow.close();
    }
  });

  it('refuses a file that is another server’s snapshot, a sandbox with data, a complete snapshot, or not a sandbox', async () => {
    const full = join(dir, 'full.db');
    const take = (path: string, sourceUrl = server.url) => snapshotServer({ backend: remote(server.url), sourceUrl, path, runs: RUNS }).catch((e: unknown) => e);

    expect(await take(full)).toMatchObject({ code: 'SNAPSHOT_TARGET_EXISTS', message: expect.stringMatching(/already holds a complete snapshot/) });
    expect(await take(full, 'http://127.0.0.1:1')).toMatchObject({ code: 'SNAPSHOT_TARGET_OTHER_SERVER', message: expect.stringContaining(`a snapshot of ${server.url}, not of http://127.0.0.1:1`) });

    const sandboxPath = join(dir, 'own-sandbox.db');
    await (await openSandbox({ path: sandboxPath, demo: true })).close();
    expect(await take(sandboxPath)).toMatchObject({ code: 'SNAPSHOT_TARGET_IS_SANDBOX', message: expect.stringMatching(/sandbox with data of its own/) });

    const text = join(dir, 'notes.db');
    writeFileSync(text, 'not a database at all, just notes\n'.repeat(100));
    expect(await take(text)).toMatchObject({ code: 'SNAPSHOT_TARGET_EXISTS', message: expect.stringMatching(/not a Rewind sandbox file/) });

    const foreign = join(dir, 'foreign.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)');
    other.close();
    expect(await take(foreign)).toMatchObject({ code: 'SNAPSHOT_TARGET_EXISTS', message: expect.stringMatching(/not a Rewind sandbox file/) });
    // Refused before anything was written to it.
    const check = new Database(foreign, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'customers' }]);
    check.close();
  });

  it('takes a path ending in / as a folder: the snapshot file is created in it with a generated name', async () => {
    const folder = join(dir, 'snapshots');
    const result = await snapshotServer({ backend: remote(server.url), sourceUrl: server.url, path: `${folder}/`, runs: 1 });
    const port = new URL(server.url).port;
    expect(result.path).toMatch(new RegExp(`^${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/snapshot-127\\.0\\.0\\.1-${port}-\\d{8}T\\d{6}Z(-\\d+)?\\.db$`));
    expect(inspectSandboxFile(result.path)).toMatchObject({ kind: 'sandbox', snapshot: { complete: true } });
    // An existing folder named without the slash is a folder too, never a file written over it.
    const second = await snapshotServer({ backend: remote(server.url), sourceUrl: server.url, path: folder, runs: 1 });
    expect(second.path.startsWith(`${folder}/snapshot-`)).toBe(true);
    expect(second.path).not.toBe(result.path);
  });

  it('refuses to resume over a log the server no longer has', async () => {
    const path = join(dir, 'diverged.db');
    const proxy = await startDropProxy(server.url);
    try {
      proxy.dropAt(22);
      await expect(snapshotServer({ backend: remote(proxy.url), sourceUrl: proxy.url, path, runs: RUNS, pageSize: 3 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
      // Another server now answers at the same address: its log is not the one this snapshot began to copy.
      const impostor = await startServer({ demo: false });
      try {
        await impostor.backend.call('workflows:create', { name: 'impostor', dsl: dsls.v1 });
        const other = new RemoteBackend({ url: impostor.url, token: impostor.tokens.viewer });
        remotes.push(other);
        await expect(snapshotServer({ backend: other, sourceUrl: proxy.url, path, runs: RUNS })).rejects.toMatchObject({ code: 'SNAPSHOT_SOURCE_CHANGED' });
      } finally {
        await impostor.close();
      }
    } finally {
      await proxy.close();
    }
  });
});
