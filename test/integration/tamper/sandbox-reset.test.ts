import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERIFIED_HEADS_FILE } from '../../../main/ipc/connections/connection-manager.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import type { ApiResult, ConnectionInfo, RewindEvent } from '../../../preload/contract/index.js';
import { onCleanup, tempDir } from '../ipc/helpers.js';
import { deleteNewest } from './tamper-fixtures.js';

/*
 * No false alarm: the console's own "Reset sandbox to the demo" replaces the log it verified on
 * purpose, so it forgets that head and records the reset in the new log — no red banner, now or
 * after a reload. A log cut short by anything else is still caught, before and after a reset.
 */

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const openAt = async (dir: string) => {
  const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), timeScale: 0, demo: true }, connectionsDir: dir, createRemote: createRemoteBackend });
  onCleanup(() => opened.close());
  return opened;
};
const sandboxOf = (opened: Awaited<ReturnType<typeof openAt>>): ConnectionInfo => opened.connections.list().find((c) => c.id === 'sandbox')!;
const remembered = (dir: string) => (JSON.parse(readFileSync(join(dir, VERIFIED_HEADS_FILE), 'utf8')) as { heads: Record<string, { seq: number; hash: string }> }).heads.sandbox;

describe('tamper evidence and the console’s own sandbox reset', () => {
  it('a reset by this console raises no alarm, is recorded in the new log, and a reload stays quiet', async () => {
    const dir = tempDir();
    const first = await openAt(dir);
    // The operator works a while: the verified head moves past where a fresh demo ends.
    const { workflows } = value(await first.service.handle('workflows:list', {})) as { workflows: Array<{ id: string; name: string }> };
    const etl = workflows.find((w) => w.name === 'nightly-orders-etl')!;
    for (let i = 0; i < 5; i++) value(await first.service.handle('runs:start', { workflow_id: etl.id, wait: true }));
    const before = value(await first.service.handle('events:head', {})) as { seq: number; hash: string };
    expect(sandboxOf(first).alarm).toBeNull();

    const lost = value(await first.service.handle('sandbox:reset', {})) as { kept_as: string };
    expect(sandboxOf(first).alarm).toBeNull();
    const head = value(await first.service.handle('events:head', {})) as { seq: number; hash: string };
    const { events } = value(await first.service.handle('events:list', { after: head.seq - 1 })) as { events: RewindEvent[] };
    expect(events[0]).toMatchObject({ type: 'sandbox_reset', payload: { previous_head: { seq: before.seq, hash: before.hash }, kept_as: lost.kept_as, by: 'console' } });
    await first.close();
    expect(remembered(dir)).toMatchObject({ seq: head.seq, hash: head.hash });

    // A reload (the console started again) verifies the new log against the new head: no banner.
    const second = await openAt(dir);
    expect(sandboxOf(second).alarm).toBeNull();
  });

  it('a log truncated by another process is still caught, after a reset as before one', async () => {
    const dir = tempDir();
    const first = await openAt(dir);
    value(await first.service.handle('sandbox:reset', {}));
    await first.close();
    deleteNewest(join(dir, 'sandbox.db'), 3);
    const second = await openAt(dir);
    expect(sandboxOf(second).alarm).toMatchObject({ code: 'LOG_TRUNCATED', message: expect.stringMatching(/no longer has event \d+/) });
  });
});
