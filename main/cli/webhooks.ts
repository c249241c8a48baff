import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import type { DeliveryState } from '../../preload/contract/webhooks.js';
import { table } from './format.js';

/** What `rewind webhooks …` needs of the session. */
export interface WebhookVerbContext {
  backend: Backend;
  json: boolean;
  out: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Workflow names to ids, as the other verbs accept either. */
  resolveWorkflow: (ref: string) => Promise<string>;
}

export interface WebhookVerbOptions {
  secret?: string | undefined;
  events?: string | undefined;
  workflows?: string | undefined;
  state?: string | undefined;
  limit?: number | undefined;
}

const usage = (message: string) =>
  new RewindError(
    'VALIDATION_FAILED',
    message,
    'webhooks add URL [--secret S | REWIND_WEBHOOK_SECRET] [--events T1,T2] [--workflows WF1,WF2] | webhooks list | webhooks rm ID | webhooks deliveries ID [--status pending|delivered|dead|cancelled] [--limit N]',
  );

const list = (csv: string | undefined) =>
  csv === undefined
    ? undefined
    : csv
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

const short = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);

/** `rewind webhooks add|list|rm|deliveries` (admin; a server delivers them, the sandbox refuses to add one). */
export async function webhooksVerb(ctx: WebhookVerbContext, args: string[], options: WebhookVerbOptions): Promise<number> {
  const print = (value: unknown, human: () => string) => ctx.out(ctx.json ? JSON.stringify(value, null, 2) : human());
  const [sub, arg] = args;
  switch (sub) {
    case 'add': {
      if (!arg) throw usage('webhooks add needs the URL.');
      // The environment keeps the secret out of shell history and the process list; --secret is for scripts that have it anyway.
      const secret = options.secret ?? ctx.env.REWIND_WEBHOOK_SECRET;
      if (secret === undefined) throw usage('webhooks add needs a secret: --secret S, or REWIND_WEBHOOK_SECRET.');
      const workflows = list(options.workflows);
      const events = list(options.events);
      const out = await ctx.backend.call('webhooks:create', {
        url: arg,
        secret,
        ...(events ? { events } : {}),
        ...(workflows ? { workflows: await Promise.all(workflows.map((w) => ctx.resolveWorkflow(w))) } : {}),
      });
      print(out, () => `Webhook ${out.id} → ${out.url} (${out.events?.join(', ') ?? 'every event'}${out.workflows ? `; workflows ${out.workflows.join(', ')}` : ''}). The secret is stored sealed and never shown again.`);
      return 0;
    }
    case 'list': {
      const out = await ctx.backend.call('webhooks:list', {});
      print(out, () =>
        out.webhooks.length === 0
          ? 'No webhooks.'
          : table(
              ['ID', 'URL', 'EVENTS', 'WORKFLOWS', 'PENDING', 'DEAD', 'BY'],
              out.webhooks.map((w) => [w.id, w.url, w.events?.join(',') ?? 'all', w.workflows?.join(',') ?? 'all', w.pending, w.dead, w.created_by]),
            ),
      );
      return 0;
    }
    case 'rm': {
      if (!arg) throw usage('webhooks rm needs the webhook id.');
      const out = await ctx.backend.call('webhooks:delete', { webhook_id: arg });
      print(out, () => `Deleted webhook ${out.id}; ${out.cancelled} pending deliver${out.cancelled === 1 ? 'y' : 'ies'} cancelled.`);
      return 0;
    }
    case 'deliveries': {
      if (!arg) throw usage('webhooks deliveries needs the webhook id.');
      const out = await ctx.backend.call('webhooks:deliveries', {
        webhook_id: arg,
        ...(options.state === undefined ? {} : { state: options.state as DeliveryState }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      });
      print(out, () =>
        out.deliveries.length === 0
          ? 'No deliveries.'
          : table(
              ['SEQ', 'EVENT', 'STATE', 'ATTEMPTS', 'STATUS', 'NEXT', 'FINISHED', 'LAST ERROR'],
              out.deliveries.map((d) => [d.seq, d.event_type, d.state, d.attempts, d.last_status, short(d.next_attempt_at), short(d.finished_at), d.last_error]),
            ),
      );
      return 0;
    }
    default:
      throw usage(sub ? `Unknown webhooks command "${sub}".` : 'webhooks needs a command: add, list, rm or deliveries.');
  }
}
