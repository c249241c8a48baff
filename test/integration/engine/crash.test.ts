import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';

/*
 * Invariant 5: an acknowledged write survives `kill -9`. A child process streams writes and prints
 * an acknowledgement after each commit; it is killed with SIGKILL at a random moment, 50 times over
 * the same file. After each kill the file must pass integrity_check, its hash chain must verify, and
 * every acknowledged write must be there.
 */

const KILLS = 50;
const writer = join(import.meta.dirname, 'crash-writer.ts');

interface Ack {
  k: string;
  [key: string]: unknown;
}

/** Runs the writer until it has acknowledged something, then kills it after a random short delay. */
function runAndKill(db: string): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, db], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (!armed && acks.some((a) => a.k === 'ready')) {
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

describe('crash safety (SIGKILL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`keeps every acknowledged write across ${KILLS} kills`, async () => {
    const db = join(dir, 'crash.db');
    let acknowledged = 0;
    for (let round = 0; round < KILLS; round += 1) {
      const acks = await runAndKill(db);
      acknowledged += acks.length;

      const raw = new Database(db);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      for (const a of acks) {
        if (a.k === 'draft') {
          expect(raw.prepare('SELECT version_id FROM workflow_versions WHERE workflow_id = ? AND version = ?').get(a.workflow_id, a.version), `round ${round}: draft ${String(a.version)}`).toEqual({
            version_id: a.version_id,
          });
        } else if (a.k === 'event') {
          const e = raw.prepare('SELECT type, payload FROM events WHERE seq = ?').get(a.seq) as { type: string; payload: string } | undefined;
          expect(e?.type, `round ${round}: event ${String(a.seq)}`).toBe(a.type);
          expect((JSON.parse(e!.payload) as { to_version: number }).to_version).toBe(a.to);
        } else if (a.k === 'run') {
          expect(raw.prepare('SELECT 1 AS ok FROM runs WHERE run_id = ?').get(a.run_id), `round ${round}: run`).toEqual({ ok: 1 });
        } else if (a.k === 'checkpoint') {
          expect(raw.prepare('SELECT 1 AS ok FROM checkpoints WHERE run_id = ? AND seq = ?').get(a.run_id, a.seq), `round ${round}: checkpoint ${String(a.seq)}`).toEqual({ ok: 1 });
        }
      }
      raw.close();

      // Reopening through the engine verifies the chain and interrupts the runs the kill cut short.
      const engine = await Engine.open({ path: db });
      expect(engine.chainAtOpen.ok).toBe(true);
      expect(await engine.store.read.get("SELECT COUNT(*) AS n FROM runs WHERE status IN ('queued', 'running')")).toEqual({ n: 0 });
      await engine.close();
    }
    console.log(`crash test: ${KILLS} kills, ${acknowledged} acknowledged writes all present`);
    expect(acknowledged).toBeGreaterThan(KILLS * 5);
  }, 240_000);
});
