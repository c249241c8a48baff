import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../support/postgres.js';
import { api, uniqueName } from '../server/harness.js';
import type { ReplicaProcess } from './processes.js';
import { audit, killLoop, replicaProcesses, settle } from './kill-loop.js';

/*
 * Issue 9's crash test for replicas: three replica processes on one PostgreSQL database, concurrent
 * rollbacks, drafts, runs and their checkpoints, and kill -9 of a random replica, again and again.
 * 0 lost acknowledged writes, 0 gaps, 0 forks; every run ends, taken over where its replica died,
 * with no node checkpointed twice. (The bench adds more kills: `npm run bench`.)
 */

const ADMIN = `admin-${uniqueName('kl')}-0123456789abcdef`;
const KILLS = Number(process.env.REWIND_KILLS ?? 30);

describe('three replicas, kill -9 of a random one, over and over', () => {
  let replicas: ReplicaProcess[] = [];
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill()));
  });

  it(`loses no acknowledged write and forks nothing across ${KILLS} kills`, async () => {
    const url = await freshDatabase('kill_loop');
    replicas = replicaProcesses(url, ADMIN, 1000);
    await replicas[0]!.start();
    await Promise.all(replicas.slice(1).map((r) => r.start()));

    const t0 = performance.now();
    const result = await killLoop(replicas, ADMIN, KILLS);
    expect(result.kills).toBe(KILLS);
    expect(result.acks.filter((a) => a.kind === 'rollback').length).toBeGreaterThan(KILLS);
    expect(result.acks.filter((a) => a.kind === 'run').length).toBeGreaterThan(KILLS / 2);

    // Runs left in flight by a killed replica are taken over and finish.
    await settle(replicas[0]!.url, ADMIN, 120_000);
    const found = await audit(replicas, ADMIN, result);
    expect(found.gaps).toEqual([]);
    expect(found.forks).toEqual([]);
    expect(found.chainOk).toEqual([true, true, true]);
    expect(found.lost).toEqual([]);
    expect(found.doubled).toEqual([]);
    // Every run acknowledged succeeded, with each of its nodes checkpointed once.
    const { runs } = (await api(replicas[1]!.url, ADMIN, 'GET', `/api/v1/runs?workflow_id=${result.runWorkflowId}&limit=10000`)).json as { runs: Array<{ status: string }> };
    expect(runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(found.incomplete).toEqual([]);
    expect(found.takeovers).toBeGreaterThan(0);
    process.stdout.write(`kill loop: ${result.kills} kills, ${result.acks.length} acknowledgements, ${runs.length} runs, ${found.takeovers} takeovers, ${found.events.length} events in ${Math.round(performance.now() - t0)} ms\n`);
  }, 900_000);
});
