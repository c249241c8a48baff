import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import pg from 'pg';
import { openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { latestSchemaVersion } from '../../../main/engine/store/sqlite/migrations/index.js';
import { openSqliteStore } from '../../../main/engine/store/sqlite/sqlite-store.js';
import { LocalPostgres, freePort } from '../../../scripts/local-postgres.js';
import { type HistoryManifest, type VersionRunsManifest, buildHistory, buildVersionRuns } from './generate.js';

/*
 * Built histories are kept between bench runs (a 1M-event log is gigabytes): in
 * REWIND_BENCH_CACHE, else `<tmpdir>/rewind-bench-cache`, keyed by size, the generator's version and
 * the schema version (a new migration builds anew). Builds take a lock, so two benches never build
 * the same key at once. A bench that writes checks out a copy (a file copy; a database created from
 * the cached one as template); one that only reads may use the cached one.
 */

/** Bump when the generated history changes shape. */
export const GENERATOR_VERSION = 2;

export function cacheDir(): string {
  const dir = process.env.REWIND_BENCH_CACHE ?? join(tmpdir(), 'rewind-bench-cache');
  mkdirSync(dir, { recursive: true });
  // PostgreSQL runs as the `postgres` user when we are root: it must enter and write here.
  chmodSync(dir, 0o777);
  return dir;
}

const key = (events: number) => `${events}-g${GENERATOR_VERSION}-s${latestSchemaVersion}`;

async function locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const target = join(cacheDir(), `${name}.lock-target`);
  if (!existsSync(target)) writeFileSync(target, '');
  const release = await lockfile.lock(target, { retries: { retries: 10_000, minTimeout: 500, maxTimeout: 2000 }, stale: 60_000, update: 10_000 });
  try {
    return await fn();
  } finally {
    await release();
  }
}

export interface CachedSqliteHistory {
  path: string;
  manifest: HistoryManifest;
}

/** The cached SQLite history of `events` events, built first if missing. */
export async function sqliteHistory(events: number, log: (line: string) => void = () => undefined): Promise<CachedSqliteHistory> {
  const path = join(cacheDir(), `history-sqlite-${key(events)}.db`);
  const manifestPath = `${path}.json`;
  return locked(`sqlite-${key(events)}`, async () => {
    if (existsSync(manifestPath) && existsSync(path)) return { path, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as HistoryManifest };
    const building = `${path}.building`;
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
    log(`building a SQLite history of ${events} events (cached for later runs)…`);
    const store = openSqliteStore(building);
    // A cache being built needs no durability (a crash builds it again): no fsync, a large page cache.
    store.db.pragma('synchronous = OFF');
    store.db.pragma('cache_size = -262144');
    const manifest = await buildHistory(store, { events, log });
    renameSync(building, path);
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    return { path, manifest };
  });
}

/** A private copy of a cached SQLite history, for a bench that writes; `dispose` removes it. */
export function checkoutSqlite(history: Pick<CachedSqliteHistory, 'path'>): { path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-history-'));
  const path = join(dir, 'history.db');
  copyFileSync(history.path, path);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The cache's PostgreSQL cluster (its data stays between runs), started on a free port. */
export async function historyPostgres(): Promise<LocalPostgres> {
  const root = join(cacheDir(), 'postgres');
  const settings = join(cacheDir(), 'postgres.json');
  const fresh = !existsSync(settings);
  if (fresh) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    chmodSync(root, 0o777);
  }
  const password = fresh ? randomBytes(12).toString('hex') : (JSON.parse(readFileSync(settings, 'utf8')) as { password: string }).password;
  const server = new LocalPostgres({ dataDir: join(root, 'data'), port: await freePort(), password, flags: ['-c', 'max_connections=200', '-c', 'shared_buffers=256MB'] });
  if (fresh) {
    await server.initialise();
    writeFileSync(settings, JSON.stringify({ password }));
  }
  await server.start();
  return server;
}

export interface CachedPostgresHistory {
  database: string;
  url: string;
  manifest: HistoryManifest;
}

