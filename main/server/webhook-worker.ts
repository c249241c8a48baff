import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { Response } from 'undici';
import type { RewindEvent } from '../../preload/contract/entities.js';
import type { Engine } from '../engine/engine.js';
import { Egress, type EgressOptions, checkUrlHost, refusalOf } from '../engine/egress/egress.js';
import { RewindError } from '../engine/errors.js';
import { WEBHOOK_DEAD_LETTERED } from '../engine/webhooks/outbox.js';
import type { SecretBox } from '../engine/webhooks/secret-box.js';
import { displayUrl, hideUrlSecrets, webhookEgress } from '../engine/webhooks/service.js';
import { eventText } from '../engine/webhooks/text.js';
import { flattenEvent } from '../protocol/wire.js';

/*
 * Delivers the webhook outbox (main/engine/webhooks/outbox.ts). Every replica runs one worker; they
 * share the rows through a lease column: a worker claims a webhook's oldest pending delivery with a
 * conditional UPDATE (only one replica's UPDATE can take an expired lease), POSTs it outside any
 * transaction, then records the outcome under its lease. Only a webhook's oldest pending delivery is
 * ever claimable, so each webhook receives its events in seq order, one at a time; webhooks proceed
 * independently, at most `concurrency` at once. A failed attempt is retried after an exponential,
 * jittered backoff; the last one dead-letters the delivery (event `webhook_dead_lettered`) and the
 * next delivery of that webhook goes ahead. A replica that dies mid-delivery leaves a lease that
 * expires, and the delivery is made again: at least once.
 *
 * What is worth retrying: a 5xx, a timeout or a network failure (the receiver may come back); a 4xx
 * (but 408 and 429) or a redirect says the URL or the request is wrong, so it is retried once — a
 * receiver being redeployed may answer 404 for a moment — and then dead-lettered with the reason; an
 * address the egress policy refuses is dead-lettered at once (it would be refused again).
 */

export interface Backoff {
  /** The first retry's delay; each further retry doubles it, up to `maxMs`, each jittered to 50–100 %. */
  baseMs: number;
  maxMs: number;
  /** Attempts in all before a delivery is dead-lettered. */
  attempts: number;
}

/** About 20–40 minutes of retries in all: a receiver down for minutes still gets every delivery. */
export const defaultBackoff: Backoff = { baseMs: 1000, maxMs: 5 * 60_000, attempts: 15 };

export interface WebhookWorkerOptions {
  engine: Engine;
  box: SecretBox;
  /** This replica's id: the lease owner. */
  owner: string;
  backoff?: Partial<Backoff>;
  /** A receiver that has not answered by then counts as a failed attempt. */
  timeoutMs?: number;
  /** How long a lease outlasts an attempt's timeout (time to record the outcome); a dead replica's lease expires after both. */
  leaseMarginMs?: number;
  /** Webhooks delivered to at once (each one in order, one delivery at a time). */
  concurrency?: number;
  /** How often the outbox is looked at without a wake-up (other replicas' events, retries coming due). */
  pollMs?: number;
  clock?: () => Date;
  random?: () => number;
  onError?: (err: unknown) => void;
  /**
   * Whether loopback and private addresses may receive (the server's --allow-private-webhooks; off by
   * default), and, for tests, the resolver and connector the egress policy uses.
   */
  egress?: Partial<Pick<EgressOptions, 'allowPrivate' | 'resolve' | 'connect'>>;
}

interface Claimable {
  webhook_id: string;
  seq: number;
  event_type: string;
  attempts: number;
}

interface HookRow {
  url: string;
  secret_sealed: string;
  key_id: string;
}

type EventRow = Omit<RewindEvent, 'payload'> & { payload: string };

/** A failed attempt is `transient` (retried with backoff), `client` (retried once, then dead) or `permanent` (dead now). */
type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string; kind: 'transient' | 'client' | 'permanent' };

const HEADS = `SELECT d.webhook_id, d.seq, d.event_type, d.attempts FROM webhook_deliveries d
  WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)
    AND d.seq = (SELECT MIN(p.seq) FROM webhook_deliveries p WHERE p.webhook_id = d.webhook_id AND p.state = 'pending')
  ORDER BY d.next_attempt_at, d.seq LIMIT ?`;
const CLAIM = `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
  WHERE webhook_id = ? AND seq = ? AND state = 'pending' AND (lease_until IS NULL OR lease_until < ?)`;
const RELEASE = 'UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL WHERE webhook_id = ? AND seq = ? AND lease_owner = ?';
const DELIVERED = `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, finished_at = ?,
  lease_owner = NULL, lease_until = NULL WHERE webhook_id = ? AND seq = ? AND lease_owner = ? AND state = 'pending'`;
const RETRY = `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ?,
  lease_owner = NULL, lease_until = NULL WHERE webhook_id = ? AND seq = ? AND lease_owner = ? AND state = 'pending'`;
