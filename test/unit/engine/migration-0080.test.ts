import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { onCleanup, tempDbPath } from './fixtures.js';

/** A file as Rewind left it before schedules fired: schema 50, with a started run, its resume and a replay. */
function schema50File(): Database.Database {
  const db = new Database(tempDbPath());
  onCleanup(() => void (db.open && db.close()));
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= 50));
  const ts = '2026-12-01T10:00:00.000Z';
  db.prepare("INSERT INTO workflows (id, name, source_type, status, schedule, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', '0 2 * * *', 1, 1, ?, ?)").run(ts, ts);
  db.prepare("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v1', 'w1', 1, '{}', 'active', 'ana', ?)").run(ts);
  const run = db.prepare("INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, created_by, created_at) VALUES (?, 'w1', 1, ?, ?, '{}', 7, '{}', ?, 'ana', ?)");
  run.run('r1', 'failed', 'start', null, ts);
  run.run('r2', 'succeeded', 'resume', 'r1', ts);
  run.run('r3', 'succeeded', 'replay', 'r1', ts);
  return db;
}

describe('migration 0080 (schedules that fire)', () => {
  it('gives old runs a trigger from their kind and no logical date, and claims a tick only once', () => {
    const db = schema50File();
    expect(migrate(db, migrations.filter((m) => m.version <= 80))).toEqual({ from: 50, to: 80 });
    expect(db.prepare('SELECT run_id, trigger, logical_date FROM runs ORDER BY run_id').all()).toEqual([
      { run_id: 'r1', trigger: 'manual', logical_date: null },
      { run_id: 'r2', trigger: 'resume', logical_date: null },
      { run_id: 'r3', trigger: 'replay', logical_date: null },
    ]);
    expect(() => db.prepare("UPDATE runs SET trigger = 'cron' WHERE run_id = 'r1'").run()).toThrow(/CHECK constraint/);
    const claim = db.prepare("INSERT INTO schedule_ticks (workflow_id, logical_date, trigger, run_id, claimed_at) VALUES ('w1', '2026-12-02T02:00:00.000Z', 'schedule', NULL, 'now')");
    claim.run();
    expect(() => claim.run()).toThrow(/UNIQUE constraint/);
    expect(() => db.prepare("INSERT INTO schedules (workflow_id, expression, catchup, last_tick, updated_at) VALUES ('w1', '0 2 * * *', 'sometimes', 'now', 'now')").run()).toThrow(/CHECK constraint/);
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });
});
