/*
 * PostgreSQL for tests (the servers live in the main vitest process: see postgres-global-setup.ts).
 * Each test file or suite takes a fresh database on the run's shared server; a test that stops the
 * database takes a server of its own, so other files running in parallel are not disturbed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

async function control<T>(path: string): Promise<T> {
  const res = await fetch(`${inject('postgresControl')}${path}`, { method: 'POST' });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`PostgreSQL for tests: ${body.error ?? res.status}`);
  return body;
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.href;
}

/** Runs statements as the superuser on a server's `postgres` database. */
export async function asAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(serverUrl: string, label: string): Promise<string> {
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase().slice(0, 40)}_${randomBytes(4).toString('hex')}`;
  await asAdmin(serverUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  return withDatabase(serverUrl, name);
}

/** The run's shared server (its `postgres` database: for admin work, not for stores). */
export async function sharedServerUrl(): Promise<string> {
  return (await control<{ url: string }>('/shared')).url;
}

/** A new, empty database on the run's shared server; its URL. */
export async function freshDatabase(label = 'test'): Promise<string> {
  return createDatabase(await sharedServerUrl(), label);
}

/** A PostgreSQL server of the test's own, which it may stop and start again (same port, same data). */
export interface PrivatePostgres {
  /** The server's `postgres` database. */
  url: string;
  freshDatabase(label?: string): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function privatePostgres(): Promise<PrivatePostgres> {
  const { id, url } = await control<{ id: string; url: string }>('/private');
  return {
    url,
    freshDatabase: (label = 'test') => createDatabase(url, label),
    stop: async () => void (await control(`/private/${id}/stop`)),
    start: async () => void (await control(`/private/${id}/start`)),
  };
}

/** Ends the server sessions whose application_name starts with `prefix`; how many it ended. */
export async function terminateSessions(serverUrl: string, prefix: string): Promise<number> {
  const result = await asAdmin(serverUrl, (c) =>
    c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE left(application_name, length($1)) = $1 AND pid <> pg_backend_pid()", [prefix]),
  );
  return result.rowCount ?? 0;
}
