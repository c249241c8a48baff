import type { WebSocket } from 'ws';
import type { RewindEvent } from '../../preload/contract/index.js';
import type { Backend } from '../backends/backend.js';
import { closeCodes, flattenEvent } from '../protocol/wire.js';

export interface EventStreamOptions {
  backend: Backend;
  /** The log's head when the server starts: the hub listens for what comes after. */
  head: number;
  heartbeatMs: number;
  /** A live socket whose unsent bytes pass this is closed (4008) rather than buffered without bound. */
  maxBufferedBytes: number;
  /** Recent serialized events kept in memory, so most reconnects catch up without a database read. */
  ringSize: number;
  /** …and at most this many bytes of them (an event carries run params of up to ~1 MB). */
  ringBytes: number;
  /** Events read from the log per step while a socket catches up. */
  pageSize: number;
  /** Re-checked every heartbeat, so a token revoked elsewhere closes its sockets within one interval. */
  isTokenLive: (tokenId: string) => Promise<boolean>;
  onSlowConsumer: () => void;
  onError: (err: unknown) => void;
}

/** Who holds a socket: an API token (revocable, re-checked every heartbeat) or a person's JWT (closed when it expires). */
export interface StreamHolder {
  id: string;
  via: 'token' | 'oidc';
  /** ms since the epoch after which the JWT is no longer accepted; null for API tokens. */
  acceptedUntil: number | null;
}

/** setTimeout's longest delay: a later expiry is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  seq: number;
  data: string;
  bytes: number;
}

/*
 * stream client: catching-up → live → closed
 *                    ↑______/  (a gap in live delivery sends it back to catching up)
 */
interface StreamClient {
  ws: WebSocket;
  holder: StreamHolder;
  expiry: NodeJS.Timeout | null;
  /** The last seq sent on this socket: every later event follows it exactly once, in order. */
  sent: number;
  live: boolean;
  alive: boolean;
}

/**
 * The event stream's fan-out. One subscription to the backend serves every socket: each event is
 * serialized once and sent to each live socket whose last seq precedes it. A socket that connects
 * with an older `after` catches up first — from the in-memory ring, else page by page from the log,
 * paced by the socket's own flushes — and joins the live set once it has reached the head. JavaScript
 * runs this on one thread, so the check "caught up?" and the switch to live happen with no event between.
 */
