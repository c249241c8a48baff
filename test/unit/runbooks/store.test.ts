import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../main/engine/engine.js';
import type { RehearsalRecord, Runbook } from '../../../main/runbooks/schema.js';
import { RunbookStore } from '../../../main/runbooks/store.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

function openStore(): { store: RunbookStore; engine: Engine } {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-store-'));
  const engine = Engine.open({ path: join(dir, 'r.db') });
  cleanup.push(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let t = Date.parse('2026-11-24T10:00:00Z');
  return { store: new RunbookStore(engine.db, () => new Date((t += 1000))), engine };
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
  it('creates the runbooks and rehearsals tables (migration 30)', () => {
    const { engine } = openStore();
    expect(engine.schemaVersion).toBeGreaterThanOrEqual(30);
    const tables = (engine.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['runbooks', 'rehearsals']));
  });

  it('saves, lists and gets runbooks by id or name; saving the same name updates it', () => {
    const { store } = openStore();
    const first = store.saveRunbook(runbook, 'mina');
    expect(first).toMatchObject({ name: 'Level 1', level: 'application', runbook, created_by: 'mina' });
    const edited = store.saveRunbook({ ...runbook, description: 'edited' }, 'joon');
    expect(edited).toMatchObject({ id: first.id, created_by: 'mina', created_at: first.created_at, runbook: { description: 'edited' } });
    expect(edited.updated_at > first.updated_at).toBe(true);
    store.saveRunbook({ ...runbook, name: 'Another' }, 'mina');
    expect(store.listRunbooks().map((r) => r.name)).toEqual(['Another', 'Level 1']);
    expect(store.getRunbook(first.id)).toEqual(store.getRunbook('Level 1'));
  });

  it('refuses an invalid runbook with INVALID_RUNBOOK and an unknown one with RUNBOOK_NOT_FOUND', () => {
    const { store } = openStore();
    expect(() => store.saveRunbook({ ...runbook, steps: [] }, 'mina')).toThrow(expect.objectContaining({ code: 'INVALID_RUNBOOK', message: 'Runbook: steps: expected at least one step' }));
    expect(() => store.getRunbook('nope')).toThrow(expect.objectContaining({ code: 'RUNBOOK_NOT_FOUND' }));
    expect(() => store.getRehearsal('nope')).toThrow(expect.objectContaining({ code: 'REHEARSAL_NOT_FOUND' }));
  });

  it('keeps rehearsals newest first, and deleting a runbook deletes its history', () => {
    const { store } = openStore();
    store.saveRunbook(runbook, 'mina');
    const older = store.saveRehearsal('Level 1', record('2026-11-24T10:00:00.000Z', false), 'mina');
    const newer = store.saveRehearsal('Level 1', record('2026-11-24T11:00:00.000Z', true), 'joon');
    expect(store.listRehearsals('Level 1')).toEqual([newer, older]);
    expect(newer).toEqual({ ...record('2026-11-24T11:00:00.000Z', true), id: newer.id, runbook_id: store.getRunbook('Level 1').id, created_by: 'joon' });
    store.deleteRunbook('Level 1');
    expect(() => store.getRehearsal(newer.id)).toThrow(expect.objectContaining({ code: 'REHEARSAL_NOT_FOUND' }));
  });

  it('finds by id or name (null when missing), deletes with a count of rehearsals, and reports the runbook as rehearsed', () => {
    const { store } = openStore();
    expect(store.findRunbook('Level 1')).toBeNull();
    expect(store.deleteRunbook('Level 1')).toBeNull();
    const stored = store.saveRunbook(runbook, 'mina');
    expect(store.findRunbook(stored.id)).toEqual(stored);
    const kept = store.saveRehearsal(stored.id, record('2026-11-24T10:00:00.000Z', true), 'mina');
    store.saveRunbook({ ...runbook, steps: [{ kind: 'note', title: 'Rewritten', expected_ms: 1, text: 'x' }] }, 'joon');
    expect(store.rehearsedRunbook(kept.id)).toEqual(runbook);
    expect(() => store.saveRehearsal('Level 1', { ...record('2026-11-24T11:00:00.000Z', true), runbook_name: 'Other' }, 'mina')).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: 'The record is of runbook "Other", not "Level 1".' }),
    );
    expect(store.deleteRunbook('Level 1')).toEqual({ runbook: expect.objectContaining({ id: stored.id }), rehearsals: 1 });
  });
});
