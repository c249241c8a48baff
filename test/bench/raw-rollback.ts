import Database from 'better-sqlite3';

/** The statements a rollback commits, as one raw durable transaction (WAL, synchronous=FULL). */
export function rawRollbackCommit(path: string): { commit: (i: number) => void; close: () => void } {
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec(`CREATE TABLE w (id TEXT PRIMARY KEY, active_version INTEGER, revision INTEGER, updated_at TEXT);
    CREATE TABLE v (workflow_id TEXT, version INTEGER, status TEXT, PRIMARY KEY (workflow_id, version));
    CREATE TABLE e (seq INTEGER PRIMARY KEY, ts TEXT, type TEXT, workflow_id TEXT, actor TEXT, payload TEXT, prev_hash TEXT, hash TEXT);
    INSERT INTO w VALUES ('wf', 2, 1, ''); INSERT INTO v VALUES ('wf', 1, 'deprecated'), ('wf', 2, 'active');`);
  const setStatus = raw.prepare('UPDATE v SET status = ? WHERE workflow_id = ? AND version = ?');
  const setActive = raw.prepare('UPDATE w SET active_version = ?, revision = revision + 1, updated_at = ? WHERE id = ?');
  const insertEvent = raw.prepare('INSERT INTO e (ts, type, workflow_id, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const tx = raw.transaction((from: number, to: number) => {
    setStatus.run('deprecated', 'wf', from);
    setStatus.run('active', 'wf', to);
    setActive.run(to, new Date().toISOString(), 'wf');
    insertEvent.run(new Date().toISOString(), 'workflow_rollback', 'wf', 'bench', JSON.stringify({ from_version: from, to_version: to }), 'p', 'h');
  });
  return { commit: (i) => tx.immediate(i % 2 === 0 ? 2 : 1, i % 2 === 0 ? 1 : 2), close: () => raw.close() };
}
