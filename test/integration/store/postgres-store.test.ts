import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { RewindError } from '../../../main/engine/errors.js';
import { RunbookStore } from '../../../main/engine/runbooks/store.js';
import { type PostgresStore, openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { latestSchemaVersion, migrations } from '../../../main/engine/store/postgres/migrations/index.js';
import { httpStatusOf } from '../../../preload/contract/errors.js';
import { freePort } from '../../../scripts/local-postgres.js';
import { freshDatabase, sharedServerUrl, terminateSessions, withDatabase } from '../../support/postgres.js';
import { eventually } from '../server/harness.js';

/* What only the PostgreSQL adapter has: its migrations, its settings, its LISTEN connection, its retries. */

const stores: PostgresStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
async function open(url: string, replicaId?: string): Promise<PostgresStore> {
  const store = await openPostgresStore({ url, ...(replicaId ? { replicaId } : {}) });
  stores.push(store);
  return store;
}

/** The refusal `promise` ends with, checked to be a clear, typed one (never "a bug in Rewind"). */
async function refusal(promise: Promise<unknown>, code: string): Promise<RewindError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RewindError);
  const r = err as RewindError;
  expect(r.code).toBe(code);
  expect(r.hint.length).toBeGreaterThan(10);
  expect(`${r.message} ${r.hint}`).not.toMatch(/bug in Rewind/i);
  return r;
}

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function tables(url: string): Promise<string[]> {
  const rows = await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  return rows.map((r) => r.t);
}

