import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EngineBackend, openSandbox } from '../../main/backends/engine-backend.js';
import { SecretBox } from '../../main/engine/webhooks/secret-box.js';
import { WebhookWorker } from '../../main/server/webhook-worker.js';
import { type BenchResult, type BenchSuite, nowMs, percentile, result } from './lib.js';

/*
 * Webhooks against floors measured in the same run, on the same loopback:
 * - delivery latency: a mutation (pause or unpause: its event, and its outbox row in the same
 *   transaction) until the receiver has the signed POST, against a bare loopback POST of a body of
 *   the same size plus the same mutation with no webhook (so the ratio is what the outbox and the
 *   worker add, not the commit). The worker's own cost is one durable write (the lease) before the
 *   POST — on SQLite about one more commit — and one after it (the outcome), which is not timed;
 * - what one webhook costs every mutation: the same mutations with one webhook registered (the
 *   delivery running beside them) against none.
 */

const ROUNDS = 200;
const WARMUP = 20;

interface Receiver {
  url: string;
  /** Resolves at the next request's arrival (its body read). */
  next(): Promise<number>;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  let waiting: ((at: number) => void) | null = null;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const at = nowMs();
      res.writeHead(200).end('ok');
      waiting?.(at);
      waiting = null;
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    next: () => new Promise<number>((r) => (waiting = r)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function toggle(backend: EngineBackend, workflowId: string, i: number): Promise<void> {
  await backend.call(i % 2 === 0 ? 'workflows:pause' : 'workflows:unpause', { workflow_id: workflowId });
}

export const webhooksSuite: BenchSuite = {
  name: 'webhooks',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-webhooks-'));
    const key = randomBytes(32);
    const backend = await openSandbox({ path: join(dir, 'bench.db'), demo: false, timeScale: 0, actor: 'bench', webhookKey: key, allowPrivateWebhooks: true });
    const hook = await receiver();
    try {
      const wf = await backend.call('workflows:create', {
        name: 'bench',
        dsl: { defaults: {}, nodes: [{ id: 'a', type: 'task', params: {}, next: [] }] },
      });
      let i = 0;

      // Floors: the mutation alone, and a bare POST of a delivery-sized body.
      const mutation: number[] = [];
      for (let r = 0; r < ROUNDS + WARMUP; r++) {
        const t0 = nowMs();
        await toggle(backend, wf.id, i++);
        if (r >= WARMUP) mutation.push(nowMs() - t0);
      }
      const body = JSON.stringify({ text: 'x'.repeat(60), event: { seq: 1, event_type: 'workflow_paused', actor: 'bench', payload: {}, hash: 'h'.repeat(64), prev_hash: 'h'.repeat(64) } });
      const bare: number[] = [];
      for (let r = 0; r < ROUNDS + WARMUP; r++) {
        const t0 = nowMs();
        const arrived = hook.next();
        const res = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        const at = await arrived;
        if (r >= WARMUP) bare.push(at - t0);
      }

      // One webhook and its worker: each mutation's event reaches the receiver signed.
      await backend.call('webhooks:create', { url: hook.url, secret: 'bench secret', events: ['workflow_paused', 'workflow_unpaused'] });
      // The outbox's cost in each mutation, measured before the worker starts (on SQLite its writes share this thread).
      const withHook: number[] = [];
      for (let r = 0; r < ROUNDS + WARMUP; r++) {
        const t0 = nowMs();
        await toggle(backend, wf.id, i++);
        if (r >= WARMUP) withHook.push(nowMs() - t0);
      }
      const worker = new WebhookWorker({ engine: backend.engine, box: new SecretBox(key), owner: 'bench', pollMs: 1000, egress: { allowPrivate: true } }).start();
      // The backlog those mutations queued goes out first.
      while ((await backend.call('webhooks:list', {})).webhooks.some((w) => w.pending > 0)) await new Promise((r) => setTimeout(r, 20));
      await worker.idle();
      const delivered: number[] = [];
      for (let r = 0; r < ROUNDS + WARMUP; r++) {
        const arrived = hook.next();
        const t0 = nowMs();
        await toggle(backend, wf.id, i++);
        const at = await arrived;
        // Each event measured on its own: the previous delivery's outcome is recorded before the next mutation starts.
        await worker.idle();
        if (r >= WARMUP) delivered.push(at - t0);
      }
      await worker.stop();

      const p50 = (s: number[]) => percentile(s, 50);
      const floor = p50(mutation) + p50(bare);
      return [
        result('delivery p50: mutation → signed POST at a local receiver', p50(delivered), 'ms', floor, { text: 'ratio ≤ 3 (vs the mutation + a bare POST)', met: (x) => x <= 3 }),
        result('delivery p95', percentile(delivered, 95), 'ms', percentile(mutation, 95) + percentile(bare, 95)),
        result('mutation p50 with one webhook (outbox row in its transaction)', p50(withHook), 'ms', p50(mutation), { text: 'ratio ≤ 1.5', met: (x) => x <= 1.5 }),
      ];
    } finally {
      await hook.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
