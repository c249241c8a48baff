import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { RemoteBackend } from '../../../main/backends/remote/index.js';
import { snapshotServer } from '../../../main/snapshots/snapshot.js';
import type { CanarySpec, Dsl, Workflow } from '../../../preload/contract/index.js';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { startServer, tempDir, type TestServer } from '../server/harness.js';

/*
 * A snapshot of a server mid-canary shows the same canary offline: the `canaries` rows are rebuilt
 * from the copied log — running, healthy (waiting for a person: a state with no event of its own) and
 * ended ones — the schedules carry their catch-up policy and concurrency limit, and the incident
 * records (rebuilt from their events) their times and reports.
 */

/** A run fails when its params say `fail: true`. */
const dsl = (label: string): Dsl => ({
  defaults: { fail: false },
  nodes: [{ id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: [] }],
});

type Row = Record<string, unknown>;

/** The canaries table without the server's random ids, oldest first. */
function canaryRows(db: Database.Database): Row[] {
  return (db.prepare('SELECT * FROM canaries ORDER BY started_at, workflow_id').all() as Row[]).map(({ canary_id: _id, ...row }) => row);
}

describe('snapshots carry canaries and schedules', () => {
  let server: TestServer;
  let dir: string;
  let remote: RemoteBackend;
  const wfs: Record<'running' | 'healthy' | 'aborted' | 'scheduled', Workflow> = {} as Record<'running' | 'healthy' | 'aborted' | 'scheduled', Workflow>;

  beforeAll(async () => {
    server = await startServer();
    dir = tempDir('rewind-canary-snapshot-');
    remote = new RemoteBackend({ url: server.url, token: server.tokens.viewer, retries: 1, timeoutMs: 5000 });
    const b = server.backend;
    const canary = async (name: keyof typeof wfs, policy: CanarySpec, runs: Array<{ fail: boolean }>) => {
      const wf = await b.call('workflows:create', { name, dsl: dsl('v1') });
      await b.call('versions:createDraft', { workflow_id: wf.id, dsl: dsl('v2'), change_log: 'candidate' });
      await b.call('versions:publish', { workflow_id: wf.id, version: 2, canary: policy }, { actor: 'admin' });
      // Named the canary's version, so which runs it gets is the test's choice, not a draw's.
      for (const params of runs) await b.call('runs:start', { workflow_id: wf.id, version: 2, params, wait: true });
      wfs[name] = wf;
    };
    await canary('running', { percent: 10, min_runs: 5, max_failure_rate: 0.5, promote: 'manual' }, [{ fail: false }, { fail: true }, { fail: false }]);
    await canary('healthy', { percent: 20, min_runs: 2, window_runs: 3, max_failure_rate: 0.5, promote: 'manual' }, [{ fail: false }, { fail: false }, { fail: true }, { fail: false }]);
    await canary('aborted', { percent: 30, min_runs: 2, max_failure_rate: 0.2, promote: 'auto' }, [{ fail: true }, { fail: true }]);
    wfs.scheduled = await b.call('workflows:create', { name: 'scheduled', dsl: dsl('v1') });
    await b.call('workflows:setSchedule', { workflow_id: wfs.scheduled.id, schedule: '0 3 * * *', catchup: 'all', max_concurrent: 2 });
  });
  afterAll(async () => {
    await remote.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the same canaries (version, percent, runs, state) and schedules as the server', async () => {
    const live = await Promise.all((['running', 'healthy', 'aborted'] as const).map((k) => server.backend.call('workflows:get', { workflow_id: wfs[k].id })));
    expect(live.map((w) => w.canary?.state ?? null)).toEqual(['running', 'healthy', null]);

    // Incident records come too: a failing canary opened them; one acknowledged, with a report written.
    const incidents = (await server.backend.call('incidents:records', { status: 'all' })).records;
    expect(incidents.map((r) => r.workflow_id).sort()).toEqual([wfs.running.id, wfs.healthy.id, wfs.aborted.id].sort());
    await server.backend.call('incidents:acknowledge', { incident_id: incidents[0]!.incident_id }, { actor: 'kim' });
    await server.backend.call('incidents:saveReport', { incident_id: incidents[0]!.incident_id, lessons: 'smaller canaries', expected_revision: 0 }, { actor: 'kim' });

    const path = join(dir, 'mid-canary.db');
    await snapshotServer({ backend: remote, sourceUrl: server.url, path, runs: 200 });

    const file = new Database(path, { readonly: true });
    try {
      expect(canaryRows(file)).toEqual(canaryRows(sqliteDb(server.backend.engine)));
    } finally {
      file.close();
    }

    const opened = await openSandbox({ path });
    try {
      expect(await opened.call('incidents:records', { status: 'all' })).toEqual(await server.backend.call('incidents:records', { status: 'all' }));
      expect((await opened.call('incidents:report', { incident_id: incidents[0]!.incident_id })).fields.lessons).toBe('smaller canaries');
      for (const w of live) {
        const offline = await opened.call('workflows:get', { workflow_id: w.id });
        expect(offline.canary).toEqual(w.canary);
        expect(offline.active_version).toBe(w.active_version);
      }
      expect((await opened.call('workflows:get', { workflow_id: wfs.running.id })).canary).toMatchObject({ version: 2, percent: 10, runs: 3, failures: 1, state: 'running' });
      expect((await opened.call('incidents:summary', {})).canaries?.map((c) => c.workflow_id).sort()).toEqual([wfs.running.id, wfs.healthy.id].sort());
      expect(await opened.call('workflows:health', { workflow_id: wfs.healthy.id })).toEqual(await server.backend.call('workflows:health', { workflow_id: wfs.healthy.id }));
      // The policy goes on offline: the copied canary is judged as the server would judge it.
      await opened.call('runs:start', { workflow_id: wfs.running.id, version: 2, params: { fail: true }, wait: true });
      await opened.call('runs:start', { workflow_id: wfs.running.id, version: 2, params: { fail: true }, wait: true });
      expect((await opened.call('workflows:get', { workflow_id: wfs.running.id })).canary).toBeNull();

      const schedule = await opened.call('schedules:get', { workflow_id: wfs.scheduled.id });
      expect(schedule).toMatchObject({ schedule: '0 3 * * *', catchup: 'all', max_concurrent: 2, last_fired: null });
    } finally {
      await opened.close();
    }
  });
});