describe('PostgreSQL migrations', () => {
  it('build the schema on a fresh database: versions recorded, the chain head seeded, events append-only', async () => {
    const url = await freshDatabase('migrate');
    const store = await open(url);
    expect(store.schemaVersion).toBe(latestSchemaVersion);
    expect(await tables(url)).toEqual([
      'backfills',
      'canaries',
      'chain_head',
      'chain_verified',
      'checkpoints',
      'code_file_refusals',
      'events',
      'idempotency_keys',
      'incidents',
      'meta',
      'open_failures',
      'rehearsals',
      'retention_lease',
      'review_requests',
      'run_counts',
      'run_durations',
      'run_verdicts',
      'run_version_stats',
      'runbooks',
      'runners',
      'runs',
      'schedule_ticks',
      'schedules',
      'schema_migrations',
      'server_identity',
      'tokens',
      'webhook_deliveries',
      'webhooks',
      'workflow_versions',
      'workflows',
    ]);
    expect(await store.read.all('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(migrations.map(({ version, name }) => ({ version, name })));
    expect(await store.read.all('SELECT id, seq, hash FROM chain_head')).toEqual([{ id: 1, seq: 0, hash: '0'.repeat(64) }]);

    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (1, 'ts', 't', 'a', '{}', 'p', 'h')");
    });
    for (const statement of ["UPDATE events SET type = 'x'", 'DELETE FROM events', 'TRUNCATE events']) {
      await expect(store.transaction((tx) => tx.run(statement))).rejects.toThrow('events are append-only');
    }
    expect(await store.read.get('SELECT count(*) AS n FROM events')).toEqual({ n: 1 });
  });

  it("keep a rehearsal's conditions (0040) as SQLite does: a fractional time scale, the two flags, none on an older row", async () => {
    const store = await open(await freshDatabase('conditions'));
    const runbooks = new RunbookStore(() => store.read, () => new Date('2026-11-24T10:00:00Z'));
    await runbooks.saveRunbook({ name: 'Level 1', description: 'd', level: 'application', steps: [{ kind: 'note', title: 'Read', expected_ms: 1000, text: 'hi' }] }, 'mina');
    const base = {
      runbook_name: 'Level 1',
      scenario: null,
      started_at: '2026-11-24T10:00:00.000Z',
      finished_at: '2026-11-24T10:00:01.000Z',
      total_ms: 1000,
      passed: true,
      steps: [{ index: 1, title: 'Read', kind: 'note' as const, outcome: 'passed' as const, expected_ms: 1000, duration_ms: 1000, detail: 'read' }],
      rollbacks: [],
    };
    const kept = await runbooks.saveRehearsal('Level 1', { ...base, time_scale: 0.001, auto_executed: false, scratch_copy: true }, 'mina');
    expect(await runbooks.getRehearsal(kept.id)).toMatchObject({ time_scale: 0.001, auto_executed: false, scratch_copy: true });
    const older = await runbooks.saveRehearsal('Level 1', base, 'mina');
    expect(await store.read.get('SELECT time_scale, auto_executed, scratch_copy FROM rehearsals WHERE id = ?', [older.id])).toEqual({ time_scale: null, auto_executed: null, scratch_copy: null });
    expect(await runbooks.getRehearsal(older.id)).toMatchObject({ time_scale: undefined, auto_executed: undefined, scratch_copy: undefined });
    await expect(store.read.run('UPDATE rehearsals SET scratch_copy = 2')).rejects.toMatchObject({ code: '23514' });
  });

  it('hold invariant 1 in the database: a second active version of a workflow is refused', async () => {
    const store = await open(await freshDatabase('one_active'));
    const now = new Date().toISOString();
    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO workflows (id, name, source_type, status, revision, created_at, updated_at) VALUES ('w', 'w', 'MANUAL', 'active', 1, ?, ?)", [now, now]);
      await tx.run("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v1', 'w', 1, '{}', 'active', 'x', ?)", [now]);
    });
    const second = store.transaction((tx) =>
      tx.run("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v2', 'w', 2, '{}', 'active', 'x', ?)", [now]),
    );
    await expect(second).rejects.toMatchObject({ code: '23505' });
  });

  it('let a run wait for an approval (0050): status waiting is accepted, an unknown status still refused', async () => {
    const url = await freshDatabase('waiting');
    const store = await open(url);
    const now = new Date().toISOString();
    const insertRun = (id: string, status: string) =>
      store.transaction((tx) =>
        tx.run("INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, created_by, created_at) VALUES (?, 'w', 1, ?, 'start', '{}', 1, '{}', 'x', ?)", [id, status, now]),
      );
    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO workflows (id, name, source_type, status, revision, created_at, updated_at) VALUES ('w', 'w', 'MANUAL', 'active', 1, ?, ?)", [now, now]);
      await tx.run("INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, status, created_by, created_at) VALUES ('v1', 'w', 1, '{}', 'active', 'x', ?)", [now]);
    });
    await insertRun('r1', 'waiting');
    expect(await store.read.all('SELECT run_id, status FROM runs')).toEqual([{ run_id: 'r1', status: 'waiting' }]);
    await expect(insertRun('r2', 'sleeping')).rejects.toMatchObject({ code: '23514' });
  });

  it('re-open idempotently, keeping the data and applying nothing twice', async () => {
    const url = await freshDatabase('reopen');
    const first = await open(url);
    await first.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('kept', 'yes')"));
    await first.close();
    const again = await open(url);
    expect(again.schemaVersion).toBe(latestSchemaVersion);
    expect(await again.read.get('SELECT count(*) AS n FROM schema_migrations')).toEqual({ n: migrations.length });
    expect(await again.read.all('SELECT key, value FROM meta')).toEqual([{ key: 'kept', value: 'yes' }]);
  });

  it('refuse a database from a newer Rewind with SCHEMA_TOO_NEW and leave it untouched', async () => {
    const url = await freshDatabase('too_new');
    await sql(url, 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    await sql(url, "INSERT INTO schema_migrations VALUES (990, 'from-the-future', 'then')");
    const err = await refusal(openPostgresStore({ url }), 'SCHEMA_TOO_NEW');
    expect(err.message).toContain('schema version 990');
    expect(err.hint).toContain('was not changed');
    expect(err.details).toEqual({ schema_version: 990, supported: latestSchemaVersion });
    expect(await tables(url)).toEqual(['schema_migrations']);
    expect(await sql(url, 'SELECT version, name, applied_at FROM schema_migrations')).toEqual([{ version: 990, name: 'from-the-future', applied_at: 'then' }]);
  });

  it('serialize replicas that start at once: every one opens, each migration applied once', async () => {
    const url = await freshDatabase('concurrent');
    const opened = await Promise.all([1, 2, 3, 4].map((i) => open(url, `starter-${i}`)));
    expect(opened.map((s) => s.schemaVersion)).toEqual([latestSchemaVersion, latestSchemaVersion, latestSchemaVersion, latestSchemaVersion]);
    expect(await opened[0]!.read.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual(migrations.map(({ version }) => ({ version })));
    expect(await opened[3]!.read.get('SELECT count(*) AS n FROM chain_head')).toEqual({ n: 1 });
  });
});

