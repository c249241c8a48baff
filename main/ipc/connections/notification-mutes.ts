import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';

/** The connections whose desktop notifications the operator silenced, beside the connections file. */
export const NOTIFICATION_MUTES_FILE = 'notification-mutes.json';

const fileSchema = z.object({ version: z.literal(1), muted: z.array(z.string()) });

/**
 * Muted connection ids. Main keeps them (not the page), because main decides which connections'
 * events reach the renderer as `notifications:event`; every window and browser page sees the same.
 */
export class NotificationMutes {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly muted: Set<string>,
  ) {}

  /** An unreadable file starts with nothing muted: a lost mute shows a notification, it hides none. */
  static async load(file: string): Promise<NotificationMutes> {
    let muted = new Set<string>();
    try {
      const parsed = fileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (parsed.success) muted = new Set(parsed.data.muted);
    } catch {
      // Missing or not JSON: nothing muted yet.
    }
    return new NotificationMutes(file, muted);
  }

  has(id: string): boolean {
    return this.muted.has(id);
  }

  /**
   * Changes one connection's mute once the file says so: a write that fails changes nothing (the
   * error reaches the operator). Changes are queued, so the file ends with the latest state.
   */
  set(id: string, muted: boolean): Promise<void> {
    const next = this.writing.catch(() => undefined).then(async () => {
      if (muted === this.muted.has(id)) return;
      const ids = new Set(this.muted);
      if (muted) ids.add(id);
      else ids.delete(id);
      await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, muted: [...ids].sort() }, null, 2)}\n`);
      if (muted) this.muted.add(id);
      else this.muted.delete(id);
    });
    this.writing = next;
    return next;
  }
}
