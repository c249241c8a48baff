import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, api, dsls, killHard, spawnServer, tempDir } from './harness.js';

const ADMIN = 'crash-admin-token-0123456789abcd';
const CYCLES = 10;
const WRITERS = 4;

type Ack =
  | { kind: 'draft'; workflow_id: string; version: number; version_id: string }
  | { kind: 'rollback' | 'publish'; workflow_id: string; version: number; seq: number }
  | { kind: 'run'; run_id: string };

/** Deterministic per cycle so a failure can be replayed; the kill moment varies within bounds. */
function killDelay(cycle: number): number {
  return 150 + ((cycle * 7919) % 600);
}

/**
 * SIGKILL during concurrent writes, many times: after each restart every acknowledged response's
 * effect is present (invariant 5), the chain verifies and the file passes integrity_check.
 */
describe('workflow server: crash during concurrent writes', () => {
  const dir = tempDir('rewind-crash-');
  const db = join(dir, 'rewind.db');
  let child: ChildServer | undefined;
  afterAll(async () => {
    if (child) await killHard(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged write across ${CYCLES} kills`, async () => {
    const acks: Ack[] = [];
    let workflowId = '';
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      child = await spawnServer(['--db', db, '--port', '0'], { REWIND_ADMIN_TOKEN: ADMIN });
      const url = child.url;
      if (cycle === 0) {
        const created = await api(url, ADMIN, 'POST', '/api/v1/workflows', { name: 'crash-target', dsl: dsls.v1 });
        workflowId = (created.json as { id: string }).id;
        await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/versions`, { dsl: dsls.v2 });
        await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/versions/2/publish`);
      }
      // What the previous cycles acknowledged must all be here.
      await verify(url, acks);

      let alive = true;
      const writer = async (n: number) => {
        for (let i = 0; alive && i < 500; i++) {
          try {
            const op = (n + i) % 4;
            if (op === 0) {
              const r = await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/versions`, { change_log: `cycle ${cycle} writer ${n} op ${i}` });
              if (r.status === 200) {
                const v = r.json as { version: number; version_id: string };
                acks.push({ kind: 'draft', workflow_id: workflowId, version: v.version, version_id: v.version_id });
              }
            } else if (op === 1 || op === 2) {
              const target = op === 1 ? 1 : 2;
              const r = await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/versions/${target}/rollback`);
              if (r.status === 200) acks.push({ kind: 'rollback', workflow_id: workflowId, version: target, seq: (r.json as { seq: number }).seq });
            } else {
              const r = await api(url, ADMIN, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params: { cycle } });
              if (r.status === 200) acks.push({ kind: 'run', run_id: (r.json as { run_id: string }).run_id });
            }
          } catch {
            return; // the connection died with the server: anything unanswered is unacknowledged
          }
        }
      };
      const writers = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n)));
      await new Promise((r) => setTimeout(r, killDelay(cycle)));
      child.proc.kill('SIGKILL');
      alive = false;
      await child.exited;
      await writers;
    }
    child = await spawnServer(['--db', db, '--port', '0'], { REWIND_ADMIN_TOKEN: ADMIN });
    await verify(child.url, acks);
    expect(acks.length).toBeGreaterThan(CYCLES * 5);
    await killHard(child);
    child = undefined;
    const check = new Database(db, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  });
});

async function verify(url: string, acks: Ack[]): Promise<void> {
  const chain = await api(url, ADMIN, 'GET', '/api/v1/events/verify');
  expect(chain.json).toMatchObject({ ok: true });
  const events = (await api(url, ADMIN, 'GET', '/api/v1/events?after=0&limit=10000')).json as { events: Array<{ seq: number; type: string; payload: Record<string, unknown> }> };
  const bySeq = new Map(events.events.map((e) => [e.seq, e]));
  for (const ack of acks) {
    if (ack.kind === 'draft') {
      const v = await api(url, ADMIN, 'GET', `/api/v1/workflows/${ack.workflow_id}/versions/${ack.version}`);
      expect(v.status).toBe(200);
      expect((v.json as { version_id: string }).version_id).toBe(ack.version_id);
    } else if (ack.kind === 'run') {
      expect((await api(url, ADMIN, 'GET', `/api/v1/runs/${ack.run_id}`)).status).toBe(200);
    } else {
      expect(bySeq.get(ack.seq)).toMatchObject({ type: 'workflow_rollback', payload: { to_version: ack.version } });
    }
  }
}
