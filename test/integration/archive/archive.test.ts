import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend, openSandbox } from '../../../main/backends/engine-backend.js';
import { type ArchiveHeader, readArchive } from '../../../main/archive/archive-file.js';
import { exportArchive } from '../../../main/archive/export.js';
import { Engine } from '../../../main/engine/engine.js';
import { RewindError } from '../../../main/engine/errors.js';
import { latestSchemaVersion } from '../../../main/engine/store/sqlite/migrations/index.js';
import { createConnectionManager } from '../../../main/ipc/connections/connection-manager.js';
import { sessionVault } from '../../../main/ipc/connections/token-vault.js';
import type { Checkpoint, Dsl, Run } from '../../../preload/contract/entities.js';
import { fakeRemotes, onCleanup, tempDir } from '../ipc/helpers.js';
import { stores } from '../../support/stores.js';

/*
 * `rewind archive` before retention, on each store: the finished, not yet pruned runs of a range are
 * exported as gzip NDJSON (a header line first, an end line last), with their checkpoints as every
 * reader sees them and the workflows and versions they ran; after pruning, the archive still shows
 * them — browsed from the file, or opened in the console as a read-only connection.
 */

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const dsl: Dsl = {
  defaults: { defect_rate: 0.02 },
  nodes: [
    { id: 'extract', type: 'task', params: { duration_ms: 1, output: { rows: 120 } }, next: ['judge'] },
    { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'pass' }, next: ['load'] },
    { id: 'load', type: 'task', params: { duration_ms: 1, output: { loaded: true } }, next: [] },
  ],
};

async function collect(path: string): Promise<{ header: ArchiveHeader | null; lines: Array<{ kind: string } & Record<string, unknown>> }> {
  let header: ArchiveHeader | null = null;
  const lines: Array<{ kind: string } & Record<string, unknown>> = [];
  for await (const line of readArchive(path, (h) => (header = h))) lines.push(line);
  return { header, lines };
}

