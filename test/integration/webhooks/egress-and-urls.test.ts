import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { SecretBox } from '../../../main/engine/webhooks/secret-box.js';
import { type WebhookWorkerOptions, WebhookWorker } from '../../../main/server/webhook-worker.js';
import { egressProbe, metadataUrls } from '../../support/egress.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';
import { dsls, eventually } from '../server/harness.js';
import { type Behaviour, Receiver } from './receiver.js';

/*
 * Where a webhook may deliver, and what its URL may hold, on each store. The metadata service is
 * refused in every spelling when the webhook is added, and at delivery when a name resolves to it or
 * a receiver redirects to it; loopback and private receivers only when allowed. Credentials in a
 * URL are refused; a query string is delivered but never shown back; a receiver's 4xx dead-letters
 * after one retry. The resolver and connector are injected: nothing beyond loopback is ever dialled.
 */

const SECRET = 'correct horse battery staple';
const TOKEN = 'tkn-9f8e7d6c5b4a39281706';
const quick = { backoff: { baseMs: 5, maxMs: 40, attempts: 15 }, pollMs: 10, timeoutMs: 2000, leaseMarginMs: 200 } satisfies Partial<WebhookWorkerOptions>;

describe.each(stores)('webhook egress and URLs on $kind', (factory) => {
  const key = randomBytes(32);
  const open: Array<{ close(): Promise<void> }> = [];
  let n = 0;
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  afterAll(() => factory.dispose());

  async function setup(options: { allowPrivate: boolean; behaviour?: Behaviour }) {
    const name = `egress${n++}`;
    await (await factory.open(name)).close();
    const backend = new EngineBackend(await Engine.open({ store: await openStoreAt(factory.location(name)), timeScale: 0 }), 'alice', {
      webhookKey: key,
      allowPrivateWebhooks: options.allowPrivate,
    });
    open.push(backend);
    const receiver = await new Receiver(SECRET, options.behaviour).start();
    open.push(receiver);
    const port = Number(new URL(receiver.url).port);
    const probe = egressProbe({ 'hooks.example.test': ['127.0.0.1'], 'metadata-alias.test': ['169.254.169.254'] });
    const startWorker = () => {
      const w = new WebhookWorker({
        engine: backend.engine,
        box: new SecretBox(key),
        owner: `replica-${n}`,
        ...quick,
        egress: { allowPrivate: options.allowPrivate, resolve: probe.resolve, connect: probe.connect },
      }).start();
      open.push({ close: () => w.stop() });
      return w;
    };
    const wf = await backend.call('workflows:create', { name: `billing-${name}`, dsl: dsls.v1 });
    return { backend, receiver, port, probe, startWorker, wf };
  }

  const deliveriesOf = async (backend: EngineBackend, id: string) => (await backend.call('webhooks:deliveries', { webhook_id: id, limit: 1000 })).deliveries;

  it('refuses every spelling of the metadata address when a webhook is added, allowed private ranges or not', async () => {
    const { backend } = await setup({ allowPrivate: true });
    for (const url of metadataUrls) {
      await expect(backend.call('webhooks:create', { url, secret: SECRET }), url).rejects.toMatchObject({
        code: 'EGRESS_REFUSED',
        message: expect.stringMatching(/link-local and cloud metadata addresses are never reached/),
        hint: expect.stringMatching(/metadata service/),
        details: expect.objectContaining({ rule: 'metadata' }),
      });
    }
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([]);
  });

  it('refuses loopback and private receivers unless allowed, naming the flag', async () => {
    const { backend } = await setup({ allowPrivate: false });
    for (const url of ['http://127.0.0.1:9/hook', 'http://[::1]:9/hook', 'http://10.0.0.7/hook', 'http://192.168.1.20/hook', 'http://0x7f000001/hook', 'http://[::ffff:10.0.0.7]/hook']) {
      await expect(backend.call('webhooks:create', { url, secret: SECRET }), url).rejects.toMatchObject({
        code: 'EGRESS_REFUSED',
        hint: expect.stringContaining('--allow-private-webhooks'),
      });
    }
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([]);
  });

  it('dead-letters at once a delivery to a name that resolves to the metadata service, never dialling it', async () => {
    const { backend, port, probe, startWorker } = await setup({ allowPrivate: true });
    const hook = await backend.call('webhooks:create', { url: `http://metadata-alias.test:${port}/hook`, secret: SECRET });
    startWorker();
    await eventually(async () => (await deliveriesOf(backend, hook.id)).some((d) => d.state === 'dead'), 10_000, 'dead-lettered');
    const [dead] = await deliveriesOf(backend, hook.id);
    expect(dead).toMatchObject({ state: 'dead', attempts: 1, last_status: null, last_error: expect.stringContaining('EGRESS_REFUSED') });
    expect(dead!.last_error).toContain('metadata-alias.test (169.254.169.254)');
    expect(probe.looked).toContain('metadata-alias.test');
    expect(probe.dialled).toEqual([]);
  });

  it('refuses at delivery a name resolving to loopback when private receivers are not allowed, and delivers to it when they are', async () => {
    const refused = await setup({ allowPrivate: false });
    const hook = await refused.backend.call('webhooks:create', { url: `http://hooks.example.test:${refused.port}/hook`, secret: SECRET });
    refused.startWorker();
    await eventually(async () => (await deliveriesOf(refused.backend, hook.id)).some((d) => d.state === 'dead'), 10_000, 'dead-lettered');
    expect((await deliveriesOf(refused.backend, hook.id))[0]!.last_error).toMatch(/EGRESS_REFUSED: .*hooks\.example\.test \(127\.0\.0\.1\): loopback .*--allow-private-webhooks/);
    expect(refused.probe.dialled).toEqual([]);
    expect(refused.receiver.received).toEqual([]);

    const allowed = await setup({ allowPrivate: true });
    const ok = await allowed.backend.call('webhooks:create', { url: `http://hooks.example.test:${allowed.port}/hook`, secret: SECRET });
    allowed.startWorker();
    await eventually(() => allowed.receiver.delivered.length === 1, 10_000, 'delivered');
    expect(allowed.probe.dialled).toEqual(['127.0.0.1']);
    expect(allowed.receiver.received[0]!.headers.host).toBe(`hooks.example.test:${allowed.port}`);
    await eventually(async () => (await deliveriesOf(allowed.backend, ok.id))[0]!.state === 'delivered', 5000, 'recorded');
  });

  it('does not follow a redirect to the metadata service: dead-lettered at once with the refusal, nothing dialled beyond the receiver', async () => {
    const { backend, receiver, probe, startWorker } = await setup({
      allowPrivate: true,
      behaviour: () => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' } }),
    });
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET });
    startWorker();
    await eventually(async () => (await deliveriesOf(backend, hook.id)).some((d) => d.state === 'dead'), 10_000, 'dead-lettered');
    const [dead] = await deliveriesOf(backend, hook.id);
    expect(dead).toMatchObject({ attempts: 1, last_status: 302 });
    expect(dead!.last_error).toMatch(/^HTTP 302: redirected to http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam\/security-credentials\/, not followed — EGRESS_REFUSED: /);
    expect(receiver.received).toHaveLength(1);
    expect(probe.dialled).toEqual(['127.0.0.1']);
  });

  it('refuses credentials in a URL with the remedy, and stores nothing', async () => {
    const { backend, receiver } = await setup({ allowPrivate: true });
    const withCredentials = receiver.url.replace('http://', 'http://hook-user:hunter2@');
    await expect(backend.call('webhooks:create', { url: withCredentials, secret: SECRET })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('credentials'),
      hint: expect.stringMatching(/signature .*secret/),
    });
    expect((await backend.call('webhooks:list', {})).webhooks).toEqual([]);
    const text = JSON.stringify(await backend.engine.events.list(0, 1000));
    expect(text).not.toContain('hunter2');
  });

  it('delivers to the query string but never shows it back: lists, deliveries, errors, dead letters, incidents', async () => {
    // The receiver refuses with a 404 that echoes the URL it was called on, token included.
    const { backend, receiver, startWorker } = await setup({ allowPrivate: true, behaviour: (r) => ({ status: 404, body: `no hook at ${r.url}` }) });
    const hook = await backend.call('webhooks:create', { url: `${receiver.url}?token=${TOKEN}&team=ops`, secret: SECRET });
    expect(hook.url).toBe(receiver.url);
    startWorker();
    await eventually(async () => (await deliveriesOf(backend, hook.id)).some((d) => d.state === 'dead'), 10_000, 'dead-lettered');
    // The query string travelled: the receiver was called with it.
    expect(receiver.received[0]!.url).toBe(`/hook?token=${TOKEN}&team=ops`);
    const [dead] = await deliveriesOf(backend, hook.id);
    // A 4xx is permanent after one retry, not fifteen attempts.
    expect(dead).toMatchObject({ state: 'dead', attempts: 2, last_status: 404, last_error: 'HTTP 404: no hook at /hook?…' });
    expect(receiver.received).toHaveLength(2);
    const shown = JSON.stringify([
      await backend.call('webhooks:list', {}),
      await backend.call('webhooks:deliveries', { webhook_id: hook.id }),
      await backend.call('incidents:summary', {}),
      await backend.engine.events.list(0, 1000),
    ]);
    expect(shown).not.toContain(TOKEN);
    expect(shown).toContain('webhook_dead_lettered');
  });

  it('retries a 5xx, a 408 and a 429 with backoff as transient, and a 4xx once', async () => {
    const statuses = [500, 503, 408, 429, 200, 410, 410];
    const { backend, receiver, wf, startWorker } = await setup({ allowPrivate: true, behaviour: (_r, i) => statuses[i] ?? 200 });
    const hook = await backend.call('webhooks:create', { url: receiver.url, secret: SECRET, events: ['run_started'] });
    await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    await backend.call('runs:start', { workflow_id: wf.id, wait: true });
    startWorker();
    await eventually(async () => (await deliveriesOf(backend, hook.id)).every((d) => d.state !== 'pending'), 10_000, 'settled');
    const [second, first] = await deliveriesOf(backend, hook.id);
    expect(first).toMatchObject({ state: 'delivered', attempts: 5 });
    expect(second).toMatchObject({ state: 'dead', attempts: 2, last_status: 410 });
    expect(receiver.received.map((r) => r.answered)).toEqual([500, 503, 408, 429, 200, 410, 410]);
  });
});
