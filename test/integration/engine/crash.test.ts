import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import { openStoreAt } from '../../support/open-store.js';
import { stores } from '../../support/stores.js';

/*
 * Invariant 5: an acknowledged write survives `kill -9`. A child process streams writes and prints
 * an acknowledgement after each commit; it is killed with SIGKILL at a random moment, 50 times over
 * the same store, on every store. After each kill a SQLite file must pass integrity_check, the hash
 * chain must verify, and every acknowledged write must be there.
 */

const KILLS = 50;
const writer = join(import.meta.dirname, 'crash-writer.ts');

interface Ack {
  k: string;
  [key: string]: unknown;
}

/** Runs the writer until it has acknowledged a write, then kills it after a random short delay. */
function runAndKill(location: string): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, location], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let buffer = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line) acks.push(JSON.parse(line) as Ack);
      // Armed at the first acknowledged write, not at `ready`: PostgreSQL's writes are slower than
      // SQLite's, and a round that acknowledged nothing would check nothing.
      if (!armed && acks.some((a) => a.k !== 'ready')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 120));
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (${String(_code)}): ${stderr}`));
      else resolve(acks);
    });
  });
}

describe.each(stores)('crash safety (SIGKILL) on $kind', (factory) => {
  afterAll(() => factory.dispose());

  it(`keeps every acknowledged write across ${KILLS} kills`, async () => {
    // Created and migrated here, so the writer's first start does not race the parent for it.
    await (await factory.open('crash')).close();
    const location = factory.location('crash');
    let acknowledged = 0;
    for (let round = 0; round < KILLS; round += 1) {
      const acks = await runAndKill(location);
      acknowledged += acks.length;

      if (factory.kind === 'sqlite') {
        const raw = new Database(location);
        expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
        raw.close();
      }
      const store = await openStoreAt(location);
      const row = (sql: string, ...params: Array<string | number>) => store.read.get(sql, params);
      for (const a of acks) {
        if (a.k === 'draft') {
          expect(await row('SELECT version_id FROM workflow_versions WHERE workflow_id = ? AND version = ?', a.workflow_id as string, a.version as number), `round ${round}: draft ${String(a.version)}`).toEqual({
            version_id: a.version_id,
          });
        } else if (a.k === 'event') {
          const e = (await row('SELECT type, payload FROM events WHERE seq = ?', a.seq as number)) as { type: string; payload: string } | undefined;
          expect(e?.type, `round ${round}: event ${String(a.seq)}`).toBe(a.type);
          expect((JSON.parse(e!.payload) as { to_version: number }).to_version).toBe(a.to);
        } else if (a.k === 'run') {
          expect(await row('SELECT 1 AS ok FROM runs WHERE run_id = ?', a.run_id as string), `round ${round}: run`).toEqual({ ok: 1 });
        } else if (a.k === 'checkpoint') {
          expect(await row('SELECT 1 AS ok FROM checkpoints WHERE run_id = ? AND seq = ?', a.run_id as string, a.seq as number), `round ${round}: checkpoint ${String(a.seq)}`).toEqual({ ok: 1 });
        }
      }

      // Reopening through the engine verifies the chain and interrupts the runs the kill cut short.
      const engine = await Engine.open({ store });
      expect(engine.chainAtOpen.ok).toBe(true);
      expect(await engine.store.read.get("SELECT COUNT(*) AS n FROM runs WHERE status IN ('queued', 'running')")).toEqual({ n: 0 });
      await engine.close();
    }
    console.log(`crash test (${factory.kind}): ${KILLS} kills, ${acknowledged} acknowledged writes all present`);
    expect(acknowledged).toBeGreaterThanOrEqual(KILLS * 2);
  }, 900_000);
});
