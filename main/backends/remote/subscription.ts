import WebSocket, { type RawData } from 'ws';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { closeCodes, unflattenEvent, wireEventSchema } from '../../protocol/wire.js';
import type { SubscribeOptions, SubscriptionState } from '../backend.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { isTlsFailure } from './errors.js';

export interface StreamTarget {
  /** ws:// or wss:// URL of the stream, without the query. */
  url: string;
  /** The bearer for the next connect; `refresh` after the server closed the stream for an expired sign-in. */
  bearer: (refresh: boolean) => Promise<string>;
  /** Silence longer than this (no ping, no message) means a dead peer: the socket is dropped and reconnected. */
  heartbeatTimeoutMs: number;
  handshakeTimeoutMs: number;
  backoff: BackoffOptions;
  /** Resolves when the server is known to speak our protocol; rejects with why it does not. */
  ready: () => Promise<void>;
}

/*
 * subscription: connecting → live ⇄ reconnecting → closed
 *                    ↘ refused (token refused or revoked, incompatible server: retrying cannot help)
 *
 * Exactly once, in order: `last` is the seq of the last event handed to onEvent; each (re)connect
 * asks for after=last, anything at or below it is dropped, and a gap means the socket is replaced.
 */
export class RemoteSubscription {
  private ws: WebSocket | null = null;
  private last: number;
  private attempt = 0;
  private state: SubscriptionState = 'connecting';
  private reconnectTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private ended = false;
  /** The server closed the stream because the sign-in expired: the next connect asks for a fresh JWT. */
  private refreshNext = false;
  /** One refresh per refused connect: a fresh JWT refused again is a refusal. */
  private refreshedOnce = false;

  constructor(
    private readonly target: StreamTarget,
    private readonly options: SubscribeOptions,
  ) {
    this.last = options.after;
    this.transition('connecting');
    void this.open();
  }

  close(): void {
    this.end('closed');
  }

  private transition(state: SubscriptionState, detail?: string): void {
    this.state = state;
    this.options.onState?.(state, detail);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.reconnectTimer = null;
    this.silenceTimer = null;
  }

  private refuse(detail: string): void {
    this.end('refused', detail);
  }

  /** The one way out: no timer, no socket, no further event after a terminal state. */
  private end(state: 'closed' | 'refused', detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => undefined);
    this.ws?.terminate();
    this.ws = null;
    this.transition(state, detail);
  }

  private retry(reason: string, immediate = false): void {
    if (this.ended) return;
    this.clearTimers();
    const socket = this.ws;
    this.ws = null;
    if (socket) {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
    }
    const delay = immediate ? 0 : backoffDelay(this.attempt, this.target.backoff);
    this.attempt += 1;
    this.transition('reconnecting', `${reason}; retrying in ${delay} ms from seq ${this.last}`);
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  private armSilence(ws: WebSocket): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    // One timer, reset on every sign of life; when it fires the peer is presumed dead: terminate, not close.
    this.silenceTimer = setTimeout(() => {
      if (this.ws === ws) this.retry(`no heartbeat for ${this.target.heartbeatTimeoutMs} ms`);
    }, this.target.heartbeatTimeoutMs);
  }

  private async open(): Promise<void> {
    if (this.ended) return;
    try {
      await this.target.ready();
    } catch (err) {
      const data = err as { code?: string; message?: string };
      if (data.code === 'PROTOCOL_MISMATCH' || data.code === 'UNAUTHORIZED') this.refuse(`${data.code}: ${data.message ?? ''}`);
      else this.retry(data.message ?? String(err));
      return;
    }
    if (this.ended) return;
    let bearer: string;
    try {
      bearer = await this.target.bearer(this.refreshNext);
      this.refreshNext = false;
    } catch (err) {
      const data = err as { code?: string; message?: string; hint?: string };
      // The person must sign in again: retrying cannot help. The provider away: it may come back.
      if (data.code === 'UNAUTHORIZED') this.refuse(`UNAUTHORIZED: ${data.message ?? ''} ${data.hint ?? ''}`.trim());
      else this.retry(data.message ?? String(err));
      return;
    }
    if (this.ended) return;
    const ws = new WebSocket(`${this.target.url}?after=${this.last}`, {
      headers: { authorization: `Bearer ${bearer}` },
      handshakeTimeout: this.target.handshakeTimeoutMs,
      // Events can carry a whole DSL; the cap guards against a runaway peer, not against real events.
      maxPayload: 32 * 1024 * 1024,
      perMessageDeflate: false,
    });
    this.ws = ws;
    let lastError = '';
    ws.on('open', () => {
      this.attempt = 0;
      this.refreshedOnce = false;
      this.armSilence(ws);
      this.transition('live');
    });
    ws.on('ping', () => this.armSilence(ws));
    ws.on('message', (data: RawData) => {
      this.armSilence(ws);
      this.receive(ws, data);
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let message = `HTTP ${status}`;
        let reason: unknown;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string; message?: string; details?: { reason?: unknown } } };
          if (body.error?.message) message = `${body.error.code ?? status}: ${body.error.message}`;
          reason = body.error?.details?.reason;
        } catch {
          // Not a Rewind error body; the status says enough.
        }
        // A sign-in that lapsed while away: one refresh, then the same after=last.
        if (status === 401 && reason === 'expired' && !this.refreshedOnce) {
          this.refreshedOnce = true;
          this.refreshNext = true;
          this.retry(`the sign-in expired (${message})`, true);
        } else if (status === 401 || status === 403) this.refuse(`the server refused the token (${message})`);
        else if (status === 404 || status === 400) this.refuse(`PROTOCOL_MISMATCH: the server has no event stream here (${message})`);
        else this.retry(message);
      });
      res.on('error', () => this.retry(`HTTP ${res.statusCode ?? 0}`));
    });
    ws.on('error', (err) => {
      lastError = err.message;
      if (isTlsFailure(err)) this.refuse(`TLS_FAILED: ${err.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      const why = reason.toString() || lastError || `closed (${code})`;
      if (code === closeCodes.unauthorized) this.refuse(`the token was revoked (${why})`);
      else if (code === closeCodes.tokenExpired) {
        // Not a refusal: a fresh JWT and the same after=last, at once, so nothing is missed.
        this.refreshNext = true;
        this.retry(why, true);
      }
      else if (code === closeCodes.badRequest) this.refuse(why);
      else this.retry(why, code === closeCodes.slowConsumer && this.attempt === 0);
    });
  }

  private receive(ws: WebSocket, data: RawData): void {
    let event: RewindEvent;
    try {
      const wire = wireEventSchema.parse(JSON.parse(data.toString()));
      event = unflattenEvent(wire);
    } catch (err) {
      this.refuse(`PROTOCOL_MISMATCH: the stream sent something that is not an event (${err instanceof Error ? err.message.slice(0, 200) : String(err)})`);
      return;
    }
    if (this.ws !== ws || event.seq <= this.last) return;
    if (event.seq !== this.last + 1) {
      this.retry(`gap: got seq ${event.seq} after ${this.last}`, true);
      return;
    }
    this.last = event.seq;
    try {
      this.options.onEvent(event);
    } catch (err) {
      // A listener's bug must not cost the other events; the event still counts as delivered.
      process.emitWarning(`event listener threw on seq ${event.seq}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  get currentState(): SubscriptionState {
    return this.state;
  }
}
