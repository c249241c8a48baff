import pg from 'pg';

/*
 * The LISTEN connection: one dedicated client (a pooled one would be handed to other work).
 *
 *   connecting ──ok──▶ listening ──error/end/missed heartbeat──▶ waiting ──backoff──▶ connecting
 *        └──fail──▶ waiting                                                   closed (any state, on close)
 *
 * A notification is a wake-up, never the data: the engine re-reads the events table after its last
 * seq. So after a loss — when notifications may have been missed — listeners are woken once the
 * connection is back, and nothing a writer committed meanwhile is lost.
 */

export interface ListenerOptions {
  config: pg.ClientConfig;
  channel: string;
  /** Checks the connection this often (a silently dropped network sends no error). */
  heartbeatMs: number;
  /** A notification arrived (`processId`: the notifying backend), or the connection came back. */
  onWake(processId: number | null): void;
  /** The connection was lost (false) or is listening again (true). */
  onState(up: boolean): void;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 5000;

export class NotificationListener {
  private client: pg.Client | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: ListenerOptions) {}

  /** The first connection; its failure is the caller's (a bad setting at open). */
  async start(): Promise<void> {
    await this.connect();
  }

  /**
   * The connection while it is listening, for short reads of the log after a wake-up. A statement
   * there holds back the next notification only until it answers (PostgreSQL delivers them between
   * statements), and if the connection is lost under it, the statement fails and the reconnect
   * wakes listeners again.
   */
  get connection(): pg.Client | null {
    return this.client;
  }

  /** How long the next reconnect may take, for Retry-After. */
  get retryAfterMs(): number {
    return this.client !== null ? 0 : this.delayFor(this.attempt);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.options.config);
    // Errors before `connect` resolves reject it; later ones (the server gone) arrive here.
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === this.options.channel) this.options.onWake(msg.processId);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (err) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.heartbeatTimer = setInterval(() => this.heartbeat(client), this.options.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private heartbeat(client: pg.Client): void {
    let answered = false;
    const deadline = setTimeout(() => {
      if (!answered) this.lost(client);
    }, this.options.heartbeatMs);
    deadline.unref();
    client.query('SELECT 1').then(
      () => {
        answered = true;
        clearTimeout(deadline);
      },
      () => this.lost(client),
    );
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.options.onState(false);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = this.delayFor(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.options.onState(true);
          // Notifications sent while we were away are gone: wake listeners so they re-read.
          this.options.onWake(null);
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
  }

  /** Capped exponential backoff with jitter: the first retry at once, then 100 ms, 200 ms … 5 s. */
  private delayFor(attempt: number): number {
    if (attempt === 0) return 0;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}
