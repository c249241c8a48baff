import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { RemoteBackend } from '../../../main/backends/remote/index.js';
import { snapshotServer } from '../../../main/snapshots/snapshot.js';
import { startServer, tempDir, type TestServer } from '../server/harness.js';

/*
 * A run its approver denied is copied by a snapshot as it ended — `denied`, not failed, and not left
 * unfinished — and the copy is a server of its own (another server id).
 */

describe('a snapshot of a server with a denied run', () => {
  let server: TestServer | null = null;
  const dir = tempDir('rewind-denied-snapshot-');
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the run denied, with its approval_denied and run_denied events', async () => {
    server = await startServer();
    const b = server.backend;
    const wf = await b.call('workflows:create', { name: 'release-gate', dsl: { nodes: [{ id: 'gate', type: 'approval', params: { prompt: 'Ship it?' }, next: [] }], defaults: {} } });
    const run = await b.call('runs:start', { workflow_id: wf.id });
    for (let i = 0; i < 1000 && (await b.call('runs:get', { run_id: run.run_id })).status !== 'waiting'; i++) await new Promise((r) => setTimeout(r, 10));
    await b.call('runs:approve', { run_id: run.run_id, decision: 'deny', comment: 'not today' }, { actor: 'ana' });
    expect(await b.engine.runs.wait(run.run_id)).toMatchObject({ status: 'denied' });

    const remote = new RemoteBackend({ url: server.url, token: server.tokens.viewer, retries: 1, timeoutMs: 5000 });
    const path = join(dir, 'copy.db');
    try {
      await snapshotServer({ backend: remote, sourceUrl: server.url, path, runs: 10 });
    } finally {
      await remote.close();
    }
    const copy = await openSandbox({ path });
    try {
      expect(await copy.call('runs:get', { run_id: run.run_id })).toMatchObject({ status: 'denied', failed_node: 'gate', error: "Approval node 'gate': denied by ana: not today." });
      const types = (await copy.call('events:list', { workflow_id: wf.id, run_id: run.run_id })).events.map((e) => e.type);
      expect(types).toEqual(['run_started', 'approval_requested', 'approval_denied', 'run_denied']);
      expect((await copy.call('events:verify', {})).ok).toBe(true);
      expect((await copy.call('events:head', {})).server_id).not.toBe(await b.engine.serverId());
    } finally {
      await copy.close();
    }
  });
});
