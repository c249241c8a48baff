import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import type { RehearsalRecord, Runbook } from '../../../main/engine/runbooks/format.js';
import { RunbookStore } from '../../../main/engine/runbooks/store.js';
import { sqliteDb } from '../engine/fixtures.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function openStore(): Promise<{ store: RunbookStore; engine: Engine }> {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-store-'));
  const engine = await Engine.open({ path: join(dir, 'r.db') });
  cleanup.push(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let t = Date.parse('2026-11-24T10:00:00Z');
  return { store: new RunbookStore(() => engine.q(), () => new Date((t += 1000))), engine };
}

const runbook: Runbook = { name: 'Level 1', description: 'd', level: 'application', steps: [{ kind: 'note', title: 'Read', expected_ms: 1000, text: 'hi' }] };

const record = (startedAt: string, passed: boolean): RehearsalRecord => ({
  runbook_name: 'Level 1',
  scenario: 'ml-registry-outage',
  started_at: startedAt,
  finished_at: startedAt,
  total_ms: 1234,
  passed,
  steps: [{ index: 1, title: 'Read', kind: 'note', outcome: passed ? 'passed' : 'failed', expected_ms: 1000, duration_ms: 1234, detail: 'read' }],
  rollbacks: [{ workflow: 'ml-training-pipeline', from_version: 4, to_version: 3 }],
});

describe('RunbookStore', () => {
  it('creates the runbooks and rehearsals tables (migration 30)', async () => {
    const { engine } = await openStore();
    expect(engine.schemaVersion).toBeGreaterThanOrEqual(30);
    const tables = (sqliteDb(engine).prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['runbooks', 'rehearsals']));
  });

  it('saves, lists and gets runbooks by id or name; saving the same name updates it', async () => {
    const { store } = await openStore();
    const first = await store.saveRunbook(runbook, 'mina');
    expect(first).toMatchObject({ name: 'Level 1', level: 'application', runbook, created_by: 'mina' });
    const edited = await store.saveRunbook({ ...runbook, description: 'edited' }, 'joon');
    expect(edited).toMatchObject({ id: first.id, created_by: 'mina', created_at: first.created_at, runbook: { description: 'edited' } });
    expect(edited.updated_at > first.updated_at).toBe(true);
    await store.saveRunbook({ ...runbook, name: 'Another' }, 'mina');
    expect((await store.listRunbooks()).map((r) => r.name)).toEqual(['Another', 'Level 1']);
    expect(await store.getRunbook(first.id)).toEqual(await store.getRunbook('Level 1'));
  });

  it('refuses an invalid runbook with INVALID_RUNBOOK and an unknown one with RUNBOOK_NOT_FOUND', async () => {
    const { store } = await openStore();
    await expect(store.saveRunbook({ ...runbook, steps: [] }, 'mina')).rejects.toThrow(expect.objectContaining({ code: 'INVALID_RUNBOOK', message: 'Runbook: steps: expected at least one step' }));
    await expect(store.getRunbook('nope')).rejects.toThrow(expect.objectContaining({ code: 'RUNBOOK_NOT_FOUND' }));
    await expect(store.getRehearsal('nope')).rejects.toThrow(expect.objectContaining({ code: 'REHEARSAL_NOT_FOUND' }));
  });

  it('keeps rehearsals newest first, and deleting a runbook deletes its history', async () => {
    const { store } = await openStore();
    await store.saveRunbook(runbook, 'mina');
    const older = await store.saveRehearsal('Level 1', record('2026-11-24T10:00:00.000Z', false), 'mina');
    const newer = await store.saveRehearsal('Level 1', record('2026-11-24T11:00:00.000Z', true), 'joon');
    expect(await store.listRehearsals('Level 1')).toEqual([newer, older]);
    expect(newer).toEqual({ ...record('2026-11-24T11:00:00.000Z', true), id: newer.id, runbook_id: (await store.getRunbook('Level 1')).id, created_by: 'joon' });
    await store.deleteRunbook('Level 1');
    await expect(store.getRehearsal(newer.id)).rejects.toThrow(expect.objectContaining({ code: 'REHEARSAL_NOT_FOUND' }));
  });

  it('finds by id or name (null when missing), deletes with a count of rehearsals, and reports the runbook as rehearsed', async () => {
    const { store } = await openStore();
    expect(await store.findRunbook('Level 1')).toBeNull();
    expect(await store.deleteRunbook('Level 1')).toBeNull();
    const stored = await store.saveRunbook(runbook, 'mina');
    expect(await store.findRunbook(stored.id)).toEqual(stored);
    const kept = await store.saveRehearsal(stored.id, record('2026-11-24T10:00:00.000Z', true), 'mina');
    await store.saveRunbook({ ...runbook, steps: [{ kind: 'note', title: 'Rewritten', expected_ms: 1, text: 'x' }] }, 'joon');
    expect(await store.rehearsedRunbook(kept.id)).toEqual(runbook);
    await expect(store.saveRehearsal('Level 1', { ...record('2026-11-24T11:00:00.000Z', true), runbook_name: 'Other' }, 'mina')).rejects.toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: 'The record is of runbook "Other", not "Level 1".' }),
    );
    expect(await store.deleteRunbook('Level 1')).toEqual({ runbook: expect.objectContaining({ id: stored.id }), rehearsals: 1 });
  });
});
