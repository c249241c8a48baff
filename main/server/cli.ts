import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RewindError, toErrorData } from '../engine/errors.js';
import { openServedStore } from './open-store.js';
import { type RunningServer, createServer } from './server.js';
import { TokenStore } from './tokens.js';

const usage = `Usage: npm run server -- --db FILE|URL [options]

  --db FILE|URL       a SQLite file (created if missing), or postgres://USER:PASS@HOST:PORT/DB
                      to run as one replica among any number on that database
                      [$REWIND_DATABASE_URL, else ./rewind.db]
  --replica-id ID     this replica's name in /health, /metrics and the database  [host-pid]
  --port N            port to listen on (0 picks a free one)                  [8000]
  --host ADDR         address to bind; anything but 127.0.0.1 exposes it     [127.0.0.1]
  --demo              seed an empty database with the demo workflows
  --tls-cert FILE     serve HTTPS and WSS with this certificate (PEM) …
  --tls-key FILE      … and this key (PEM)
  --time-scale X      real ms per simulated ms of node work (0: runs finish at once) [1]
  --heartbeat-ms N    WebSocket ping interval                                 [15000]
  --rate-limit N      requests per second per token (0: no limit)             [0]

The first start on a database without tokens makes REWIND_ADMIN_TOKEN the admin token, or
generates one and prints it once. SIGTERM or Ctrl-C drains requests and exits.`;

function fail(message: string, hint: string, code = 2): never {
  process.stderr.write(`error: ${message}\n  hint: ${hint}\n\n${usage}\n`);
  process.exit(code);
}

function numberOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number ≥ ${min}; got "${value}".`, `Pass e.g. --${name} ${fallback}.`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        db: { type: 'string' },
        'replica-id': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        demo: { type: 'boolean', default: false },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'time-scale': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'rate-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err), 'See the options below.');
  }
  if (parsed.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const port = numberOption(parsed.port, 'port', 8000);
  if (!Number.isInteger(port) || port > 65535) fail(`--port must be 0–65535; got "${parsed.port}".`, 'Pass e.g. --port 8000.');
  const timeScale = numberOption(parsed['time-scale'], 'time-scale', 1);
  const heartbeatMs = numberOption(parsed['heartbeat-ms'], 'heartbeat-ms', 15_000, 50);
  const rate = numberOption(parsed['rate-limit'], 'rate-limit', 0);
  if ((parsed['tls-cert'] === undefined) !== (parsed['tls-key'] === undefined)) fail('--tls-cert and --tls-key go together.', 'Pass both PEM files, or neither.');
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (parsed['tls-cert'] !== undefined && parsed['tls-key'] !== undefined) {
    try {
      tls = { cert: readFileSync(parsed['tls-cert']), key: readFileSync(parsed['tls-key']) };
    } catch (err) {
      fail(`Cannot read the TLS files: ${err instanceof Error ? err.message : String(err)}`, 'Check the paths and permissions.', 1);
    }
  }

  const db = parsed.db ?? (process.env.REWIND_DATABASE_URL || './rewind.db');
  const served = await openServedStore({ db, replicaId: parsed['replica-id'], timeScale, demo: parsed.demo, actor: 'server' }).catch((err: unknown) => {
    // A bad URL, an unreachable host, a wrong password, a missing database, a newer schema: settings, not bugs.
    if (!(err instanceof RewindError)) throw err;
    process.stderr.write(`error ${err.code}: ${err.message}\n  hint: ${err.hint}\n`);
    process.exit(2);
  });
  const { backend } = served;
  const tokens = new TokenStore(backend.engine);
  const boot = await tokens.bootstrapAdmin(process.env.REWIND_ADMIN_TOKEN || undefined);
  if (boot?.generated) {
    process.stdout.write(`Admin token (shown once; store it now, e.g. as REWIND_TOKEN): ${boot.token}\n`);
  } else if (boot) {
    process.stdout.write('Admin token: REWIND_ADMIN_TOKEN (stored as a hash).\n');
  } else if (process.env.REWIND_ADMIN_TOKEN) {
    process.stdout.write('REWIND_ADMIN_TOKEN ignored: this database already has tokens.\n');
  }

  let server: RunningServer;
  try {
    server = await createServer({
      backend,
      tokens,
      latestSeq: () => backend.engine.latestSeq(),
      schemaVersion: backend.engine.schemaVersion,
      host: parsed.host,
      port,
      heartbeatMs,
      replica: { id: served.replica, store: served.store, healthy: served.healthy },
      ...(tls ? { tls } : {}),
      ...(rate > 0 ? { rateLimit: { perSecond: rate, burst: Math.max(1, rate * 2) } } : {}),
    });
  } catch (err) {
    await backend.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`Port ${port} on ${parsed.host} is in use.`, 'Stop what listens there, or pass another --port.', 1);
    throw err;
  }
  if (parsed.host !== '127.0.0.1' && parsed.host !== 'localhost' && parsed.host !== '::1' && !tls) {
    process.stderr.write(`warning: listening on ${parsed.host} without TLS: tokens cross the network in clear. Pass --tls-cert and --tls-key.\n`);
  }
  process.stdout.write(`Rewind workflow server listening on ${server.url} (${served.store} ${served.where}, replica ${served.replica}, schema ${backend.engine.schemaVersion})\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting at once.\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal}: finishing requests in flight, then exiting.\n`);
    void server
      .close()
      .then(() => backend.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const data = toErrorData(err);
  process.stderr.write(`error ${data.code}: ${data.message}\n  hint: ${data.hint}\n`);
  if (!(err instanceof RewindError)) process.stderr.write(`${err instanceof Error ? (err.stack ?? '') : ''}\n`);
  process.exit(1);
});