describe('PostgreSQL settings', () => {
  it('refuses what is not a PostgreSQL URL, naming what is wrong', async () => {
    for (const url of ['./rewind.db', 'mysql://u:p@h/db', 'postgres://', 'postgres://u:secret@127.0.0.1:5432']) {
      const err = await refusal(openPostgresStore({ url }), 'INVALID_DATABASE_URL');
      expect(err.message).not.toContain('secret');
    }
  });

  it('says a wrong password is a wrong password, without echoing it', async () => {
    const url = new URL(await freshDatabase('password'));
    url.password = 'not-the-password';
    const err = await refusal(openPostgresStore({ url: url.href }), 'STORE_AUTH_FAILED');
    expect(err.message).toContain('refused user "postgres"');
    expect(`${err.message} ${err.hint}`).not.toContain('not-the-password');
  });

  it('says a missing database is missing, and how to create it', async () => {
    const err = await refusal(openPostgresStore({ url: withDatabase(await sharedServerUrl(), 'no_such_db') }), 'STORE_DATABASE_MISSING');
    expect(err.message).toContain('no database "no_such_db"');
    expect(err.hint).toContain('createdb no_such_db');
  });

  it('says an unreachable host or port cannot be reached (a 503-coded refusal)', async () => {
    const port = await freePort();
    const err = await refusal(openPostgresStore({ url: `postgres://postgres:x@127.0.0.1:${port}/rewind` }), 'STORE_UNAVAILABLE');
    expect(err.message).toContain(`Cannot reach PostgreSQL at 127.0.0.1:${port}`);
    expect(httpStatusOf(err.code)).toBe(503);
  });
});

describe('the PostgreSQL LISTEN connection', () => {
  it('comes back by itself after pg_terminate_backend and wakes its listeners, then hears commits again', async () => {
    const url = await freshDatabase('listen');
    const listening = await open(url, 'listen-a');
    const writer = await open(url, 'listen-b');
    const woke = () => new Promise<void>((resolve) => {
      const off = listening.onExternalCommit(() => {
        off();
        resolve();
      });
    });

    // A lost connection may have missed notifications: once back, the listeners re-read.
    const afterLoss = woke();
    expect(await terminateSessions(url, 'rewind-listen:listen-a')).toBe(1);
    await afterLoss;
    expect(listening.healthy).toBe(true);

    const afterCommit = woke();
    await writer.transaction(async (tx) => {
      const head = await tx.lockHead();
      await tx.run("INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (?, 'ts', 't', 'a', '{}', ?, 'h1')", [head.seq + 1, head.hash]);
      await tx.setHead({ seq: head.seq + 1, hash: 'h1' });
    });
    await afterCommit;
  });
});

describe('PostgreSQL notifications', () => {
  it('wake a store for other instances’ commits only, not for its own', async () => {
    const url = await freshDatabase('own');
    const store = await open(url, 'own-a');
    const other = await open(url, 'own-b');
    const appendOn = (s: PostgresStore, hash: string) =>
      s.transaction(async (tx) => {
        const head = await tx.lockHead();
        await tx.run("INSERT INTO events (seq, ts, type, actor, payload, prev_hash, hash) VALUES (?, 'ts', 't', 'a', '{}', ?, ?)", [head.seq + 1, head.hash, hash]);
        await tx.setHead({ seq: head.seq + 1, hash });
      });
    let wakes = 0;
    let woken!: () => void;
    const otherHeard = new Promise<void>((r) => (woken = r));
    store.onExternalCommit(() => {
      wakes++;
      woken();
    });
    await appendOn(store, 'own');
    await appendOn(other, 'theirs');
    // One LISTEN connection delivers in commit order: our own commit's notice came first, and was skipped.
    await otherHeard;
    expect(wakes).toBe(1);
  });

  it('move the head and notify with the commit only: a unit that fails after setHead moves nothing and wakes nobody', async () => {
    const url = await freshDatabase('head_commit');
    const listening = await open(url, 'head-listening');
    const writer = await open(url, 'head-writer');
    const notified: string[] = [];
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      client.on('notification', (msg) => notified.push(msg.payload ?? ''));
      await client.query('LISTEN rewind_events');
      let wakes = 0;
      listening.onExternalCommit(() => wakes++);

      await expect(
        writer.transaction(async (tx) => {
          const head = await tx.lockHead();
          await tx.setHead({ seq: head.seq + 1, hash: 'never' });
          // A second lock in the same unit sees the head it set.
          expect(await tx.lockHead()).toEqual({ seq: 1, hash: 'never' });
          throw new Error('changed its mind');
        }),
      ).rejects.toThrow('changed its mind');
      // Any text is a hash to the store: quoted, it reaches the row as it was.
      const odd = "it's; COMMIT; --";
      await writer.transaction(async (tx) => {
        const head = await tx.lockHead();
        await tx.setHead({ seq: head.seq + 1, hash: odd });
      });
      // Notifications arrive in commit order: once the committed unit's is here, a failed one's would be too.
      await eventually(() => notified.length >= 1 && wakes >= 1, 10_000, 'the commit notified');
      expect(notified).toEqual(['1']);
      expect(wakes).toBe(1);
      expect(await listening.transaction((tx) => tx.lockHead())).toEqual({ seq: 1, hash: odd });
      // The pooled connection came back clean: the next unit starts its own transaction.
      expect(await writer.transaction((tx) => tx.get<{ n: number }>('SELECT count(*) AS n FROM chain_head'))).toEqual({ n: 1 });
    } finally {
      await client.end();
    }
  });
});

