import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST as the receiver saw it, with what each signature check said. */
export interface Received {
  /** The request's path and query, as sent. */
  url: string;
  body: string;
  json: { text: string; event: Record<string, unknown> & { seq: number; event_type: string } };
  headers: Record<string, string>;
  hmacOk: boolean;
  standardOk: boolean;
  answered: number | 'hung';
}

/** What the receiver answers to one request: a status (or a status with its body and headers), or no answer at all. */
export type Answer = number | { status: number; body?: string; headers?: Record<string, string> };
export type Behaviour = (r: Omit<Received, 'answered'>, index: number) => Answer | 'hang';

/**
 * A webhook receiver on 127.0.0.1, as a team would write one: it checks the X-Rewind-Signature HMAC
 * and the Standard Webhooks headers (the npm package's own `verify`) before it trusts a body.
 */
export class Receiver {
  readonly received: Received[] = [];
  private server: http.Server | null = null;
  private readonly hanging = new Set<ServerResponse>();
  open = 0;
  maxOpen = 0;

  constructor(
    private readonly secret: string,
    public behaviour: Behaviour = () => 200,
  ) {}

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}/hook`;
  }

  /** The seqs answered 2xx, in the order they arrived. */
  get delivered(): number[] {
    return this.received.filter((r) => typeof r.answered === 'number' && r.answered < 300).map((r) => r.json.event.seq);
  }

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.open += 1;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    res.on('close', () => {
      this.open -= 1;
      this.hanging.delete(res);
    });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const expected = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    const given = headers['x-rewind-signature'] ?? '';
    const hmacOk = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    let standardOk = true;
    try {
      const key = this.secret.startsWith('whsec_') ? new Webhook(this.secret) : new Webhook(Buffer.from(this.secret, 'utf8'), { format: 'raw' });
      key.verify(body, headers);
    } catch {
      standardOk = false;
    }
    const seen = { url: req.url ?? '', body, json: JSON.parse(body) as Received['json'], headers, hmacOk, standardOk };
    const answer = this.behaviour(seen, this.received.length);
    if (answer === 'hang') {
      this.received.push({ ...seen, answered: 'hung' });
      this.hanging.add(res);
      return;
    }
    const { status, body: text, headers: extra } = typeof answer === 'number' ? { status: answer, body: undefined, headers: undefined } : answer;
    this.received.push({ ...seen, answered: status });
    res.writeHead(status, { 'content-type': 'text/plain', ...extra });
    res.end(text ?? (status < 300 ? 'ok' : 'receiver says no'));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
