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

/** Inside the appending transaction: queues the event for every webhook that wants it. */
export async function enqueueDeliveries(tx: Queryable, event: RewindEvent): Promise<void> {
  const hooks = await tx.all<FilterRow>(LIVE_WEBHOOKS);
  for (const row of hooks) {
    const filter = { id: row.id, event_types: listOf(row.event_types), workflow_ids: listOf(row.workflow_ids) };
    if (matches(filter, event)) await tx.run(INSERT_DELIVERY, [row.id, event.seq, event.type, event.ts, event.ts]);
  }
}
