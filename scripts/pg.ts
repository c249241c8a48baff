/*
 * `npm run pg -- --dir DIR [--port N]`: a local PostgreSQL for trying Rewind's replicas without
 * installing one. DIR keeps the cluster (DIR/data) and its password (DIR/rewind-pg.json), so the
 * same command starts it again with its data; the database `rewind` is created when missing.
 * Stays in the foreground; Ctrl-C stops PostgreSQL cleanly.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalPostgres, portInUse, unreachableByPostgresUser } from './local-postgres.js';

const usage = `Usage: npm run pg -- --dir DIR [--port N]

  --dir DIR   where the cluster lives (created on first use; the same DIR starts it again)
  --port N    port to listen on                                            [5432]

Prints the URL to pass to \`npm run server -- --db URL\`; Ctrl-C stops PostgreSQL.`;

function fail(message: string, hint: string, code = 2): never {
  process.stderr.write(`error: ${message}\n  hint: ${hint}\n\n${usage}\n`);
  process.exit(code);
}

interface State {
  password: string;
}

async function main(): Promise<void> {
  let values;
  try {
    values = parseArgs({ options: { dir: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err), 'See the options below.');
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (values.dir === undefined) fail('--dir is required.', 'Pass a folder for the cluster, e.g. --dir /tmp/rewind-pg.');
  const port = values.port === undefined ? 5432 : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be 1–65535; got "${values.port}".`, 'Pass e.g. --port 5433.');

  const dir = resolve(values.dir);
  const dataDir = join(dir, 'data');
  const stateFile = join(dir, 'rewind-pg.json');
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, '.rewind-pg-write-test');
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    fail(`Cannot write to ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, 'Pick a folder you can write to, e.g. --dir /tmp/rewind-pg.');
  }
  const blocked = unreachableByPostgresUser(dataDir);
  if (blocked !== null) {
    fail(
      `As root, PostgreSQL runs as the "postgres" user, which cannot enter ${blocked}.`,
      `Pick a DIR outside it (e.g. --dir /tmp/rewind-pg), or let others enter it: chmod o+x ${blocked}.`,
    );
  }
  if (await portInUse(port)) fail(`Port ${port} is in use (another PostgreSQL?).`, `Stop what listens there, or pass another port: --port ${port + 1}.`);

  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  let state: State;
  if (fresh) {
    state = { password: randomBytes(12).toString('hex') };
  } else {
    try {
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
      if (typeof state.password !== 'string') throw new Error('no password');
    } catch {
      fail(`${dataDir} holds a PostgreSQL cluster, but ${stateFile} (its password) is missing or unreadable.`, 'Pass a new --dir, or remove that folder to start over.');
    }
  }

  const server = new LocalPostgres({ dataDir, port, password: state.password });
  try {
    if (fresh) {
      process.stdout.write(`Initialising a PostgreSQL cluster in ${dataDir} …\n`);
      await server.initialise();
      writeFileSync(stateFile, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    }
    await server.start();
    await server.ensureDatabase('rewind');
  } catch (err) {
    await server.stop().catch(() => undefined);
    fail(err instanceof Error ? err.message : String(err), `Check ${dir} (its data folder must belong to the user PostgreSQL runs as) and the port.`, 1);
  }

  process.stdout.write(`PostgreSQL is running. Database URL:\n\n  ${server.url('rewind')}\n\nCtrl-C stops it.\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping PostgreSQL …\n`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stopping PostgreSQL failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
