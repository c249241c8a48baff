import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../../main/server/tokens.js';
import { type PrivatePostgres, privatePostgres } from '../../support/postgres.js';
import { api, eventually } from '../server/harness.js';
import { type Replica, startReplica } from './replicas.js';

/*
 * /health tells the truth after an outage: a replica that answered requests while PostgreSQL was
 * down turns 503 "degraded", and once the database is back it probes it by itself (a read and a
 * write every few seconds while degraded) and turns 200 — with no client writing through it, as a
 * load balancer that routes around a 503 replica would never send one. The PostgreSQL server is this
 * file's own, so stopping it disturbs no other.
 */

describe('health after a PostgreSQL restart, with no write', () => {
  let pg: PrivatePostgres;
  let replica: Replica;
  let viewer: string;

  beforeAll(async () => {
    pg = await privatePostgres();
    replica = await startReplica(await pg.freshDatabase('probe'), 'probe-a');
    viewer = (await new TokenStore(replica.served.backend.engine).issue({ name: 'viewer', role: 'viewer', createdBy: 'test' })).token;
  });

  afterAll(async () => {
    await replica?.close();
    await pg?.start().catch(() => undefined);
  });

  it('turns 200 again by itself once the database is back', async () => {
    const health = () => api(replica.url, undefined, 'GET', '/health');
    expect((await health()).status).toBe(200);
    const seqBefore = await replica.served.backend.engine.latestSeq();

    await pg.stop();
    // A request during the outage: refused with 503, and the replica reports degraded.
    const refused = await api(replica.url, viewer, 'GET', '/api/v1/workflows');
    expect(refused.status).toBe(503);
    await eventually(async () => (await health()).status === 503, 30_000, 'degraded during the outage');
    expect((await health()).json).toMatchObject({ status: 'degraded', store: 'postgres', replica: 'probe-a' });

    await pg.start();
    // Only /health is asked from here on: no request writes, nothing appends an event.
    await eventually(async () => (await health()).status === 200, 30_000, 'healthy again without a write');
    expect((await health()).json).toMatchObject({ status: 'ok' });
    expect(await replica.served.backend.engine.latestSeq()).toBe(seqBefore);
  });
});
