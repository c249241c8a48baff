import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../support/postgres.js';
import { api, eventually, tempDir, uniqueName } from '../server/harness.js';
import { type Checkpoint, ReplicaProcess, allEvents, checkpointsOf } from './processes.js';

/*
 * Issue 9, point 5: a replica executing a run dies (kill -9); once its lease expires another replica
 * takes the run over and continues it — the same run_id, after its last checkpoint, no node
 * checkpointed twice — and says so once with `run_taken_over`. On SQLite (one server) a restart does
 * the same for its own dead runs.
 */

const ADMIN = `admin-${uniqueName('tk')}-0123456789abcdef`;
const LEASE_MS = 1500;
const NODES = 8;

/** Eight nodes of 400 ms each at time scale 1: about three seconds of work, long enough to kill in the middle. */
const dsl = {
  defaults: { batch: 0 },
  nodes: Array.from({ length: NODES }, (_, i) => ({ id: `step${i + 1}`, type: 'task' as const, params: { duration_ms: 400, output: { [`step${i + 1}`]: i + 1 } }, next: i + 1 < NODES ? [`step${i + 2}`] : [] })),
};

async function startRun(url: string): Promise<{ workflowId: string; runId: string }> {
  const created = await api(url, ADMIN, 'POST', '/api/v1/workflows', { name: uniqueName('takeover'), dsl });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  const workflowId = (created.json as { id: string }).id;
  const started = await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params: { batch: 7 } });
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  return { workflowId, runId: (started.json as { run_id: string }).run_id };
}

async function statusOf(url: string, runId: string): Promise<string> {
  return ((await api(url, ADMIN, 'GET', `/api/v1/runs/${runId}`)).json as { status: string }).status;
}

function expectEachNodeOnce(checkpoints: Checkpoint[]): void {
  expect(checkpoints.map((c) => c.seq)).toEqual(Array.from({ length: NODES }, (_, i) => i + 1));
  expect(checkpoints.map((c) => c.node_id)).toEqual(Array.from({ length: NODES }, (_, i) => `step${i + 1}`));
  expect(checkpoints.every((c) => c.status === 'succeeded')).toBe(true);
}

describe('run takeover after kill -9', () => {
  const processes: ReplicaProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('three replicas on PostgreSQL: the run finishes on another replica, same run_id, no checkpoint done twice, one run_taken_over', async () => {
    const url = await freshDatabase('takeover');
    const args = ['--db', url, '--port', '0', '--time-scale', '1', '--lease-ms', String(LEASE_MS)];
    const [a, b, c] = ['tk-a', 'tk-b', 'tk-c'].map((id) => new ReplicaProcess(id, args, { REWIND_ADMIN_TOKEN: ADMIN })) as [ReplicaProcess, ReplicaProcess, ReplicaProcess];
    processes.push(a, b, c);
    // The first start creates the schema; the others join it.
    await a.start();
    await Promise.all([b.start(), c.start()]);

    // A run executes on the replica that started it: a.
    const { runId } = await startRun(a.url);
    const seen: Checkpoint[][] = [];
    await eventually(async () => seen.push(await checkpointsOf(b.url, ADMIN, runId)) > 0 && seen[seen.length - 1]!.length >= 2, 20_000, 'two checkpoints');
    await a.kill();
    // Checkpoints a wrote before it died (it may have written another before the signal landed).
    const before = seen[seen.length - 1]!;
    expect(before.length).toBeLessThan(NODES);

    await eventually(async () => (await statusOf(c.url, runId)) === 'succeeded', 60_000, 'the run to succeed elsewhere');
    const run = (await api(c.url, ADMIN, 'GET', `/api/v1/runs/${runId}`)).json as { run_id: string; status: string; params: unknown };
    expect(run).toMatchObject({ run_id: runId, status: 'succeeded', params: { batch: 7 } });

    const after = await checkpointsOf(b.url, ADMIN, runId);
    expectEachNodeOnce(after);
    // The checkpoints written before the kill are the same rows, untouched.
    expect(after.slice(0, before.length)).toEqual(before);
    // The context carried across: the last node's state holds every node's output.
    expect((after[NODES - 1]!.state as { context: Record<string, unknown> }).context).toMatchObject({ step1: 1, [`step${NODES}`]: NODES, batch: 7 });

    const events = (await allEvents(c.url, ADMIN)).filter((e) => e.run_id === runId);
    expect(events.map((e) => e.type)).toEqual(['run_started', 'run_taken_over', 'run_succeeded']);
    const takeover = events[1]!.payload;
    // It continued after the last checkpoint a wrote.
    expect(takeover).toMatchObject({ run_id: runId, from_replica: 'tk-a' });
    expect(takeover.after_seq).toBeGreaterThanOrEqual(before.length);
    expect(takeover.after_seq).toBeLessThan(NODES);
    expect(['tk-b', 'tk-c']).toContain(takeover.to_replica);
    expect(await api(b.url, ADMIN, 'GET', '/api/v1/events/verify')).toMatchObject({ status: 200, json: { ok: true } });
  });

  it('one SQLite server killed and started again continues its own run the same way', async () => {
    const db = `${tempDir('rewind-takeover-')}/rewind.db`;
    const solo = new ReplicaProcess('solo', ['--db', db, '--port', '0', '--time-scale', '1', '--lease-ms', String(LEASE_MS)], { REWIND_ADMIN_TOKEN: ADMIN });
    processes.push(solo);
    await solo.start();
    const { runId } = await startRun(solo.url);
    await eventually(async () => (await checkpointsOf(solo.url, ADMIN, runId)).length >= 2, 20_000, 'two checkpoints');
    await solo.kill();
    await solo.start();
    await eventually(async () => (await statusOf(solo.url, runId)) === 'succeeded', 60_000, 'the run to succeed after the restart');
    expectEachNodeOnce(await checkpointsOf(solo.url, ADMIN, runId));
    const events = (await allEvents(solo.url, ADMIN)).filter((e) => e.run_id === runId);
    expect(events.map((e) => e.type)).toEqual(['run_started', 'run_taken_over', 'run_succeeded']);
    expect(events[1]!.payload).toMatchObject({ from_replica: 'solo', to_replica: 'solo' });
  });
});
