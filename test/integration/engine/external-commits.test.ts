import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import type { RewindEvent } from '../../../preload/contract/entities.js';

/*
 * An operator scripts with the CLI while the console is open on the same sandbox: the console's
 * subscribers must hear the CLI's changes too, live, once each and in chain order.
 */

const repo = join(import.meta.dirname, '../../..');

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('commits by another process', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('reach this process’s subscribers in seq order, interleaved with its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-external-'));
    dirs.push(dir);
    const path = join(dir, 'sandbox.db');
    const consoleSide = await openSandbox({ path, demo: true, actor: 'console' });
    const seen: RewindEvent[] = [];
    const stop = consoleSide.subscribe({ after: await consoleSide.engine.latestSeq(), onEvent: (e) => seen.push(e) });
    try {
      const { workflows } = await consoleSide.call('workflows:list', {});
      const ml = workflows.find((w) => w.name === 'ml-training-pipeline')!;

      const cli = (...args: string[]) => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'main/cli/index.ts'), '--db', path, '--json', ...args], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      };

      // The CLI, in its own process, rolls the ML pipeline back: the console hears of it by itself.
      cli('rollback', ml.id, '3');
      // Verify walks the log as stored, not only as far as this process has heard yet (it stopped there before).
      const head = await consoleSide.engine.store.read.get<{ seq: number }>('SELECT MAX(seq) AS seq FROM events');
      expect(await consoleSide.call('events:verify', {})).toMatchObject({ ok: true, length: head!.seq });
      // The rollback also mitigates the demo's open incident on that workflow, in the same commit.
      await until(() => seen.length === 2, 5000);
      expect(seen[0]).toMatchObject({ type: 'workflow_rollback', payload: { from_version: 4, to_version: 3 } });
      expect(seen[1]).toMatchObject({ type: 'incident_mitigated', payload: { action: 'rollback' } });

      // The console pauses, then the CLI unpauses: heard in chain order.
      await consoleSide.call('workflows:pause', { workflow_id: ml.id });
      cli('unpause', ml.id);
      await until(() => seen.length === 4, 5000);
      expect(seen.map((e) => e.type)).toEqual(['workflow_rollback', 'incident_mitigated', 'workflow_paused', 'workflow_unpaused']);
      expect(seen.map((e) => e.seq)).toEqual([0, 1, 2, 3].map((i) => seen[0]!.seq + i));
    } finally {
      stop();
      await consoleSide.close();
    }
  });
});
