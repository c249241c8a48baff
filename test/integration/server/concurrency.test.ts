import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RemoteBackend, openRemote } from '../../../main/backends/remote/index.js';
import { rebuildFromEvents, snapshotState } from '../../../main/engine/rebuild.js';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { type TestServer, api, dsls, eventually, startServer, uniqueName } from './harness.js';

const CLIENTS = 10;
const OPS_PER_CLIENT = 100;
const WORKFLOWS = 3;
const DRAFTS_PER_WORKFLOW = 30;

/** A small seeded PRNG, so a failing interleaving of choices can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 10 clients race 1,000 rollbacks and publishes on the same three workflows, half of them with
 * If-Match. Every request applies or is refused with 409/412; afterwards invariants 1–4 hold and
 * every subscriber saw each event once, in order.
 */
describe('workflow server: concurrent rollbacks and publishes', () => {
  let s: TestServer;
  const ids: string[] = [];
  const subscribers: Array<{ remote: RemoteBackend; seen: RewindEvent[]; stop: () => void }> = [];
  const outcomes = new Map<number, number>();
  const applied: Array<{ workflow_id: string; version: number; seq: number; kind: 'publish' | 'rollback' }> = [];
  let setupHead = 0;

  beforeAll(async () => {
    s = await startServer();
    for (let w = 0; w < WORKFLOWS; w++) {
      const wf = await s.backend.call('workflows:create', { name: uniqueName(`race-${w}`), dsl: dsls.v1 });
      ids.push(wf.id);
      await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
      await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
      for (let d = 0; d < DRAFTS_PER_WORKFLOW; d++) await s.backend.call('versions:createDraft', { workflow_id: wf.id, change_log: `draft ${d}` });
    }
    setupHead = await s.backend.engine.latestSeq();
    for (let i = 0; i < 4; i++) {
      const remote = await openRemote({ url: s.url, token: s.tokens.viewer });
      const seen: RewindEvent[] = [];
      // Two start from the beginning (catch-up then live), two from the head (live only).
      const stop = remote.subscribe({ after: i < 2 ? 0 : setupHead, onEvent: (e) => seen.push(e) });
      subscribers.push({ remote, seen, stop });
    }
    await eventually(() => subscribers.every((sub, i) => (i < 2 ? sub.seen.length === setupHead : true)), 10_000, 'subscribers caught up');
  });

  afterAll(async () => {
    for (const sub of subscribers) {
      sub.stop();
      await sub.remote.close();
    }
    await s.close();
  });

  it('every request applies or is refused with 409/412, never anything else', async () => {
    const client = async (n: number) => {
      const random = prng(1000 + n);
      for (let op = 0; op < OPS_PER_CLIENT; op++) {
        const workflow_id = ids[Math.floor(random() * ids.length)]!;
        const publish = random() < 0.3;
        const version = publish ? 3 + Math.floor(random() * DRAFTS_PER_WORKFLOW) : 1 + Math.floor(random() * (DRAFTS_PER_WORKFLOW + 2));
        const headers: Record<string, string> = {};
        if (random() < 0.5) {
          const current = await api(s.url, s.tokens.admin, 'GET', `/api/v1/workflows/${workflow_id}`);
          headers['if-match'] = current.headers.get('etag')!;
        }
        const res = await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${workflow_id}/versions/${version}/${publish ? 'publish' : 'rollback'}`, undefined, headers);
        outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
        if (res.status === 200) {
          const body = res.json as { seq: number; version: number };
          applied.push({ workflow_id, version: body.version, seq: body.seq, kind: publish ? 'publish' : 'rollback' });
        } else {
          expect([409, 412]).toContain(res.status);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(CLIENTS * OPS_PER_CLIENT);
    expect(outcomes.get(200)).toBeGreaterThan(50);
    expect(outcomes.get(412)).toBeGreaterThan(0);
    expect([...outcomes.keys()].every((status) => [200, 409, 412].includes(status))).toBe(true);
  });

  it('afterwards invariants 1–4 hold', async () => {
    const db = sqliteDb(s.backend.engine);
    // 1: exactly one active version per published workflow, and active_version names it.
    for (const id of ids) {
      const active = db.prepare("SELECT version FROM workflow_versions WHERE workflow_id = ? AND status = 'active'").all(id) as Array<{ version: number }>;
      expect(active).toHaveLength(1);
      const wf = db.prepare('SELECT active_version FROM workflows WHERE id = ?').get(id) as { active_version: number };
      expect(wf.active_version).toBe(active[0]!.version);
    }
    // 2 and 3: every acknowledged change is in the log as its own event, and nothing refused is.
    const events = (await s.backend.call('events:list', { after: setupHead, limit: 10000 })).events;
    const changes = events.filter((e) => e.type === 'workflow_rollback' || e.type === 'version_published');
    expect(changes).toHaveLength(applied.length);
    for (const a of applied) {
      const e = events.find((x) => x.seq === a.seq)!;
      expect(e).toMatchObject({ workflow_id: a.workflow_id, type: a.kind === 'publish' ? 'version_published' : 'workflow_rollback', payload: { to_version: a.version } });
    }
    // 4: gapless, hash-chained, and replaying the log rebuilds the state exactly.
    const all = (await s.backend.call('events:list', { after: 0, limit: 10000 })).events;
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(await s.backend.call('events:verify', {})).toMatchObject({ ok: true, length: all.length });
    expect(rebuildFromEvents(all)).toEqual(await snapshotState(s.backend.engine.store.read));
  });

  it('every subscriber saw each event once, in order', async () => {
    const head = await s.backend.engine.latestSeq();
    await eventually(() => subscribers.every((sub) => sub.seen[sub.seen.length - 1]?.seq === head), 15_000, 'subscribers at the head');
    const log = (await s.backend.call('events:list', { after: 0, limit: 10000 })).events;
    subscribers.forEach((sub, i) => {
      const from = i < 2 ? 0 : setupHead;
      expect(sub.seen.map((e) => e.seq)).toEqual(Array.from({ length: head - from }, (_, k) => from + 1 + k));
      expect(sub.seen).toEqual(log.slice(from));
    });
  });
});
