import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { onCleanup, tempDbPath } from './fixtures.js';

describe('migration 0110 (backfill limits, refused code files)', () => {
  it('keeps old tick claims as started (not pending) and holds a backfill limit and a refusal per file', () => {
    const db = new Database(tempDbPath());
    onCleanup(() => void (db.open && db.close()));
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.filter((m) => m.version <= 100));
    const ts = '2026-12-01T10:00:00.000Z';
    db.prepare("INSERT INTO workflows (id, name, source_type, status, schedule, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', '0 2 * * *', 1, 1, ?, ?)").run(ts, ts);
    db.prepare("INSERT INTO schedule_ticks (workflow_id, logical_date, trigger, run_id, claimed_at) VALUES ('w1', '2026-11-30T02:00:00.000Z', 'backfill', NULL, ?)").run(ts);
    expect(migrate(db, migrations.filter((m) => m.version <= 110))).toEqual({ from: 100, to: 110 });
    expect(db.prepare('SELECT backfill_id, pending FROM schedule_ticks').all()).toEqual([{ backfill_id: null, pending: 0 }]);
    expect(() => db.prepare("INSERT INTO backfills (backfill_id, workflow_id, max_concurrent, created_by, created_at) VALUES ('b0', 'w1', 0, 'ana', 'now')").run()).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO backfills (backfill_id, workflow_id, max_concurrent, created_by, created_at) VALUES ('b1', 'w1', 2, 'ana', 'now')").run();
    db.prepare("INSERT INTO schedule_ticks (workflow_id, logical_date, trigger, run_id, claimed_at, backfill_id, pending) VALUES ('w1', '2026-12-01T02:00:00.000Z', 'backfill', NULL, 'now', 'b1', 1)").run();
    expect(() => db.prepare("UPDATE schedule_ticks SET pending = 2 WHERE backfill_id = 'b1'").run()).toThrow(/CHECK constraint/);
    const refuse = db.prepare("INSERT INTO code_file_refusals (file, hash, refused_at) VALUES ('etl.yaml', 'abc', 'now')");
    refuse.run();
    expect(() => refuse.run()).toThrow(/UNIQUE constraint/);
    expect(db.pragma('foreign_key_check')).toEqual([]);
  });
});