async function refusal(p: Promise<unknown>): Promise<RewindError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RewindError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe.each(stores)('run archives on $kind', (factory) => {
  const open: Engine[] = [];
  afterEach(async () => {
    for (const e of open.splice(0)) await e.close();
  });
  afterAll(() => factory.dispose());

  it('exports the runs of a range with their checkpoints, keeps them readable after pruning, and opens read-only in the console', async () => {
    let now = NOW;
    const engine = await Engine.open({ store: await factory.open('archive'), clock: () => new Date(now) });
    open.push(engine);
    const wf = await engine.workflows.create({ name: 'etl', description: '', dsl, source_type: 'MANUAL' }, 'op');
    const runAt = async (at: number, faults: Run['faults'] = {}) => {
      now = at;
      const r = await engine.runs.wait((await engine.runs.start({ workflow_id: wf.id, params: {}, faults, wait: false }, 'op')).run_id);
      now = NOW;
      return r;
    };
    const old = [await runAt(NOW - 150 * DAY), await runAt(NOW - 120 * DAY, { fail_node: 'load' }), await runAt(NOW - 100 * DAY)];
    const recent = await runAt(NOW - 10 * DAY);
    const states = new Map<string, Checkpoint[]>();
    for (const r of [...old, recent]) states.set(r.run_id, await engine.runs.checkpoints(r.run_id));

    const dir = tempDir();
    const out = join(dir, 'runs.ndjson.gz');
    const before = new Date(NOW - 90 * DAY).toISOString();
    const done = await exportArchive({ backend: new EngineBackend(engine, 'op'), server: 'http://rewind.example:8000', schema: latestSchemaVersion, before, out, pageSize: 2 });
    expect(done.end).toEqual({ kind: 'end', runs: 3, checkpoints: 3 + 3 + 3, workflows: 1, versions: 1 });
    expect(existsSync(`${out}.partial`)).toBe(false);

    // gzip NDJSON, the header first: anyone can read it with zcat and jq.
    const text = gunzipSync(readFileSync(out)).toString('utf8').trim().split('\n');
    expect(JSON.parse(text[0]!)).toMatchObject({ kind: 'rewind-archive', format: 1, server: 'http://rewind.example:8000', schema: latestSchemaVersion, range: { after: null, before } });
    const { header, lines } = await collect(out);
    expect(header?.range.before).toBe(before);
    expect(lines.map((l) => l.kind)).toEqual(['workflow', 'version', 'run', 'run', 'run', 'end']);
    const archived = lines.filter((l) => l.kind === 'run') as unknown as Array<{ run: Run; checkpoints: Checkpoint[] }>;
    expect(archived.map((a) => a.run.run_id)).toEqual(old.map((r) => r.run_id));
    for (const a of archived) expect(a.checkpoints).toEqual(states.get(a.run.run_id));

    // A range with --after takes only its part.
    const part = join(dir, 'part.ndjson.gz');
    await exportArchive({ backend: new EngineBackend(engine, 'op'), server: 's', schema: 1, before, after: new Date(NOW - 130 * DAY).toISOString(), out: part });
    expect((await collect(part)).lines.filter((l) => l.kind === 'run').map((l) => (l.run as Run).run_id)).toEqual([old[1]!.run_id, old[2]!.run_id]);
    // Never written over, and a pruned run is not archived again.
    expect((await refusal(exportArchive({ backend: new EngineBackend(engine, 'op'), server: 's', schema: 1, before, out }))).code).toBe('ARCHIVE_TARGET_EXISTS');

    await engine.prune({ retainMs: 90 * DAY, label: '90 days', keepFailedCheckpoints: false }, new Date(NOW));
    const again = join(dir, 'again.ndjson.gz');
    expect((await exportArchive({ backend: new EngineBackend(engine, 'op'), server: 's', schema: 1, before, out: again })).end.runs).toBe(0);

    // The console opens the archive as a connection: read-only, the pruned runs' checkpoints there.
    const consoleDir = tempDir();
    const sandboxPath = join(consoleDir, 'sandbox.db');
    const manager = await createConnectionManager({
      sandbox: { backend: await openSandbox({ path: sandboxPath, actor: 'mina' }), path: sandboxPath },
      dir: consoleDir,
      vault: sessionVault(),
      createRemote: fakeRemotes().createRemote,
    });
    onCleanup(() => manager.close());
    const info = await manager.openSandbox(out);
    expect(info).toMatchObject({ name: 'runs', kind: 'sandbox', role: 'viewer', archive: { server: 'http://rewind.example:8000', before, after: null, runs: 3, source: out } });
    manager.select(info.id);
    const backend = manager.selectedBackend();
    for (const r of old) {
      expect(await backend.call('checkpoints:list', { run_id: r.run_id })).toEqual({ checkpoints: states.get(r.run_id) });
      expect(await backend.call('runs:get', { run_id: r.run_id })).toEqual(r);
    }
    const refused = await refusal(backend.call('runs:resume', { run_id: old[1]!.run_id }));
    expect(refused.code).toBe('READ_ONLY');
    expect(refused.message).toContain('archive of http://rewind.example:8000');
    // The imported copy stores the states as the run service does (each row what its node changed).
    const imported = readdirSync(join(consoleDir, 'archives')).filter((f) => f.endsWith('.db'));
    expect(imported).toHaveLength(1);
    const copy = new Database(join(consoleDir, 'archives', imported[0]!), { readonly: true });
    try {
      expect(copy.prepare('SELECT format, COUNT(*) AS n FROM checkpoints GROUP BY format').all()).toEqual([{ format: 'delta', n: 9 }]);
    } finally {
      copy.close();
    }
    // Opening the same file again reuses the imported copy: one connection.
    expect((await manager.openSandbox(out)).id).toBe(info.id);
  });
});

describe('an archive file that cannot be read', () => {
  it('is refused with ARCHIVE_UNREADABLE saying why: not gzip, no header, cut short', async () => {
    const dir = tempDir();
    const read = async (name: string, bytes: Buffer) => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return refusal(collect(path));
    };
    expect((await read('plain.ndjson', Buffer.from('{"kind":"rewind-archive"}\n'))).message).toContain('not gzip');
    expect((await read('other.gz', gzipSync('{"hello":"world"}\n'))).message).toContain('not a Rewind archive header');
    const header = JSON.stringify({ kind: 'rewind-archive', format: 1, server: 's', schema: 150, range: { after: null, before: '2026-09-01T00:00:00.000Z' }, created_at: 'now' });
    const cut = await read('cut.gz', gzipSync(`${header}\n`));
    expect(cut.code).toBe('ARCHIVE_UNREADABLE');
    expect(cut.message).toContain('cut short');
    expect(cut.hint).toContain('rewind archive --before DATE --out FILE');
  });
});
