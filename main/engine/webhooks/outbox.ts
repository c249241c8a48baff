import type { RewindEvent } from '../../../preload/contract/entities.js';
import type { Queryable } from '../store/port.js';

/*
 * The outbox side of webhooks: every appended event gets one delivery row per live webhook whose
 * filter it matches, written by the appending transaction itself. So a committed event always has its
 * deliveries (at-least-once survives a crash right after the commit), a rolled-back one never does,
 * and the rows' seq gives each webhook its order.
 */

export const WEBHOOK_DEAD_LETTERED = 'webhook_dead_lettered';

const LIVE_WEBHOOKS = 'SELECT id, event_types, workflow_ids FROM webhooks WHERE deleted_at IS NULL';
const INSERT_DELIVERY = `INSERT INTO webhook_deliveries (webhook_id, seq, event_type, state, attempts, next_attempt_at, created_at)
  VALUES (?, ?, ?, 'pending', 0, ?, ?)`;

interface FilterRow {
  id: string;
  event_types: string | null;
  workflow_ids: string | null;
}

function listOf(json: string | null): string[] | null {
  return json === null ? null : (JSON.parse(json) as string[]);
}

/** Whether a webhook with these filters wants the event (no filter: every one). */
export function matches(filter: { event_types: string[] | null; workflow_ids: string[] | null; id: string }, event: RewindEvent): boolean {
  if (event.type === WEBHOOK_DEAD_LETTERED) {
    // A webhook's own dead letter is not sent to it: it would fail the same way, and each failure would announce another.
    if (event.payload.webhook_id === filter.id) return false;
    // Nor is a dead letter about a dead letter sent anywhere: two failing webhooks would announce each other's failures for ever.
    if (event.payload.event_type === WEBHOOK_DEAD_LETTERED) return false;
  }
  if (filter.event_types && !filter.event_types.includes(event.type)) return false;
  if (filter.workflow_ids && (event.workflow_id === null || !filter.workflow_ids.includes(event.workflow_id))) return false;
  return true;
}

/**
 * The events whose units of work change the webhooks table. Every such change appends one of them as
 * the unit's next event — that is what lets the live list be kept between appends (see WebhookOutbox).
 */
const WEBHOOK_CHANGES = new Set(['webhook_created', 'webhook_deleted']);

/**
 * Queues each appended event for the webhooks that want it, inside the appending transaction. The
 * live list is read once and kept, instead of once per event: appends hold the chain head lock, and
 * so does every change of the webhooks table, whose event drops the kept list when it is published.
 * So a list read under the lock stays true for as long as no webhook event has been published since —
 * provided the engine has published every committed event (else one it has not seen may be a webhook
 * change): the caller says so with `current`.
 */
export class WebhookOutbox {
  private live: FilterRow[] | null = null;

  /**
   * Inside the appending transaction. `current`: every event committed before this unit's lock has
   * been published here, and this is the unit's first append (so the unit itself changed no webhook
   * before it, or this event would be that change).
   */
  async enqueue(tx: Queryable, event: RewindEvent, current: boolean): Promise<void> {
    const keep = current && !WEBHOOK_CHANGES.has(event.type);
    const hooks = (keep ? this.live : null) ?? (await tx.all<FilterRow>(LIVE_WEBHOOKS));
    if (keep) this.live = hooks;
    for (const row of hooks) {
      const filter = { id: row.id, event_types: listOf(row.event_types), workflow_ids: listOf(row.workflow_ids) };
      if (matches(filter, event)) await tx.run(INSERT_DELIVERY, [row.id, event.seq, event.type, event.ts, event.ts]);
    }
  }

  /** A committed event was published: a webhook change makes the kept list stale. */
  published(event: RewindEvent): void {
    if (WEBHOOK_CHANGES.has(event.type)) this.live = null;
  }
}
