import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { closeCodes, unflattenEvent, wireEventSchema } from '../../../main/protocol/wire.js';
import { type TestServer, api, dsls, eventually, startServer, uniqueName } from './harness.js';

interface Client {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<number>;
}

function connect(s: TestServer, query: string, token: string | null = s.tokens.viewer, options: WebSocket.ClientOptions = {}): Client {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream${query}`, {
    ...options,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<number>((resolve) => {
    ws.on('open', () => resolve(101));
    ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
  return { ws, messages, closed, opened };
}

/** A DSL of `n` nodes: a version_created event carries it whole, so the events are as large as we like. */
function bigDsl(n: number) {
  return {
    defaults: { pad: 'x'.repeat(200) },
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'task' as const, params: { duration_ms: 1 }, next: i + 1 < n ? [`n${i + 1}`] : [] })),
  };
}

describe('workflow server: event stream', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('sends each event flat, as seed 000 shows, with the payload kept whole', async () => {
    s = await startServer();
    const wf = await s.backend.call('workflows:create', { name: uniqueName('flat'), dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
    const c = connect(s, '');
    expect(await c.opened).toBe(101);
    const res = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${wf.id}/versions/1/rollback`);
    const { seq } = res.json as { seq: number };
    await eventually(() => c.messages.length === 1, 5000, 'the rollback event');
    const m = c.messages[0]!;
    expect(m).toMatchObject({ seq, event_type: 'workflow_rollback', workflow_id: wf.id, from_version: 2, to_version: 1, actor: 'operator' });
    expect(typeof m.timestamp).toBe('string');
    const [logged] = (await s.backend.call('events:list', { after: seq - 1, limit: 1 })).events;
    expect(unflattenEvent(wireEventSchema.parse(m))).toEqual(logged);
    c.ws.close();
  });

  it('catches up from the log (beyond the in-memory ring), then goes live, gapless', async () => {
    s = await startServer({ ringSize: 3 });
    // Issuing the test tokens is audited too: those events come first.
    const base = await s.backend.engine.latestSeq();
    const wf = await s.backend.call('workflows:create', { name: uniqueName('catchup'), dsl: dsls.v1 });
    for (let i = 0; i < 14; i++) await s.backend.call(i % 2 === 0 ? 'workflows:pause' : 'workflows:unpause', { workflow_id: wf.id });
    // The browser form: the token in the query string.
    const q = connect(s, `?after=0&token=${s.tokens.viewer}`, null);
    await eventually(() => q.messages.length === base + 15, 5000, 'the backlog');
    await s.backend.call('workflows:pause', { workflow_id: wf.id });
    await eventually(() => q.messages.length === base + 16, 5000, 'the live event');
    expect(q.messages.map((m) => m.seq)).toEqual(Array.from({ length: base + 16 }, (_, i) => i + 1));
    q.ws.close();
  });

  it('refuses a bad after, an unknown parameter and a missing token before upgrading', async () => {
    s = await startServer();
    expect(await connect(s, '?after=-1').opened).toBe(400);
    expect(await connect(s, '?after=1&since=2').opened).toBe(400);
    expect(await connect(s, '?after=0', null).opened).toBe(401);
    expect(await connect(s, '?after=0&token=wrong-token-000000', null).opened).toBe(401);
  });

  it('closes the sockets of a revoked token within one heartbeat (4001)', async () => {
    s = await startServer({ heartbeatMs: 200 });
    const { info, token } = await s.tokenStore.issue({ name: 'revoke-me', role: 'viewer', createdBy: 'test' });
    const c = connect(s, '?after=0', token);
    expect(await c.opened).toBe(101);
    // Behind the server's back: only the heartbeat's check can notice, so the socket closing at all
    // (rather than hanging until the test times out) shows the heartbeat found it.
    await s.tokenStore.revoke(info.id, 'test-admin');
    const closed = await c.closed;
    expect(closed.code).toBe(closeCodes.unauthorized);
    const viaApi = await s.tokenStore.issue({ name: 'revoke-me-2', role: 'viewer', createdBy: 'test' });
    const d = connect(s, '?after=0', viaApi.token);
    await d.opened;
    await api(s.url, s.tokens.admin, 'DELETE', `/api/v1/tokens/${viaApi.info.id}`);
    expect((await d.closed).code).toBe(closeCodes.unauthorized);
  });

  it('terminates a peer that stops answering pings', async () => {
    s = await startServer({ heartbeatMs: 100 });
    const c = connect(s, '', s.tokens.viewer, { autoPong: false });
    await c.opened;
    const closed = await c.closed;
    expect(closed.code).toBe(1006);
  });

  it('caps incoming messages far below ws’s default (1009)', async () => {
    s = await startServer({ maxWsPayloadBytes: 64 * 1024 });
    const c = connect(s, '');
    await c.opened;
    c.ws.send('x'.repeat(100 * 1024));
    expect((await c.closed).code).toBe(1009);
  });

  it('closes a consumer too slow to keep up (4008), which then resumes from its last seq', async () => {
    s = await startServer({ maxBufferedBytes: 64 * 1024 });
    const wf = await s.backend.call('workflows:create', { name: uniqueName('slow'), dsl: dsls.v1 });
    const joinedAt = await s.backend.engine.latestSeq();
    const c = connect(s, '');
    await c.opened;
    // Stop reading: the kernel buffers fill, then the server's own buffer grows past its bound.
    c.ws.pause();
    const dsl = bigDsl(400);
    let drafts = 0;
    const counter = () => s!.server.metrics.registry.getSingleMetric('rewind_ws_slow_consumers_closed_total') as unknown as { get(): Promise<{ values: Array<{ value: number }> }> };
    while (drafts < 400 && ((await counter().get()).values[0]?.value ?? 0) === 0) {
      await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl });
      drafts += 1;
    }
    expect(drafts).toBeLessThan(400);
    c.ws.resume();
    const closed = await c.closed;
    expect(closed.code).toBe(closeCodes.slowConsumer);
    const last = c.messages.length === 0 ? joinedAt : Number(c.messages[c.messages.length - 1]!.seq);
    const head = await s.backend.engine.latestSeq();
    const again = connect(s, `?after=${last}`);
    await eventually(() => again.messages.length === head - last, 10_000, 'the rest after reconnecting');
    const seqs = [...c.messages, ...again.messages].map((m) => Number(m.seq));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => joinedAt + 1 + i));
    expect(seqs[seqs.length - 1]).toBe(head);
    again.ws.close();
  });

  it('a graceful stop closes sockets with going-away (1001)', async () => {
    s = await startServer();
    const c = connect(s, '');
    await c.opened;
    const stopped = s.close();
    expect((await c.closed).code).toBe(closeCodes.goingAway);
    await stopped;
    s = undefined;
  });
});
