import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { onCleanup, tempDbPath } from './fixtures.js';

/** Migration 0090 on a file as Rewind left it at schema 50: workflows keep their rows; names are unique among registered ones only. */
describe('migration 0090 (unregister, workflows as code, templates)', () => {
  it('keeps every workflow registered, adds empty columns, and frees a name once its workflow is unregistered', () => {
    const db = new Database(tempDbPath());
    onCleanup(() => void (db.open && db.close()));
    migrate(db, migrations.filter((m) => m.version <= 50));
    const ts = '2026-12-01T10:00:00.000Z';
    const insert = db.prepare("INSERT INTO workflows (id, name, source_type, status, revision, created_at, updated_at) VALUES (?, 'etl', 'MANUAL', 'active', 1, ?, ?)");
    insert.run('w1', ts, ts);
    expect(migrate(db, migrations.filter((m) => m.version <= 90))).toEqual({ from: 50, to: 90 });
    expect(db.prepare('SELECT id, unregistered_at, code_file, template_name, template_version FROM workflows').all()).toEqual([
      { id: 'w1', unregistered_at: null, code_file: null, template_name: null, template_version: null },
    ]);
    // Still one registered workflow per name and source…
    expect(() => insert.run('w2', ts, ts)).toThrow(/UNIQUE constraint/);
    // …but an unregistered one leaves its name free.
    db.prepare('UPDATE workflows SET unregistered_at = ? WHERE id = ?').run(ts, 'w1');
    insert.run('w2', ts, ts);
    expect(db.prepare("SELECT COUNT(*) FROM workflows WHERE name = 'etl'").pluck().get()).toBe(2);
  });
});
