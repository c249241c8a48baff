import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SubscriptionState } from '../../../main/backends/backend.js';
import { type RemoteBackend, openRemote } from '../../../main/backends/remote/index.js';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { type ChildServer, dsls, eventually, freePort, killHard, spawnServer, tempDir, uniqueName } from './harness.js';

const ADMIN = 'reconnect-admin-token-0123456789';
const SUBSCRIBERS = 20;

/** The server is killed with SIGKILL and restarted while 20 subscribers stream; each ends with the full, gapless log. */
describe('workflow server: subscribers across SIGKILL and restart', () => {
  const dir = tempDir('rewind-reconnect-');
  const db = join(dir, 'rewind.db');
  let child: ChildServer | undefined;
  const remotes: RemoteBackend[] = [];

  afterAll(async () => {
    for (const r of remotes) await r.close();
    if (child) await killHard(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every subscriber resumes from its last seq and ends with every event once, in order', async () => {
    const port = await freePort();
    const start = () => spawnServer(['--db', db, '--port', String(port), '--heartbeat-ms', '500'], { REWIND_ADMIN_TOKEN: ADMIN });
    child = await start();
    const url = child.url;
    const writer = await openRemote({ url, token: ADMIN, retries: 0, timeoutMs: 2000 });
    remotes.push(writer);
    const wf = await writer.call('workflows:create', { name: uniqueName('reconnect'), dsl: dsls.v1 });

    const subs = await Promise.all(
      Array.from({ length: SUBSCRIBERS }, async () => {
        const remote = await openRemote({ url, token: ADMIN, backoff: { initialMs: 50, maxMs: 400 } });
        remotes.push(remote);
        const seen: RewindEvent[] = [];
        const states: SubscriptionState[] = [];
        remote.subscribe({ after: 0, onEvent: (e) => seen.push(e), onState: (st) => states.push(st) });
        return { seen, states };
      }),
    );

    let writing = true;
    let acknowledged = 0;
    const write = async () => {
      for (let i = 0; writing && i < 2000; i++) {
        try {
          await writer.call(i % 2 === 0 ? 'workflows:pause' : 'workflows:unpause', { workflow_id: wf.id });
          acknowledged += 1;
        } catch {
          // The server is down or the call raced the kill; the log decides what happened.
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writing$ = write();
    await eventually(() => acknowledged >= 30, 20_000, '30 writes before the kill');
    await killHard(child);
    const atKill = acknowledged;
    child = await start();
    await eventually(() => acknowledged >= atKill + 30, 30_000, '30 writes after the restart');
    writing = false;
    await writing$;

    const head = (await writer.call('events:verify', {})).length;
    const log = (await writer.call('events:list', { after: 0, limit: 10000 })).events;
    expect(log).toHaveLength(head);
    await eventually(() => subs.every((s) => s.seen.length >= head), 30_000, 'every subscriber at the head');
    for (const s of subs) {
      expect(s.seen.map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      expect(s.seen).toEqual(log);
      expect(s.states).toContain('reconnecting');
      expect(s.states[s.states.length - 1]).toBe('live');
    }
  });
});
