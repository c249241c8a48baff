import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../../main/engine/store/sqlite/migrations/index.js';
import { onCleanup, tempDbPath } from './fixtures.js';

describe('migration 0060 (canaries)', () => {
  it('keeps every run (no draw recorded for the old ones) and lets a workflow hold one open canary at a time', () => {
    const db = new Database(tempDbPath());
    onCleanup(() => void (db.open && db.close()));
    db.pragma('foreign_keys = ON');
    migrate(db, migrations.filter((m) => m.version <= 50));
    const ts = '2026-12-01T10:00:00.000Z';
    db.prepare("INSERT INTO workflows (id, name, source_type, status, active_version, revision, created_at, updated_at) VALUES ('w1', 'etl', 'MANUAL', 'active', 1, 1, ?, ?)").run(ts, ts);
    const version = db.prepare("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES (?, 'w1', ?, '{}', ?, 'ana', ?)");
    version.run('v1', 1, 'active', ts);
    version.run('v2', 2, 'draft', ts);
    db.prepare("INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, created_by, created_at) VALUES ('r1', 'w1', 1, 'succeeded', 'start', '{}', 7, '{}', 'ana', ?)").run(ts);

    expect(migrate(db, migrations.filter((m) => m.version <= 60))).toEqual({ from: 50, to: 60 });
    expect(db.prepare('SELECT run_id, drawn_reason, verdicts FROM runs').all()).toEqual([{ run_id: 'r1', drawn_reason: null, verdicts: null }]);
    const canary = db.prepare("INSERT INTO canaries (canary_id, workflow_id, version, stable_version, percent, policy, state, started_at, started_by) VALUES (?, 'w1', 2, 1, 10, '{}', ?, ?, 'ana')");
    canary.run('c1', 'running', ts);
    expect(() => canary.run('c2', 'healthy', ts)).toThrow(/UNIQUE/);
    canary.run('c3', 'aborted', ts);
    expect(() => canary.run('c4', 'paused', ts)).toThrow(/CHECK constraint/);
    expect(() => db.prepare("INSERT INTO canaries (canary_id, workflow_id, version, stable_version, percent, policy, state, started_at, started_by) VALUES ('c5', 'w1', 9, 1, 10, '{}', 'aborted', ?, 'ana')").run(ts)).toThrow(/FOREIGN KEY/);
  });
});