const DEAD = `UPDATE webhook_deliveries SET state = 'dead', attempts = attempts + 1, last_status = ?, last_error = ?, finished_at = ?,
  lease_owner = NULL, lease_until = NULL WHERE webhook_id = ? AND seq = ? AND lease_owner = ? AND state = 'pending'`;
const HOOK = 'SELECT url, secret_sealed, key_id FROM webhooks WHERE id = ?';
const EVENT = 'SELECT * FROM events WHERE seq = ?';
const WORKFLOW_NAME = 'SELECT name FROM workflows WHERE id = ?';

/** What the receiver's error body adds to the reason, at most this much (the rest is never read). */
const ERROR_BODY_BYTES = 300;

/** HMAC-SHA256 of the raw body under the secret, as `X-Rewind-Signature` carries it. */
export function rewindSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The Standard Webhooks signer: a `whsec_<base64>` secret in its own format, any other secret as its UTF-8 bytes. */
export function standardSigner(secret: string): StandardWebhook {
  return secret.startsWith('whsec_') ? new StandardWebhook(secret) : new StandardWebhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

export class WebhookWorker {
  private readonly backoff: Backoff;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly leaseMarginMs: number;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private passing: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private readonly egress: Egress;
  private readonly allowPrivate: boolean;

  constructor(private readonly options: WebhookWorkerOptions) {
    this.backoff = { ...defaultBackoff, ...options.backoff };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.concurrency = options.concurrency ?? 8;
    this.leaseMarginMs = options.leaseMarginMs ?? 30_000;
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.allowPrivate = options.egress?.allowPrivate ?? false;
    this.egress = new Egress({ ...webhookEgress(this.allowPrivate), ...options.egress, allowPrivate: this.allowPrivate });
  }

  start(): this {
    this.offEvents = this.options.engine.onEvent(() => this.kick());
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.kick();
    return this;
  }

  /** Stops claiming, aborts deliveries in flight and hands their leases back (they count no attempt). */
  async stop(): Promise<void> {
    this.offEvents?.();
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
    await this.passing?.catch(() => undefined);
    await Promise.allSettled([...this.inFlight.values()]);
    await this.egress.close();
  }

  /** Looks at the outbox now (new events, a finished delivery); a look already under way looks again once done. */
  kick(): void {
    if (this.stopping.signal.aborted) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = (async () => {
      try {
        do {
          this.again = false;
          await this.claimAndDeliver();
        } while (this.again && !this.stopping.signal.aborted);
      } catch (err) {
        this.options.onError?.(err);
      } finally {
        this.passing = null;
        // A kick that came after the loop's last look but before this point would otherwise wait for the poll.
        if (this.again) this.kick();
      }
    })();
  }

  /** Deliveries in flight now, and the most there ever were at once (never above `concurrency`). */
  get stats(): { inFlight: number; maxInFlight: number } {
    return { inFlight: this.inFlight.size, maxInFlight: this.maxInFlight };
  }

  private maxInFlight = 0;

  /** Resolves once nothing is in flight and no claimable delivery is left (tests and benches). */
  async idle(): Promise<void> {
    for (;;) {
      await this.passing;
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight.values()]);
    }
  }

  private iso(offsetMs = 0): string {
    return new Date(this.clock().getTime() + offsetMs).toISOString();
  }

  private async claimAndDeliver(): Promise<void> {
    const room = this.concurrency - this.inFlight.size;
    if (room <= 0) return;
    const q = this.options.engine.q();
    const now = this.iso();
    // Heads of webhooks this worker already delivers to are skipped: their next one waits its turn.
    const heads = (await q.all<Claimable>(HEADS, [now, now, room + this.inFlight.size])).filter((h) => !this.inFlight.has(h.webhook_id)).slice(0, room);
    for (const head of heads) {
      if (this.stopping.signal.aborted) return;
      // The lease outlasts the attempt: the POST's timeout plus time to record its outcome.
      const { changes } = await q.run(CLAIM, [this.options.owner, this.iso(this.timeoutMs + this.leaseMarginMs), head.webhook_id, head.seq, now]);
      if (changes !== 1) continue;
      const done = this.deliver(head)
        .catch((err: unknown) => this.options.onError?.(err))
        .finally(() => {
          this.inFlight.delete(head.webhook_id);
          this.kick();
        });
      this.inFlight.set(head.webhook_id, done);
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    }
  }

  private async deliver(d: Claimable): Promise<void> {
    const q = this.options.engine.q();
    const hook = await q.get<HookRow>(HOOK, [d.webhook_id]);
    const row = await q.get<EventRow>(EVENT, [d.seq]);
    if (!hook || !row) return;
    const event: RewindEvent = { ...row, payload: JSON.parse(row.payload) as Record<string, unknown> };
    const name = event.workflow_id ? ((await q.get<{ name: string }>(WORKFLOW_NAME, [event.workflow_id]))?.name ?? null) : null;
    const body = JSON.stringify({ text: eventText(event, name), event: flattenEvent(event) });
    let secret: string;
    try {
      secret = this.options.box.open(hook.secret_sealed, hook.key_id);
    } catch (err) {
      const reason = err instanceof RewindError ? `${err.code}: ${err.message}` : 'The stored secret cannot be unsealed with this server\'s webhook key.';
      await this.record(d, { ok: false, status: null, error: reason, kind: 'permanent' });
      return;
    }
    const outcome = await this.post(hook.url, `${d.webhook_id}_${d.seq}`, event.type, body, secret);
    if (outcome === 'stopped') {
      await q.run(RELEASE, [d.webhook_id, d.seq, this.options.owner]);
      return;
    }
    // The error is stored and shown: never with the URL's query values or credentials in it.
    await this.record(d, outcome.ok ? outcome : { ...outcome, error: hideUrlSecrets(outcome.error, hook.url) });
  }

  private async post(url: string, messageId: string, type: string, body: string, secret: string): Promise<Outcome | 'stopped'> {
    const at = this.clock();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Rewind-Webhooks/1',
      'x-rewind-event': type,
      'x-rewind-signature': rewindSignature(secret, body),
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': standardSigner(secret).sign(messageId, at, body),
    };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      // No redirects: the receiver is the URL an admin gave, not wherever it points on.
      const res = await this.egress.fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.any([timeout, this.stopping.signal]) });
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => undefined);
        return { ok: true, status: res.status };
      }
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        return this.redirected(url, res.status, res.headers.get('location'));
      }
      const snippet = await readSome(res, ERROR_BODY_BYTES);
      const error = `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`;
      const client = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      return { ok: false, status: res.status, error, kind: client ? 'client' : 'transient' };
    } catch (err) {
      if (this.stopping.signal.aborted) return 'stopped';
      if (timeout.aborted) return { ok: false, status: null, error: `no answer within ${this.timeoutMs} ms`, kind: 'transient' };
      const refused = refusalOf(err);
      if (refused) return { ok: false, status: null, error: `${refused.code}: ${refused.message} ${refused.hint}`, kind: 'permanent' };
      return { ok: false, status: null, error: networkReason(err), kind: 'transient' };
    }
  }

  /** A redirect is not followed (the receiver is the URL an admin gave); it names where it pointed, and whether the policy would refuse that. */
  private redirected(url: string, status: number, location: string | null): Outcome {
    let target: string | null = null;
    try {
      target = location === null ? null : new URL(location, url).href;
    } catch {
      // An unparsable Location is reported as absent.
    }
    if (target !== null && /^https?:/.test(target)) {
      try {
        checkUrlHost(target, webhookEgress(this.allowPrivate));
      } catch (err) {
        if (!(err instanceof RewindError)) throw err;
        return { ok: false, status, error: `HTTP ${status}: redirected to ${displayUrl(target)}, not followed — ${err.code}: ${err.message}`, kind: 'permanent' };
      }
    }
    const where = target === null ? 'without a usable Location' : `to ${displayUrl(target)}`;
    return { ok: false, status, error: `HTTP ${status}: redirected ${where}; webhooks do not follow redirects — register the final URL`, kind: 'client' };
  }

  private async record(d: Claimable, outcome: Outcome): Promise<void> {
    const { engine, owner } = this.options;
    const key = [d.webhook_id, d.seq, owner] as const;
    if (outcome.ok) {
      await engine.q().run(DELIVERED, [outcome.status, this.iso(), ...key]);
      return;
    }
    const attempts = d.attempts + 1;
    // A client error gets one retry (a receiver being redeployed), then it is dead-lettered with its reason.
    const retry = outcome.kind === 'transient' ? attempts < this.backoff.attempts : outcome.kind === 'client' ? attempts < Math.min(2, this.backoff.attempts) : false;
    if (retry) {
      await engine.q().run(RETRY, [outcome.status, outcome.error, this.iso(this.delayMs(attempts)), ...key]);
      return;
    }
    await engine.mutate(async () => {
      const now = this.iso();
      const { changes } = await engine.q().run(DEAD, [outcome.status, outcome.error, now, ...key]);
      if (changes === 0) return;
      await engine.append({
        type: WEBHOOK_DEAD_LETTERED,
        actor: 'webhooks',
        ts: now,
        payload: { webhook_id: d.webhook_id, seq: d.seq, event_type: d.event_type, attempts, last_status: outcome.status, reason: outcome.error },
      });
    });
  }

  /** The wait after the n-th failed attempt: base·2^(n−1), capped, jittered to 50–100 % so retries of many webhooks spread out. */
  delayMs(attempts: number): number {
    const full = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (attempts - 1));
    return Math.round(full / 2 + (this.random() * full) / 2);
  }
}

/** The first bytes of an error answer, as text; the rest is never read (a huge answer costs nothing). */
async function readSome(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still says what it said so far.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8').replace(/\s+/g, ' ').trim();
}

function networkReason(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return code ? `${code}: ${message}` : message;
}
