import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { onCleanup, tempDbPath } from './fixtures.js';

/** A file as Rewind left it before runs could wait: schema 30, with a parent run, a resumed child and their checkpoints. */
function schema30File(): Database.Database {
  const db = new Database(tempDbPath());
  onCleanup(() => void (db.open && db.close()));
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= 30));
  const ts = '2026-12-01T10:00:00.000Z';
  db.prepare("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', 1, 1, ?, ?)").run(ts, ts);
  db.prepare("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v1', 'w1', 1, '{}', 'active', 'ana', ?)").run(ts);
  const run = db.prepare(
    "INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, created_by, created_at) VALUES (?, 'w1', 1, ?, ?, '{}', 7, '{}', ?, 'ana', ?)",
  );
  run.run('r1', 'failed', 'start', null, ts);
  run.run('r2', 'succeeded', 'resume', 'r1', ts);
  db.prepare("INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES ('r1', 1, 'ingest', 'succeeded', '{}', ?)").run(ts);
  return db;
}

describe('migration 0050 (runs may wait for an approval)', () => {
  it('keeps every run, its order, references and indexes, and accepts the waiting status', () => {
    const db = schema30File();
    const before = db.prepare('SELECT rowid, * FROM runs ORDER BY rowid').all();
    const checkpoints = db.prepare('SELECT * FROM checkpoints').all();
    expect(migrate(db, migrations.filter((m) => m.version <= 50))).toEqual({ from: 30, to: 50 });
    expect(db.prepare('SELECT rowid, * FROM runs ORDER BY rowid').all()).toEqual(before);
    expect(db.prepare('SELECT * FROM checkpoints').all()).toEqual(checkpoints);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND name LIKE 'runs_by_%' ORDER BY name").pluck().all()).toEqual([
      'runs_by_parent',
      'runs_by_status',
      'runs_by_workflow',
    ]);
    db.prepare("UPDATE runs SET status = 'waiting' WHERE run_id = 'r1'").run();
    expect(() => db.prepare("UPDATE runs SET status = 'sleeping' WHERE run_id = 'r1'").run()).toThrow(/CHECK constraint/);
    // The references still bite: a checkpoint of no run, or a child of no parent, is refused.
    expect(() => db.prepare("INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at) VALUES ('nope', 1, 'x', 'succeeded', '{}', 'now')").run()).toThrow(/FOREIGN KEY/);
    expect(() =>
      db.prepare("INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, created_by, created_at) VALUES ('r3', 'w1', 1, 'queued', 'resume', '{}', 1, '{}', 'ghost', 'ana', 'now')").run(),
    ).toThrow(/FOREIGN KEY/);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'runs'").pluck().get()).toMatch(/REFERENCES "?runs"? \(run_id\)/);
  });
});
