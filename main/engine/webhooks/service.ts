import { randomBytes } from 'node:crypto';
import type { DeadLetter } from '../../../preload/contract/incidents.js';
import type { DeliveryState, Webhook, WebhookDelivery } from '../../../preload/contract/webhooks.js';
import { checkUrlHost } from '../egress/egress.js';
import type { Engine } from '../engine.js';
import { RewindError } from '../errors.js';
import type { SecretBox } from './secret-box.js';

interface WebhookRow {
  id: string;
  url: string;
  event_types: string | null;
  workflow_ids: string | null;
  created_by: string;
  created_at: string;
  pending: number;
  dead: number;
}

const COUNTS = `(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS pending,
  (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'dead') AS dead`;
const LIST = `SELECT w.id, w.url, w.event_types, w.workflow_ids, w.created_by, w.created_at, ${COUNTS} FROM webhooks w WHERE w.deleted_at IS NULL ORDER BY w.created_at, w.id`;
const ONE = `SELECT w.id, w.url, w.event_types, w.workflow_ids, w.created_by, w.created_at, ${COUNTS} FROM webhooks w WHERE w.id = ? AND w.deleted_at IS NULL`;
const INSERT = `INSERT INTO webhooks (id, url, secret_sealed, key_id, event_types, workflow_ids, created_by, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
const MARK_DELETED = 'UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL';
const CANCEL_PENDING = "UPDATE webhook_deliveries SET state = 'cancelled', finished_at = ?, lease_owner = NULL, lease_until = NULL WHERE webhook_id = ? AND state = 'pending'";
const WORKFLOW_EXISTS = 'SELECT id FROM workflows WHERE id = ?';
const DELIVERY_COLUMNS = 'webhook_id, seq, event_type, state, attempts, next_attempt_at, last_status, last_error, created_at, finished_at';

/**
 * A URL as the API shows it: without credentials or query string, which often carry a token (a
 * Slack incoming-webhook URL's path is the exception; the admin who added it knows it).
 */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Text about a delivery (an error, a receiver's answer) with the webhook URL's query values and
 * credentials taken out: a receiver that echoes its URL back must not show its token in the log.
 */
export function hideUrlSecrets(text: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return text;
  }
  const secrets = new Set<string>();
  const add = (s: string) => {
    if (s.length >= 3) secrets.add(s);
  };
  const query = u.search.slice(1);
  add(query);
  for (const part of query.split('&')) {
    const value = part.slice(part.indexOf('=') + 1);
    add(value);
    try {
      add(decodeURIComponent(value.replace(/\+/g, ' ')));
    } catch {
      // A value that does not decode is hidden as written.
    }
  }
  add(u.username);
  add(u.password);
  // Longest first, so a whole query string goes before the values inside it.
  return [...secrets].sort((a, b) => b.length - a.length).reduce((t, s) => t.split(s).join('…'), text);
}

/** The egress policy webhook URLs are checked against when added (their resolved addresses are checked again at delivery). */
export const webhookEgress = (allowPrivate: boolean) => ({ allowPrivate, what: 'webhook', allowFlag: '--allow-private-webhooks' });

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: displayUrl(row.url),
    events: row.event_types === null ? null : (JSON.parse(row.event_types) as string[]),
    workflows: row.workflow_ids === null ? null : (JSON.parse(row.workflow_ids) as string[]),
    created_by: row.created_by,
    created_at: row.created_at,
    pending: Number(row.pending),
    dead: Number(row.dead),
  };
}

function notFound(id: string): RewindError {
  return new RewindError('WEBHOOK_NOT_FOUND', `No webhook has the id "${id}".`, 'List the webhooks (GET /api/v1/webhooks, or `rewind webhooks list`) for their ids.', { webhook_id: id });
}

/**
 * Webhooks: add, list, delete, and read the delivery log. Adding one needs the server's webhook key
 * (`box`) to seal its secret; without it (the sandbox) the rest still reads.
 */
export class WebhookService {
  constructor(
    private readonly engine: Engine,
    /** Seals and opens secrets; null where no webhook key was given (yet: see `useBox`). */
    private sealer: SecretBox | null,
    /** Loopback and private addresses may be receivers (--allow-private-webhooks). */
    private readonly allowPrivate = false,
  ) {}

  /** Seals and opens secrets; null where no webhook key was given. */
  get box(): SecretBox | null {
    return this.sealer;
  }

  /**
   * The key that arrives after the store opened: a SQLite server's key file is made beside its
   * database only once that database opened, so a path refused at start leaves no file beside it.
   */
  useBox(box: SecretBox): void {
    this.sealer = box;
  }

  async create(input: { url: string; secret: string; events?: string[] | undefined; workflows?: string[] | undefined }, actor: string): Promise<Webhook> {
    const box = this.box;
    if (!box) {
      throw new RewindError(
        'WEBHOOKS_UNAVAILABLE',
        'This connection delivers no webhooks.',
        'Add webhooks on a workflow server (rewind-server seals their secrets with its webhook key); the sandbox sends nothing out.',
      );
    }
    const target = new URL(input.url);
    if (target.username !== '' || target.password !== '') {
      throw new RewindError(
        'VALIDATION_FAILED',
        'A webhook URL may not carry credentials (user:password@): they would be stored and sent in clear on every delivery.',
        'Remove them from the URL and have the receiver verify the signature made with the webhook\'s secret (X-Rewind-Signature, or the Standard Webhooks headers) instead; a token the receiver needs can go in the query string, which is never shown back.',
        { field: 'url' },
      );
    }
    checkUrlHost(input.url, webhookEgress(this.allowPrivate));
    const id = `wh_${randomBytes(9).toString('base64url')}`;
    const events = input.events ? [...new Set(input.events)] : null;
    const workflows = input.workflows ? [...new Set(input.workflows)] : null;
    return this.engine.mutate(async () => {
      for (const wf of workflows ?? []) {
        if (!(await this.engine.q().get(WORKFLOW_EXISTS, [wf]))) {
          throw new RewindError('WORKFLOW_NOT_FOUND', `No workflow has the id "${wf}".`, 'Filter on existing workflow ids (rewind list), or leave `workflows` out for every workflow.', { workflow_id: wf });
        }
      }
      const now = this.engine.now();
      await this.engine.q().run(INSERT, [id, input.url, box.seal(input.secret), box.keyId, events && JSON.stringify(events), workflows && JSON.stringify(workflows), actor, now]);
      await this.engine.append({ type: 'webhook_created', actor, ts: now, payload: { webhook_id: id, host: new URL(input.url).host, events, workflows } });
      return this.get(id);
    });
  }

  list(): Promise<Webhook[]> {
    return this.engine
      .q()
      .all<WebhookRow>(LIST)
      .then((rows) => rows.map(toWebhook));
  }

  async get(id: string): Promise<Webhook> {
    const row = await this.engine.q().get<WebhookRow>(ONE, [id]);
    if (!row) throw notFound(id);
    return toWebhook(row);
  }

  async remove(id: string, actor: string): Promise<{ id: string; deleted: boolean; cancelled: number }> {
    return this.engine.mutate(async () => {
      const hook = await this.get(id);
      const now = this.engine.now();
      await this.engine.q().run(MARK_DELETED, [now, id]);
      const { changes } = await this.engine.q().run(CANCEL_PENDING, [now, id]);
      await this.engine.append({ type: 'webhook_deleted', actor, ts: now, payload: { webhook_id: id, host: new URL(hook.url).host, cancelled: changes } });
      return { id, deleted: true, cancelled: changes };
    });
  }

  /** Newest first; a deleted webhook's log stays readable. */
  /** Deliveries dead-lettered since `since` (ISO), newest first: the incident home lists them. */
  /** Dead letters since a time; `until`: as they stood then (an as-of read), of the webhooks not deleted by then. */
  async deadLetters(since: string, limit: number, until?: string): Promise<DeadLetter[]> {
    const [bound, params] = until === undefined ? ['w.deleted_at IS NULL', [since, limit]] : ['d.finished_at <= ? AND (w.deleted_at IS NULL OR w.deleted_at > ?)', [since, until, until, limit]];
    const rows = await this.engine.q().all<{ webhook_id: string; url: string; seq: number; event_type: string; attempts: number; last_error: string | null; finished_at: string }>(
      `SELECT d.webhook_id, w.url, d.seq, d.event_type, d.attempts, d.last_error, d.finished_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.state = 'dead' AND d.finished_at >= ? AND ${bound} ORDER BY d.finished_at DESC, d.seq DESC LIMIT ?`,
      params,
    );
    return rows.map(({ url, ...r }) => ({ ...r, last_error: r.last_error === null ? null : hideUrlSecrets(r.last_error, url), host: new URL(url).host }));
  }

  async deliveries(id: string, state: DeliveryState | undefined, limit: number): Promise<WebhookDelivery[]> {
    const hook = await this.engine.q().get<{ url: string }>('SELECT url FROM webhooks WHERE id = ?', [id]);
    if (!hook) throw notFound(id);
    const where = state ? 'webhook_id = ? AND state = ?' : 'webhook_id = ?';
    const params = state ? [id, state, limit] : [id, limit];
    const rows = await this.engine.q().all<WebhookDelivery>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${where} ORDER BY seq DESC LIMIT ?`, params);
    // Recorded errors are already stripped (webhook-worker.ts); rows written before that are stripped here.
    return rows.map((r) => ({ ...r, last_error: r.last_error === null ? null : hideUrlSecrets(r.last_error, hook.url), next_attempt_at: r.state === 'pending' ? r.next_attempt_at : null }));
  }
}
