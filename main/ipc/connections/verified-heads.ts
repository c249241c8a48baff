import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ConnectionInfo, EventHead, RewindEvent } from '../../../preload/contract/index.js';
import type { Backend } from '../../backends/backend.js';
import { hashEvent } from '../../engine/event-log.js';
import { writeFileAtomic } from './atomic-write.js';

/*
 * Truncation evidence. A hash chain proves that no event was altered in place, but a log cut back to
 * an earlier event (its newest events deleted) still verifies. So each client remembers the newest
 * link it verified per connection — (seq, hash) — and alarms when the log no longer has it: its head
 * is lower, or the event at that seq has another hash (rewritten from there).
 */

export const verifiedHeadSchema = z.object({
  /** What the head was read from (a server URL, a sandbox path): a connection pointed elsewhere starts afresh. */
  source: z.string(),
  seq: z.number().int().nonnegative(),
  hash: z.string(),
});
export type VerifiedHead = z.infer<typeof verifiedHeadSchema>;

const fileSchema = z.object({ version: z.literal(1), heads: z.record(z.string(), verifiedHeadSchema) });

/** The remembered heads, one file per client kind (the console's and the CLI's), in the user's folder. */
export class VerifiedHeads {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly heads: Map<string, VerifiedHead>,
  ) {}

  /** An unreadable file is started afresh: losing the memory only loses evidence, it invents none. */
  static async load(file: string): Promise<VerifiedHeads> {
    let heads = new Map<string, VerifiedHead>();
    try {
      const parsed = fileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (parsed.success) heads = new Map(Object.entries(parsed.data.heads));
    } catch {
      // Missing or not JSON: nothing remembered yet.
    }
    return new VerifiedHeads(file, heads);
  }

  get(key: string, source: string): VerifiedHead | null {
    const head = this.heads.get(key);
    return head && head.source === source ? head : null;
  }

  set(key: string, head: VerifiedHead): void {
    this.heads.set(key, head);
  }

  delete(key: string): void {
    this.heads.delete(key);
  }

  /** Writes are queued, so the file always ends with the latest state. */
  save(): Promise<void> {
    const text = `${JSON.stringify({ version: 1, heads: Object.fromEntries(this.heads) }, null, 2)}\n`;
    this.writing = this.writing.then(() => writeFileAtomic(this.file, text));
    return this.writing;
  }
}

export type HeadAlarm = NonNullable<ConnectionInfo['alarm']>;

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Reads the log's head and checks it still extends `remembered`. The alarm is the truncation when
 * there is one, else a chain that did not verify when the log was opened.
 */
export async function checkHead(backend: Backend, remembered: VerifiedHead | null, where: string): Promise<{ head: EventHead; alarm: HeadAlarm | null }> {
  const head = await backend.call('events:head', {});
  let alarm: HeadAlarm | null = null;
  if (remembered && remembered.seq > 0) {
    if (head.seq < remembered.seq) {
      alarm = truncated(where, remembered, `its log now ends at event ${head.seq}`);
    } else {
      const { events } = await backend.call('events:list', { after: remembered.seq - 1, limit: 1 });
      const at = events[0];
      if (!at || at.seq !== remembered.seq) alarm = truncated(where, remembered, `event ${remembered.seq} is missing from its log`);
      else if (at.hash !== remembered.hash) alarm = truncated(where, remembered, `its event ${remembered.seq} now has the hash ${short(at.hash)}: the log was rewritten from there`);
    }
  }
  if (!alarm && !head.chain.ok) alarm = chainBroken(where, head.chain.first_broken_seq, head.chain.reason);
  return { head, alarm };
}

function truncated(where: string, remembered: VerifiedHead, what: string): HeadAlarm {
  return {
    code: 'LOG_TRUNCATED',
    message: `${where} no longer has event ${remembered.seq} (hash ${short(remembered.hash)}), which was verified here before: ${what}.`,
    hint: 'Events were deleted or the database was restored from an older backup. Treat the audit log as tampered: compare with a snapshot or backup, and ask who changed the database.',
  };
}

export function chainBroken(where: string, seq: number | null, reason: string | null): HeadAlarm {
  return {
    code: 'CHAIN_BROKEN',
    message: `${where}: the audit chain is broken at event ${seq ?? '?'} (${reason ?? 'unknown reason'}).`,
    hint: 'The event log was altered outside Rewind. Restore the database from a backup and check it with `rewind verify`; until then treat its history as untrustworthy.',
  };
}

/** Whether a live event follows the last verified link: the same check as the chain's, one event at a time. */
export function extendsHead(last: { seq: number; hash: string }, e: RewindEvent): boolean {
  if (e.seq !== last.seq + 1 || e.prev_hash !== last.hash) return false;
  const { hash, ...rest } = e;
  return hashEvent({ ...rest, payload: JSON.stringify(e.payload) }) === hash;
}
