import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RemoteBackend, openRemote } from '../../../main/backends/remote/index.js';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { freshDatabase, terminateSessions } from '../../support/postgres.js';
import { api, dsls, eventually, uniqueName } from '../server/harness.js';
import { type Replicas, startReplica, startReplicas } from './replicas.js';

/*
 * Three replicas of the workflow server on one PostgreSQL database (issue 9, points 2–4): any of them
 * serves any client, one order of changes across them, one stream whatever replica committed.
 */

interface Subscriber {
  remote: RemoteBackend;
  seen: RewindEvent[];
  stop: () => void;
}

describe('three replicas on one PostgreSQL database', () => {
  let url: string;
  let r: Replicas;
  const subscribers: Subscriber[] = [];

  async function subscribe(replica: number, after: number): Promise<Subscriber> {
    const remote = await openRemote({ url: r.replicas[replica]!.url, token: r.tokens.viewer });
    const seen: RewindEvent[] = [];
    const stop = remote.subscribe({ after, onEvent: (e) => seen.push(e) });
    const sub = { remote, seen, stop };
    subscribers.push(sub);
    return sub;
  }

  const head = () => r.replicas[0]!.served.backend.engine.latestSeq();
  const seqs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i + 1);

  beforeAll(async () => {
    url = await freshDatabase('replicas');
    r = await startReplicas(url, 3);
  });

  afterAll(async () => {
    for (const sub of subscribers) {
      sub.stop();
      await sub.remote.close();
    }
    await r?.close();
  });

  it('each replica says in /health which store it runs on and who it is, and labels its metrics; all name the same server', async () => {
    const serverIds = new Set<string>();
    for (const replica of r.replicas) {
      const health = await api(replica.url, undefined, 'GET', '/health');
      expect(health.status).toBe(200);
      expect(health.json).toMatchObject({ status: 'ok', store: 'postgres', replica: replica.id, server_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
      serverIds.add((health.json as { server_id: string }).server_id);
      const metrics = await api(replica.url, r.tokens.admin, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.json as string).toContain(`replica="${replica.id}"`);
    }
    // One server, one id: kept in the database, not made up per replica.
    expect(serverIds.size).toBe(1);
    const restarted = await startReplica(url, 'replica-restarted');
    try {
      expect((await api(restarted.url, undefined, 'GET', '/health')).json).toMatchObject({ server_id: [...serverIds][0] });
    } finally {
      await restarted.close();
    }
  });

  it('the If-Match race: ten operators on three replicas, one winner and nine 412s; invariants hold', async () => {
    const create = await api(r.replicas[0]!.url, r.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('race'), dsl: dsls.v1 });
    expect(create.status).toBe(200);
    const id = (create.json as { id: string }).id;
    expect((await api(r.replicas[1]!.url, r.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: dsls.v2 })).status).toBe(200);
    expect((await api(r.replicas[2]!.url, r.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions/2/publish`)).status).toBe(200);
    const current = await api(r.replicas[1]!.url, r.tokens.operator, 'GET', `/api/v1/workflows/${id}`);
    const etag = current.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => api(r.replicas[n % 3]!.url, r.tokens.operator, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, undefined, { 'if-match': etag })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(9).fill(412)]);

    // Invariant 1, read from every replica: one active version, and active_version names it.
    for (const replica of r.replicas) {
      const wf = await api(replica.url, r.tokens.viewer, 'GET', `/api/v1/workflows/${id}`);
      expect(wf.json).toMatchObject({ active_version: 1 });
    }
    const active = await r.replicas[0]!.served.backend.engine.store.read.all<{ version: number }>("SELECT version FROM workflow_versions WHERE workflow_id = ? AND status = 'active'", [id]);
    expect(active).toEqual([{ version: 1 }]);
    // One rollback event, and the log is gapless and hash-chained.
    const events = (await r.replicas[2]!.served.backend.call('events:list', { after: 0, limit: 10_000, workflow_id: id })).events;
    expect(events.filter((e) => e.type === 'workflow_rollback')).toHaveLength(1);
    const all = (await r.replicas[1]!.served.backend.call('events:list', { after: 0, limit: 10_000 })).events;
    expect(all.map((e) => e.seq)).toEqual(seqs(0, all.length));
    expect(await r.replicas[1]!.served.backend.call('events:verify', {})).toMatchObject({ ok: true, length: all.length });
  });

  it('one stream: a subscriber on each replica gets every event once, in seq order, whatever replica committed it', async () => {
    const start = await head();
    const subs = [await subscribe(0, start), await subscribe(1, start), await subscribe(2, start)];
    const ids: string[] = [];
    for (let w = 0; w < 3; w++) {
      const res = await api(r.replicas[w]!.url, r.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('stream'), dsl: dsls.v1 });
      ids.push((res.json as { id: string }).id);
    }
    // Concurrent changes on all three replicas, each workflow on a different one.
    await Promise.all(
      ids.map(async (id, w) => {
        for (let k = 0; k < 8; k++) {
          const res = await api(r.replicas[(w + k) % 3]!.url, r.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { change_log: `draft ${k}` });
          expect(res.status).toBe(200);
        }
      }),
    );
    const end = await head();
    expect(end - start).toBeGreaterThanOrEqual(27);
    await eventually(() => subs.every((s) => s.seen.length >= end - start), 20_000, 'every subscriber reached the head');
    for (const s of subs) expect(s.seen.map((e) => e.seq)).toEqual(seqs(start, end));

    // ?after=SEQ resumes against another replica than the one the events were first read from.
    const mid = start + Math.floor((end - start) / 2);
    const resumed = await subscribe(2, mid);
    await eventually(() => resumed.seen.length >= end - mid, 20_000, 'the resumed subscriber reached the head');
    expect(resumed.seen.map((e) => e.seq)).toEqual(seqs(mid, end));
    expect(resumed.seen).toEqual(subs[0]!.seen.slice(mid - start));
  });

  it("a replica's LISTEN connection terminated: its subscribers still miss nothing", async () => {
    const start = await head();
    const subs = [await subscribe(0, start), await subscribe(1, start), await subscribe(2, start)];
    const created = await api(r.replicas[0]!.url, r.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('listen'), dsl: dsls.v1 });
    const id = (created.json as { id: string }).id;
    const tag = r.replicas[0]!.id.replace(/-\d+$/, '');
    for (let k = 0; k < 12; k++) {
      // Every LISTEN connection of this suite's replicas is cut, some of them twice, between changes made elsewhere.
      if (k % 4 === 1) expect(await terminateSessions(url, `rewind-listen:${tag}`)).toBeGreaterThanOrEqual(1);
      const res = await api(r.replicas[(k + 1) % 3]!.url, r.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { change_log: `after cut ${k}` });
      expect(res.status).toBe(200);
    }
    const end = await head();
    await eventually(() => subs.every((s) => s.seen.length >= end - start), 30_000, 'every subscriber reached the head after the cuts');
    for (const s of subs) expect(s.seen.map((e) => e.seq)).toEqual(seqs(start, end));
  });
});