export class EventStream {
  private readonly clients = new Set<StreamClient>();
  private readonly ring: Entry[] = [];
  private ringBytes = 0;
  private head: number;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: EventStreamOptions) {
    this.head = options.head;
    this.unsubscribe = options.backend.subscribe({ after: options.head, onEvent: (event) => this.publish(event) });
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  get headSeq(): number {
    return this.head;
  }

  /** What the ring holds now: its bounds are ringSize events and ringBytes bytes. */
  get ringUsage(): { events: number; bytes: number } {
    return { events: this.ring.length, bytes: this.ringBytes };
  }

  /** Takes over an upgraded socket that asked for every event after `after` (the head when it gave none). */
  add(ws: WebSocket, holder: StreamHolder, after: number | undefined): void {
    const client: StreamClient = { ws, holder, expiry: null, sent: Math.min(after ?? this.head, Number.MAX_SAFE_INTEGER), live: false, alive: true };
    this.clients.add(client);
    this.armExpiry(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('close', () => {
      if (client.expiry) clearTimeout(client.expiry);
      this.clients.delete(client);
    });
    ws.on('error', () => ws.terminate());
    // Clients have nothing to say on this stream; their messages are capped by maxPayload and ignored.
    ws.on('message', () => undefined);
    void this.catchUp(client);
  }

  /** Closes a revoked token's sockets at once (the heartbeat re-check covers revocations from elsewhere). */
  revoke(tokenId: string): void {
    for (const client of this.clients) {
      if (client.holder.id === tokenId) client.ws.close(closeCodes.unauthorized, 'token revoked');
    }
  }

  /**
   * A person's socket lives as long as their JWT is accepted, and is then closed with `tokenExpired`:
   * their client refreshes the sign-in and reconnects after the last seq it received, missing nothing.
   */
  private armExpiry(client: StreamClient): void {
    const until = client.holder.acceptedUntil;
    if (until === null) return;
    const wait = until - Date.now();
    if (wait > MAX_TIMER_MS) {
      client.expiry = setTimeout(() => this.armExpiry(client), MAX_TIMER_MS);
      return;
    }
    client.expiry = setTimeout(() => client.ws.close(closeCodes.tokenExpired, `sign-in expired: refresh it and reconnect with after=${client.sent}`), Math.max(0, wait));
  }

  /** Going away: every socket is told to reconnect elsewhere or later, then the hub stops listening. */
  async close(graceMs = 1000): Promise<void> {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    const closing = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === client.ws.CLOSED) return resolve();
          const timer = setTimeout(() => {
            client.ws.terminate();
            resolve();
          }, graceMs);
          client.ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          client.ws.close(closeCodes.goingAway, 'server shutting down');
        }),
    );
    await Promise.all(closing);
  }

  private publish(event: RewindEvent): void {
    if (event.seq <= this.head) return;
    this.head = event.seq;
    const data = JSON.stringify(flattenEvent(event));
    const entry = { seq: event.seq, data, bytes: Buffer.byteLength(data) };
    this.ring.push(entry);
    this.ringBytes += entry.bytes;
    let drop = 0;
    let bytes = this.ringBytes;
    while (drop < this.ring.length && (this.ring.length - drop > this.options.ringSize || bytes > this.options.ringBytes)) bytes -= this.ring[drop++]!.bytes;
    if (drop > 0) {
      this.ring.splice(0, drop);
      this.ringBytes = bytes;
    }
    for (const client of this.clients) {
      if (!client.live) continue;
      if (client.sent === entry.seq - 1) {
        this.sendLive(client, entry);
      } else if (client.sent < entry.seq - 1) {
        client.live = false;
        void this.catchUp(client);
      }
    }
  }

  private sendLive(client: StreamClient, entry: Entry): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (client.ws.bufferedAmount > this.options.maxBufferedBytes) {
      client.live = false;
      this.options.onSlowConsumer();
      client.ws.close(closeCodes.slowConsumer, `too slow: reconnect with after=${client.sent}`);
      return;
    }
    client.ws.send(entry.data);
    client.sent = entry.seq;
  }

  /** The events after `after` that the ring still holds, or null when it does not reach back that far. */
  private fromRing(after: number): Entry[] | null {
    const first = this.ring[0];
    if (!first || first.seq > after + 1) return null;
    const start = after + 1 - first.seq;
    return this.ring.slice(start, start + this.options.pageSize);
  }

  private async fromLog(after: number): Promise<Entry[]> {
    const { events } = await this.options.backend.call('events:list', { after, limit: this.options.pageSize });
    return events.map((event) => {
      const data = JSON.stringify(flattenEvent(event));
      return { seq: event.seq, data, bytes: Buffer.byteLength(data) };
    });
  }

  private async catchUp(client: StreamClient): Promise<void> {
    const open = () => client.ws.readyState === client.ws.OPEN;
    try {
      while (open()) {
        if (client.sent >= this.head) {
          client.live = true;
          return;
        }
        const page = this.fromRing(client.sent) ?? (await this.fromLog(client.sent));
        if (!open()) return;
        const next = page.filter((e) => e.seq > client.sent);
        if (next.length === 0 || next[0]!.seq !== client.sent + 1) {
          // The log must hold every seq up to the head (gapless); a hole here is not something to stream around.
          throw new Error(`event log has no seq ${client.sent + 1} (head ${this.head})`);
        }
        const batch = next.filter((e, i) => e.seq === client.sent + 1 + i);
        // The page's last send resolves once it has reached the socket: a slow reader slows its own catch-up only.
        await new Promise<void>((resolve) => {
          batch.forEach((entry, i) => client.ws.send(entry.data, i === batch.length - 1 ? () => resolve() : undefined));
          client.sent = batch[batch.length - 1]!.seq;
        });
      }
    } catch (err) {
      this.options.onError(err);
      if (open()) client.ws.close(closeCodes.internal, 'stream failed; reconnect with your last seq');
    }
  }

  private beat(): void {
    for (const client of this.clients) {
      if (client.holder.via === 'token') {
        this.options.isTokenLive(client.holder.id).then(
          (live) => {
            if (!live) client.ws.close(closeCodes.unauthorized, 'token revoked');
          },
          (err: unknown) => this.options.onError(err),
        );
      }
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}