describe('PostgreSQL units of work', () => {
  it('re-run a unit of work that lost a serialization conflict, so both increments land', async () => {
    const url = await freshDatabase('retry');
    const a = await open(url, 'retry-a');
    const b = await open(url, 'retry-b');
    await a.transaction((tx) => tx.run("INSERT INTO meta (key, value) VALUES ('counter', '0')"));
    let runs = 0;
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const increment = (store: PostgresStore) =>
      store.transaction(async (tx) => {
        runs++;
        await tx.run('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
        const row = await tx.get<{ value: string }>("SELECT value FROM meta WHERE key = 'counter'");
        // The first attempts both read before either writes: one of them must lose and be re-run.
        if (++arrived === 2) release();
        await bothRead;
        await tx.run("UPDATE meta SET value = ? WHERE key = 'counter'", [String(Number(row!.value) + 1)]);
      });
    await Promise.all([increment(a), increment(b)]);
    expect(await a.read.get("SELECT value FROM meta WHERE key = 'counter'")).toEqual({ value: '2' });
    expect(runs).toBe(3);
  });

  it('do not let a frozen unit of work hold the chain head for ever', async () => {
    const url = await freshDatabase('frozen');
    const frozen = await openPostgresStore({ url, replicaId: 'frozen', idleInTransactionTimeoutMs: 300 });
    stores.push(frozen);
    const other = await open(url, 'alive');
    let thawed!: () => void;
    const thaw = new Promise<void>((r) => (thawed = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const stuck = frozen.transaction(async (tx) => {
      const head = await tx.lockHead();
      held();
      await thaw;
      await tx.setHead({ seq: head.seq + 1, hash: 'never' });
    });
    stuck.catch(() => undefined);
    // The frozen unit holds the head first (whichever store connects first would otherwise win it).
    await holding;
    // Blocks behind the frozen unit until the server ends its session, then appends.
    const appended = await other.transaction(async (tx) => {
      const head = await tx.lockHead();
      await tx.setHead({ seq: head.seq + 1, hash: 'h1' });
      return head.seq + 1;
    });
    expect(appended).toBe(1);
    thawed();
    await expect(stuck).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await other.transaction((tx) => tx.lockHead())).toEqual({ seq: 1, hash: 'h1' });
  });

  it('answer BUSY, not "database away", when every pooled connection is taken', async () => {
    const store = await openPostgresStore({ url: await freshDatabase('busy'), poolSize: 1, connectTimeoutMs: 2000 });
    stores.push(store);
    let done!: () => void;
    const holding = store.transaction(() => new Promise<void>((r) => (done = r)));
    const err = await store.read.get('SELECT 1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BUSY', details: { retry_after_s: 1 } });
    expect(httpStatusOf((err as RewindError).code)).toBe(503);
    expect(store.healthy).toBe(true);
    done();
    await holding;
    expect(await store.read.get('SELECT 1 AS one')).toEqual({ one: 1 });
  });

  it('refuse to report a commit when a failed statement inside was swallowed', async () => {
    const store = await open(await freshDatabase('swallowed'));
    await expect(
      store.transaction(async (tx) => {
        await tx.run("INSERT INTO meta (key, value) VALUES ('k', 'v')");
        await tx.run('INSERT INTO meta (key) VALUES (?)', ['no value']).catch(() => undefined);
      }),
    ).rejects.toThrow(/rolled back/);
    expect(await store.read.get('SELECT count(*) AS n FROM meta')).toEqual({ n: 0 });
  });

  it('refuse a Tx used after its unit of work ended, and setHead without the head locked', async () => {
    const store = await open(await freshDatabase('kept_tx'));
    let kept: Parameters<Parameters<PostgresStore['transaction']>[0]>[0] | undefined;
    await store.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept!.get('SELECT 1')).rejects.toThrow(/already finished/);
    await expect(store.transaction((tx) => tx.setHead({ seq: 1, hash: 'h' }))).rejects.toThrow(/lockHead/);
    expect(await store.transaction((tx) => tx.lockHead())).toEqual({ seq: 0, hash: '0'.repeat(64) });
  });
});
