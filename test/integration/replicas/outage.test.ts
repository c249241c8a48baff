import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivatePostgres, privatePostgres } from '../../support/postgres.js';
import { api, dsls, eventually, uniqueName } from '../server/harness.js';
import { type Replicas, startReplicas } from './replicas.js';

/*
 * The database stopped and started again under load on two replicas: every answer is 2xx, 4xx or a
 * 503 with Retry-After and a hint — never a 500 — /health says degraded meanwhile, and the replicas
 * recover by themselves. The PostgreSQL server is this file's own, so stopping it disturbs no other.
 */

describe('replicas while the database is stopped and restarted under load', () => {
  let pg: PrivatePostgres;
  let r: Replicas;
  let workflowId: string;

  beforeAll(async () => {
    pg = await privatePostgres();
    r = await startReplicas(await pg.freshDatabase('outage'), 2, 'outage');
    const created = await api(r.replicas[0]!.url, r.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('outage'), dsl: dsls.v1 });
    workflowId = (created.json as { id: string }).id;
    expect((await api(r.replicas[1]!.url, r.tokens.admin, 'POST', `/api/v1/workflows/${workflowId}/versions`, { dsl: dsls.v2 })).status).toBe(200);
  });

  afterAll(async () => {
    await r?.close();
    await pg?.start().catch(() => undefined);
  });

  it('answers 2xx, 4xx or 503 with Retry-After, never 500, reports degraded, and recovers by itself', async () => {
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    let loading = true;
    let sent = 0;
    const worker = async (n: number) => {
      for (let k = 0; loading; k++) {
        const replica = r.replicas[(n + k) % 2]!;
        const res =
          k % 2 === 0
            ? await api(replica.url, r.tokens.admin, 'POST', `/api/v1/workflows/${workflowId}/versions/${1 + (k % 4 < 2 ? 0 : 1)}/rollback`)
            : await api(replica.url, r.tokens.viewer, 'GET', `/api/v1/workflows/${workflowId}`);
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) {
          const error = (res.json as { error?: { code?: string; hint?: string } }).error;
          const retryAfter = Number(res.headers.get('retry-after'));
          if (res.status !== 503 || !(retryAfter >= 1) || !error?.hint) bad.push(`${res.status} ${JSON.stringify(res.json)} retry-after=${res.headers.get('retry-after')}`);
        }
        if (res.status === 503) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));

    await eventually(() => sent >= 20, 20_000, 'load under way');
    await pg.stop();
    await eventually(() => (statuses.get(503) ?? 0) >= 4, 30_000, '503s while the database is away');
    for (const replica of r.replicas) {
      await eventually(async () => (await api(replica.url, undefined, 'GET', '/health')).status === 503, 30_000, `${replica.id} reports degraded`);
      const health = await api(replica.url, undefined, 'GET', '/health');
      expect(health.json).toMatchObject({ status: 'degraded', store: 'postgres', replica: replica.id });
    }
    await pg.start();
    const okBefore = statuses.get(200) ?? 0;
    await eventually(() => (statuses.get(200) ?? 0) >= okBefore + 10, 60_000, 'requests succeed again');
    for (const replica of r.replicas) {
      await eventually(async () => (await api(replica.url, undefined, 'GET', '/health')).status === 200, 60_000, `${replica.id} healthy again`);
    }
    loading = false;
    await load;

    expect(bad).toEqual([]);
    expect([...statuses.keys()].every((s) => (s >= 200 && s < 300) || (s >= 400 && s < 500) || s === 503)).toBe(true);
    expect(statuses.get(500)).toBeUndefined();
    // Nothing half-applied: the log is still gapless and hash-chained after the outage.
    const backend = r.replicas[1]!.served.backend;
    const all = (await backend.call('events:list', { after: 0, limit: 10_000 })).events;
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(await backend.call('events:verify', {})).toMatchObject({ ok: true, length: all.length });
  });
});
