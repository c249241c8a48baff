import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { RewindError } from '../../../main/engine/errors.js';
import { SecretBox } from '../../../main/engine/webhooks/secret-box.js';
import { type WebhookWorkerOptions, WebhookWorker } from '../../../main/server/webhook-worker.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';
import { dsls, eventually } from '../server/harness.js';
import { Receiver } from './receiver.js';

/*
 * Webhooks end to end on each store: events committed by the engine reach a local receiver through
 * the outbox, signed twice (X-Rewind-Signature's HMAC, Standard Webhooks' headers), in seq order per
 * webhook, through a receiver's outage, a restart of the delivering process, and dead-lettering.
 * Backoffs are a few milliseconds so nothing sleeps long. The receivers listen on 127.0.0.1: these
 * backends and workers are told so explicitly (a server's --allow-private-webhooks).
 */

const SECRET = 'correct horse battery staple';
const quick = { backoff: { baseMs: 5, maxMs: 40, attempts: 50 }, pollMs: 10, timeoutMs: 2000, leaseMarginMs: 200 } satisfies Partial<WebhookWorkerOptions>;

describe.each(stores)('webhooks on $kind', (factory) => {
  const key = randomBytes(32);
  const open: Array<{ close(): Promise<void> }> = [];
  let n = 0;
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  afterAll(() => factory.dispose());

  async function backendAt(location: string): Promise<EngineBackend> {
    const backend = new EngineBackend(await Engine.open({ store: await openStoreAt(location), timeScale: 0 }), 'alice', { webhookKey: key, allowPrivateWebhooks: true });
    open.push(backend);
    return backend;
  }

  async function setup(behaviour?: ConstructorParameters<typeof Receiver>[1]) {
    const name = `wh${n++}`;
    await (await factory.open(name)).close();
    const location = factory.location(name);
    const backend = await backendAt(location);
    const receiver = await new Receiver(SECRET, behaviour).start();
    open.push(receiver);
    const wf = await backend.call('workflows:create', { name: `billing-${name}`, dsl: dsls.v1 });
    return { backend, receiver, location, wf };
  }

  function worker(backend: EngineBackend, options: Partial<WebhookWorkerOptions> = {}): WebhookWorker {
    const w = new WebhookWorker({ engine: backend.engine, box: new SecretBox(key), owner: `replica-${n}`, ...quick, egress: { allowPrivate: true }, ...options }).start();
    open.push({ close: () => w.stop() });
    return w;
  }

  const seqsOf = async (backend: EngineBackend, after: number) => (await backend.engine.events.list(after, 1000)).map((e) => e.seq);

  it('delivers every event in order through an outage, both signatures valid, the failures on record', async () => {
    // Down for the first five requests (500), then up.
    const { backend, receiver, wf } = await setup((_r, i) => (i < 5 ? 500 : 200));
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    expect(hook).not.toHaveProperty('secret');
    const first = (await backend.engine.events.list(0, 1000)).find((e) => e.type === 'webhook_created')!.seq;
    await backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2, change_log: 'tighter' });
    await backend.call('versions:publish', { workflow_id: wf.id, version: 2 });
    await backend.call('versions:rollback', { workflow_id: wf.id, version: 1 });
    await backend.call('runs:start', { workflow_id: wf.id, faults: { fail_node: 'judge' }, wait: true });
    const expected = await seqsOf(backend, first - 1);

    worker(backend);
    await eventually(() => receiver.delivered.length === expected.length, 15_000, 'every event delivered');
    // The receiver has the last one; its outcome is recorded just after.
    await eventually(async () => (await backend.call('webhooks:list', {})).webhooks[0]!.pending === 0, 5000, 'outcomes recorded');

    expect(receiver.delivered).toEqual(expected);
    expect(receiver.received.slice(0, 5).map((r) => r.answered)).toEqual([500, 500, 500, 500, 500]);
    // The head of the line was retried, never skipped: the first five attempts were all the first event.
    expect(new Set(receiver.received.slice(0, 6).map((r) => r.json.event.seq))).toEqual(new Set([first]));
    expect(receiver.received.every((r) => r.hmacOk && r.standardOk)).toBe(true);
    // webhook-id stays the same across retries of one delivery, so a receiver can dedupe.
    expect(new Set(receiver.received.slice(0, 6).map((r) => r.headers['webhook-id'])).size).toBe(1);

    const byType = new Map(receiver.received.map((r) => [r.json.event.event_type, r.json]));
    expect(byType.get('workflow_rollback')!.text).toBe(`⏪ Rollback of ${wf.name}: v2 → v1 by alice`);
    expect(byType.get('workflow_rollback')!.event).toMatchObject({ event_type: 'workflow_rollback', from_version: 2, to_version: 1, workflow_id: wf.id });
    expect(byType.get('run_failed')!.text).toMatch(new RegExp(`^❌ Run \\S+ of ${wf.name} failed \\(v1\\) at node judge`));

    const { deliveries } = await backend.call('webhooks:deliveries', { webhook_id: hook.id });
    expect(deliveries.every((d) => d.state === 'delivered')).toBe(true);
    const head = deliveries.find((d) => d.seq === first)!;
    expect(head.attempts).toBe(6);
    expect(head.last_status).toBe(200);
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([expect.objectContaining({ id: hook.id, pending: 0, dead: 0 })]);
  });

  it('loses nothing when the delivering process restarts mid-retry', async () => {
    let up = false;
    const { backend, receiver, location, wf } = await setup(() => (up ? 200 : 503));
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    for (let i = 0; i < 3; i++) await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    const expected = (await backend.call('webhooks:deliveries', { webhook_id: hook.id, limit: 1000 })).deliveries.map((d) => d.seq).reverse();
    const w1 = worker(backend);
    await eventually(async () => (await backend.call('webhooks:deliveries', { webhook_id: hook.id })).deliveries.some((d) => d.attempts >= 2), 10_000, 'retries under way');
    await w1.stop();
    await backend.close();
    open.splice(open.indexOf(backend), 1);

    // A new process on the same store: the outbox is all it knows, and it is enough.
    const again = await backendAt(location);
    up = true;
    worker(again);
    // At least once: a POST cut off by the stop may have reached the receiver too, so duplicates may come; gaps and reordering may not.
    const firstSeen = () => [...new Set(receiver.delivered)];
    await eventually(() => firstSeen().length === expected.length, 15_000, 'delivered after restart');
    expect(firstSeen()).toEqual(expected);
    expect(receiver.received.every((r) => r.hmacOk && r.standardOk)).toBe(true);
  });

  it('shares one outbox between two replicas: every event once, in order', async () => {
    const { backend, receiver, location, wf } = await setup();
    const other = await backendAt(location);
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    // Leases long enough that a slow machine never lets the other replica re-send a delivery under way.
    worker(backend, { owner: 'replica-a', leaseMarginMs: 30_000 });
    worker(other, { owner: 'replica-b', leaseMarginMs: 30_000 });
    // Both replicas write, both deliver.
    for (let i = 0; i < 6; i++) await (i % 2 === 0 ? backend : other).call('runs:start', { workflow_id: wf.id, wait: true });
    const expected = (await backend.call('webhooks:deliveries', { webhook_id: hook.id, limit: 1000 })).deliveries.map((d) => d.seq).reverse();
    await eventually(async () => (await backend.call('webhooks:list', {})).webhooks[0]!.pending === 0 && receiver.delivered.length >= expected.length, 20_000, 'drained');
    expect(receiver.delivered).toEqual(expected);
    expect(receiver.received.every((r) => r.hmacOk && r.standardOk && r.answered === 200)).toBe(true);
  });

  it("takes over a dead replica's delivery once its lease expires", async () => {
    const { backend, receiver } = await setup();
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    // A replica claimed the delivery and died before answering: its lease is all that is left.
    const lease = new Date(Date.now() + 300).toISOString();
    await backend.engine.q().run("UPDATE webhook_deliveries SET lease_owner = 'gone', lease_until = ? WHERE webhook_id = ?", [lease, hook.id]);
    worker(backend);
    await eventually(() => receiver.delivered.length === 1, 10_000, 'taken over');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(lease));
  });

  it('dead-letters a delivery that keeps failing, says why, and moves on to the next', async () => {
    const { backend, receiver, wf } = await setup((r) => (r.json.event.event_type === 'webhook_created' ? 500 : 200));
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    worker(backend, { backoff: { baseMs: 5, maxMs: 10, attempts: 3 } });
    await eventually(async () => (await backend.call('webhooks:deliveries', { webhook_id: hook.id, state: 'pending' })).deliveries.length === 0, 10_000, 'outbox drained');

    const { deliveries } = await backend.call('webhooks:deliveries', { webhook_id: hook.id });
    const dead = deliveries.filter((d) => d.state === 'dead');
    expect(dead).toEqual([expect.objectContaining({ event_type: 'webhook_created', attempts: 3, last_status: 500, last_error: 'HTTP 500: receiver says no' })]);
    expect(receiver.delivered).toEqual(deliveries.filter((d) => d.state === 'delivered').map((d) => d.seq).reverse());
    const letters = (await backend.engine.events.list(0, 1000)).filter((e) => e.type === 'webhook_dead_lettered');
    expect(letters).toEqual([expect.objectContaining({ actor: 'webhooks', payload: expect.objectContaining({ webhook_id: hook.id, seq: dead[0]!.seq, event_type: 'webhook_created', reason: 'HTTP 500: receiver says no', attempts: 3 }) })]);
    // Its own dead letter is not sent to the webhook that failed (each failure would announce another).
    expect(deliveries.some((d) => d.event_type === 'webhook_dead_lettered')).toBe(false);
    expect((await backend.call('webhooks:list', {})).webhooks[0]).toMatchObject({ dead: 1, pending: 0 });
    // The incident home says so, naming the receiver's host only (a webhook URL may carry a token).
    const { dead_letters } = await backend.call('incidents:summary', {});
    expect(dead_letters).toEqual([{ webhook_id: hook.id, host: new URL(receiver.url).host, seq: dead[0]!.seq, event_type: 'webhook_created', attempts: 3, last_error: 'HTTP 500: receiver says no', finished_at: dead[0]!.finished_at }]);
  });

  it('sends only the event types and workflows a webhook asks for', async () => {
    const { backend, receiver, wf } = await setup();
    const other = await backend.call('workflows:create', { name: `other-${n}`, dsl: dsls.v1 });
    await backend.call('webhooks:create', { url: receiver.url, secret: SECRET, events: ['workflow_rollback', 'run_failed'], workflows: [wf.id] });
    for (const w of [wf, other]) {
      await backend.call('versions:createDraft', { workflow_id: w.id, dsl: dsls.v2 });
      await backend.call('versions:publish', { workflow_id: w.id, version: 2 });
      await backend.call('versions:rollback', { workflow_id: w.id, version: 1 });
      await backend.call('runs:start', { workflow_id: w.id, faults: { fail_node: 'judge' }, wait: true });
    }
    const wanted = (await backend.engine.events.list(0, 1000)).filter((e) => e.workflow_id === wf.id && ['workflow_rollback', 'run_failed'].includes(e.type)).map((e) => e.seq);
    worker(backend);
    await eventually(() => receiver.delivered.length === wanted.length, 10_000, 'filtered deliveries');
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.delivered).toEqual(wanted);
  });

  it('refuses bad input with a code and a hint, and changes nothing', async () => {
    const { backend, receiver, wf } = await setup();
    const before = await backend.engine.latestSeq();
    const refused = async (input: Record<string, unknown>) => {
      const err = await backend.call('webhooks:create', input as never).then(
        () => null,
        (e: unknown) => e as RewindError,
      );
      expect(err, JSON.stringify(input)).toBeInstanceOf(RewindError);
      return err!;
    };
    expect((await refused({ url: 'ftp://example.com/x', secret: SECRET })).code).toBe('VALIDATION_FAILED');
    expect((await refused({ url: 'not a url', secret: SECRET })).message).toMatch(/http:\/\/ or https:\/\//);
    expect((await refused({ url: receiver.url, secret: '' })).message).toMatch(/secret must not be empty/);
    expect((await refused({ url: receiver.url, secret: '   ' })).code).toBe('VALIDATION_FAILED');
    const unknown = await refused({ url: receiver.url, secret: SECRET, events: ['workflow_rollbak'] });
    expect(unknown.message).toMatch(/unknown event type "workflow_rollbak"/);
    expect(unknown.hint).not.toBe('');
    expect((await refused({ url: receiver.url, secret: SECRET, workflows: ['no-such-workflow'] })).code).toBe('WORKFLOW_NOT_FOUND');
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([]);
    // Only the refusals' own audit records were appended; no webhook_created.
    expect((await backend.engine.events.list(before, 100)).filter((e) => e.type !== 'mutation_refused')).toEqual([]);
    expect(await backend.engine.q().get('SELECT COUNT(*) AS n FROM webhook_deliveries')).toEqual({ n: 0 });
    expect(wf.id).toBeTruthy();
  });

  it('delete cancels what is pending and keeps the log', async () => {
    const { backend, receiver, wf } = await setup(() => 500);
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    const removed = await backend.call('webhooks:delete', { webhook_id: hook.id });
    expect(removed).toMatchObject({ id: hook.id, deleted: true });
    expect(removed.cancelled).toBeGreaterThan(0);
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([]);
    const { deliveries } = await backend.call('webhooks:deliveries', { webhook_id: hook.id });
    expect(deliveries.every((d) => d.state === 'cancelled')).toBe(true);
    // Events after the delete are not queued for it.
    await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    expect((await backend.call('webhooks:deliveries', { webhook_id: hook.id })).deliveries).toHaveLength(deliveries.length);
    await expect(backend.call('webhooks:delete', { webhook_id: hook.id })).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
  });

  it('keeps slow and silent receivers from holding more than `concurrency` deliveries', async () => {
    const { backend, receiver, wf } = await setup(() => 'hang');
    const fine = await new Receiver(SECRET).start();
    open.push(fine);
    for (let i = 0; i < 4; i++) await backend.call('webhooks:create', { url: receiver.url, secret: SECRET, events: ['run_started', 'run_succeeded'] });
    const good = await backend.call('webhooks:create', { url: fine.url, secret: SECRET, workflows: [wf.id] });
    await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    const w = worker(backend, { concurrency: 2, timeoutMs: 150, backoff: { baseMs: 5, maxMs: 10, attempts: 2 } });
    await eventually(async () => (await backend.call('webhooks:list', {})).webhooks.every((h) => h.pending === 0), 20_000, 'all settled');
    await w.idle();
    // Eight silent deliveries, never more than two held open at once, each given up after its timeout.
    expect(receiver.received.length).toBe(8 * 2);
    expect(w.stats.maxInFlight).toBe(2);
    // The healthy webhook was not held up behind them (on a loaded machine its answer may come after the 150 ms and be sent again: at least once).
    expect(new Set(fine.delivered).size).toBe((await backend.call('webhooks:deliveries', { webhook_id: good.id })).deliveries.length);
    const silent = (await backend.call('webhooks:list', {})).webhooks.filter((h) => h.id !== good.id);
    const reasons = new Set<string | null>();
    for (const h of silent) for (const d of (await backend.call('webhooks:deliveries', { webhook_id: h.id, state: 'dead' })).deliveries) reasons.add(d.last_error);
    expect([...reasons]).toEqual(['no answer within 150 ms']);
  });

  it('refuses to add a webhook where no key seals its secret (the sandbox)', async () => {
    const name = `nokey${n++}`;
    await (await factory.open(name)).close();
    const backend = new EngineBackend(await Engine.open({ store: await openStoreAt(factory.location(name)), timeScale: 0 }), 'alice');
    open.push(backend);
    await expect(backend.call('webhooks:create', { url: 'https://example.com/hook', secret: SECRET })).rejects.toMatchObject({ code: 'WEBHOOKS_UNAVAILABLE' });
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([]);
  });
});
