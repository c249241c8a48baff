import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';
import { dsls, eventually } from '../server/harness.js';

/*
 * The outbox keeps the list of live webhooks between appends instead of reading it for every event.
 * Two engines on one store stand for two replicas (or the console and the CLI on one file): a webhook
 * added or deleted through one must count for the very next event the other appends — before the
 * other has heard of the change, and after.
 */

describe.each(stores)('the webhook outbox across engines on $kind', (factory) => {
  const key = randomBytes(32);
  const open: EngineBackend[] = [];
  let n = 0;
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });
  afterAll(() => factory.dispose());

  async function pair(): Promise<[EngineBackend, EngineBackend]> {
    const name = `outbox_${n++}`;
    await (await factory.open(name)).close();
    const at = async (replica: string) => {
      const backend = new EngineBackend(await Engine.open({ store: await openStoreAt(factory.location(name), replica), timeScale: 0 }), 'alice', {
        webhookKey: key,
        allowPrivateWebhooks: true,
      });
      open.push(backend);
      return backend;
    };
    return [await at(`${name}-a`), await at(`${name}-b`)];
  }

  const delivered = async (backend: EngineBackend, webhookId: string) =>
    (await backend.call('webhooks:deliveries', { webhook_id: webhookId, limit: 1000 })).deliveries.map((d) => d.seq).sort((x, y) => x - y);

  it('queues the next event appended on one engine for a webhook just added or deleted through the other', async () => {
    const [a, b] = await pair();
    const wf = await a.call('workflows:create', { name: 'billing', dsl: dsls.v1 });
    // A appends while it has published everything: it keeps the (empty) list of webhooks.
    await a.call('versions:createDraft', { workflow_id: wf.id, change_log: 'no webhook yet' });

    const hook = await b.call('webhooks:create', { url: 'http://127.0.0.1:9/hook', secret: 'correct horse battery staple' });
    // At once, before A has heard of the new webhook…
    const before = await a.call('versions:createDraft', { workflow_id: wf.id, change_log: 'right after the webhook' });
    // …and once it has.
    const created = (await b.engine.events.list(0, 1000)).find((e) => e.type === 'webhook_created')!.seq;
    await eventually(() => a.engine.publishedSeq >= created, 10_000, 'A heard of the webhook');
    const after = await a.call('versions:createDraft', { workflow_id: wf.id, change_log: 'later' });

    const seqOf = async (version: number) => (await a.engine.events.list(0, 1000)).find((e) => e.type === 'version_created' && e.payload.version === version)!.seq;
    const queued = await delivered(a, hook.id);
    expect(queued).toEqual(expect.arrayContaining([await seqOf(before.version), await seqOf(after.version)]));

    await b.call('webhooks:delete', { webhook_id: hook.id });
    const deleted = (await b.engine.events.list(0, 1000)).find((e) => e.type === 'webhook_deleted')!.seq;
    await eventually(() => a.engine.publishedSeq >= deleted, 10_000, 'A heard of the deletion');
    const gone = await a.call('versions:createDraft', { workflow_id: wf.id, change_log: 'after the deletion' });
    expect(await delivered(a, hook.id)).not.toContain(await seqOf(gone.version));
  });
});
