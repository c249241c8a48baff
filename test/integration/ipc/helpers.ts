import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Backend, SubscribeOptions } from '../../../main/backends/backend.js';
import { RewindError } from '../../../main/engine/errors.js';
import type { RemoteOptions } from '../../../main/ipc/connections/connection-manager.js';
import type { SecretStore } from '../../../main/ipc/connections/token-vault.js';
import type { RewindEvent } from '../../../preload/contract/index.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Run after the current test, last registered first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-ipc-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A keychain stand-in: reversible, but never the plain text (XOR and base64 under a marker). */
export function fakeSecretStore(available = true): SecretStore & { available: boolean } {
  const store = {
    available,
    isEncryptionAvailable: () => store.available,
    encryptString: (s: string) => Buffer.concat([Buffer.from('ENC1'), Buffer.from(s, 'utf8').map((b) => b ^ 0x5a)]),
    decryptString: (b: Buffer) => {
      if (b.subarray(0, 4).toString() !== 'ENC1') throw new Error('not ours');
      return Buffer.from(b.subarray(4).map((x) => x ^ 0x5a)).toString('utf8');
    },
  };
  return store;
}

export function event(seq: number): RewindEvent {
  return { seq, ts: new Date(0).toISOString(), type: 'test', workflow_id: null, run_id: null, actor: 'test', payload: {}, prev_hash: '', hash: `h${seq}` };
}

/** A remote backend the test drives: its log, its subscription states, and its refusals. */
export class FakeRemote implements Backend {
  readonly kind = 'remote' as const;
  readonly events: RewindEvent[] = [];
  subscriber: SubscribeOptions | null = null;
  closed = false;
  /** Thrown by every call while set (e.g. UNREACHABLE, UNAUTHORIZED). */
  failure: RewindError | null = null;

  constructor(readonly options: RemoteOptions) {}

  /** What the server says it serves (its --environment). */
  environment: string | null = null;

  /** Who the token is, as GET /api/v1/whoami answers. */
  async whoami(): Promise<{ name: string; role: 'operator'; environment: string | null }> {
    if (this.failure) throw this.failure;
    return { name: 'fake-operator', role: 'operator', environment: this.environment };
  }

  async call(method: string, input: unknown): Promise<never> {
    if (this.failure) throw this.failure;
    if (method === 'events:list') {
      const { after, limit } = input as { after: number; limit: number };
      return { events: this.events.filter((e) => e.seq > after).slice(0, limit) } as never;
    }
    if (method === 'events:head') {
      const last = this.events.at(-1);
      return { seq: last?.seq ?? 0, hash: last?.hash ?? '', chain: { ok: true, first_broken_seq: null, reason: null } } as never;
    }
    if (method === 'workflows:list') return { workflows: [], total: 0 } as never;
    throw new RewindError('NOT_FOUND', `fake remote: ${method}`, 'n/a');
  }

  subscribe(options: SubscribeOptions): () => void {
    this.subscriber = options;
    options.onState?.('connecting');
    return () => {
      this.subscriber = null;
    };
  }

  append(): RewindEvent {
    const e = event(this.events.length + 1);
    this.events.push(e);
    if (this.subscriber && e.seq > this.subscriber.after) this.subscriber.onEvent(e);
    return e;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A `createRemote` that records every backend it made; each starts with `preloaded` events and `failure`. */
export function fakeRemotes(setup: { preloaded?: number; failure?: RewindError; environment?: string } = {}) {
  const made: FakeRemote[] = [];
  return {
    made,
    createRemote: (options: RemoteOptions) => {
      const r = new FakeRemote(options);
      for (let i = 1; i <= (setup.preloaded ?? 0); i++) r.events.push(event(i));
      r.failure = setup.failure ?? null;
      r.environment = setup.environment ?? null;
      made.push(r);
      return r;
    },
  };
}

/** Wait until `check` passes (state changes arrive asynchronously). */
export async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() - start > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