async function admin<T>(server: LocalPostgres, fn: (client: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The cached PostgreSQL history of `events` events in `server` (see `historyPostgres`), built first if missing. */
export async function postgresHistory(server: LocalPostgres, events: number, log: (line: string) => void = () => undefined): Promise<CachedPostgresHistory> {
  const database = `history_${key(events).replace(/-/g, '_')}`;
  const manifestPath = join(cacheDir(), `history-postgres-${key(events)}.json`);
  return locked(`postgres-${key(events)}`, async () => {
    const exists = await admin(server, async (c) => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0);
    if (exists && existsSync(manifestPath)) return { database, url: server.url(database), manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as HistoryManifest };
    const building = `${database}_building`;
    await admin(server, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${building}`);
      await c.query(`DROP DATABASE IF EXISTS ${database}`);
      await c.query(`CREATE DATABASE ${building}`);
      // A cache being built needs no durable commits (a crash builds it again).
      await c.query(`ALTER DATABASE ${building} SET synchronous_commit = off`);
    });
    log(`building a PostgreSQL history of ${events} events (cached for later runs)…`);
    const manifest = await buildHistory(await openPostgresStore({ url: server.url(building) }), { events, log });
    // Planner statistics now, as autovacuum would give them a while later on a server that grew slowly.
    await admin(server, (c) => c.query('VACUUM (ANALYZE)'), building);
    await admin(server, async (c) => {
      await c.query(`ALTER DATABASE ${building} RESET synchronous_commit`);
      await c.query(`ALTER DATABASE ${building} RENAME TO ${database}`);
    });
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    return { database, url: server.url(database), manifest };
  });
}

/** A private copy of a cached PostgreSQL history (a database created from it as template); `dispose` drops it. */
export async function checkoutPostgres(server: LocalPostgres, history: Pick<CachedPostgresHistory, 'database'>): Promise<{ url: string; dispose: () => Promise<void> }> {
  const name = `${history.database}_copy_${randomBytes(4).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${history.database}`));
  return {
    url: server.url(name),
    dispose: () => admin(server, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** The cached SQLite store of one version with `runs` recent runs (see `buildVersionRuns`), built first if missing. */
export async function sqliteVersionRuns(runs: number, log: (line: string) => void = () => undefined): Promise<{ path: string; manifest: VersionRunsManifest }> {
  const path = join(cacheDir(), `version-runs-sqlite-${key(runs)}.db`);
  const manifestPath = `${path}.json`;
  return locked(`version-runs-sqlite-${key(runs)}`, async () => {
    if (existsSync(manifestPath) && existsSync(path)) return { path, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as VersionRunsManifest };
    const building = `${path}.building`;
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
    log(`building a SQLite store of one version with ${runs} runs (cached for later runs)…`);
    const store = openSqliteStore(building);
    store.db.pragma('synchronous = OFF');
    const manifest = await buildVersionRuns(store, { runs });
    renameSync(building, path);
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    return { path, manifest };
  });
}

/** The same in the cache's PostgreSQL cluster. */
export async function postgresVersionRuns(server: LocalPostgres, runs: number, log: (line: string) => void = () => undefined): Promise<{ database: string; url: string; manifest: VersionRunsManifest }> {
  const database = `version_runs_${key(runs).replace(/-/g, '_')}`;
  const manifestPath = join(cacheDir(), `version-runs-postgres-${key(runs)}.json`);
  return locked(`version-runs-postgres-${key(runs)}`, async () => {
    const exists = await admin(server, async (c) => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0);
    if (exists && existsSync(manifestPath)) return { database, url: server.url(database), manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as VersionRunsManifest };
    const building = `${database}_building`;
    await admin(server, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${building}`);
      await c.query(`DROP DATABASE IF EXISTS ${database}`);
      await c.query(`CREATE DATABASE ${building}`);
      await c.query(`ALTER DATABASE ${building} SET synchronous_commit = off`);
    });
    log(`building a PostgreSQL store of one version with ${runs} runs (cached for later runs)…`);
    const manifest = await buildVersionRuns(await openPostgresStore({ url: server.url(building) }), { runs });
    await admin(server, (c) => c.query('VACUUM (ANALYZE)'), building);
    await admin(server, async (c) => {
      await c.query(`ALTER DATABASE ${building} RESET synchronous_commit`);
      await c.query(`ALTER DATABASE ${building} RENAME TO ${database}`);
    });
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    return { database, url: server.url(database), manifest };
  });
}
