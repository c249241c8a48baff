import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RewindError, toErrorData } from '../engine/errors.js';
import { sqliteOpenFailure } from '../engine/store/sqlite/errors.js';
import { openServedStore } from './open-store.js';
import { type LogFormat, createLogger, logFormats, logLevels } from './logger.js';
import { recordRefusal } from '../backends/refusal-audit.js';
import { attachCodeFolder } from '../backends/engine-backend.js';
import { DEFAULT_CODE_RESCAN_MS } from '../code/code-folder.js';
import { environmentNameSchema } from '../protocol/wire.js';
import { type RunningServer, createServer } from './server.js';
import { TokenStore } from './tokens.js';
import { type KeySource, loadWebhookKey } from './webhook-key.js';
import { SecretBox } from '../engine/webhooks/secret-box.js';
import { WebhookWorker } from './webhook-worker.js';
import { isPostgresUrl } from '../engine/store/postgres/index.js';
import { type RetentionPolicy, parseRetention } from '../engine/retention.js';
import { type OidcFlag, oidcFlags, oidcSettingsFrom, oidcUsage } from './auth/oidc-flags.js';
import { OidcVerifier } from './auth/oidc-verifier.js';
import { describeMapping } from './auth/role-mapping.js';
import type { ReviewPolicy } from '../backends/engine-backend.js';
import { reviewPolicyFrom, reviewUsage } from './review-flags.js';

const usage = `Usage: rewind-server --db FILE|URL [options]   (or: npm run server -- …)

  --db FILE|URL       a SQLite file (created if missing), or postgres://USER:PASS@HOST:PORT/DB
                      to run as one replica among any number on that database
                      [./rewind.db]   REWIND_DB, or REWIND_DATABASE_URL
  --replica-id ID     this replica's name in /health, /metrics and the database  [host-pid]
  --port N            port to listen on (0 picks a free one)                  [8000]          REWIND_PORT
  --host ADDR         address to bind; anything but 127.0.0.1 exposes it     [127.0.0.1]     REWIND_HOST
  --demo              seed an empty database with the demo workflows, and serve the demo
                      inspection station GET /demo/inspect?batch=N that line-inspection calls  REWIND_DEMO=1
  --tls-cert FILE     serve HTTPS and WSS with this certificate (PEM) …                     REWIND_TLS_CERT
  --tls-key FILE      … and this key (PEM)                                                   REWIND_TLS_KEY
  --time-scale X      real ms per simulated ms of node work (0: runs finish at once) [1]     REWIND_TIME_SCALE
  --heartbeat-ms N    WebSocket ping interval                                 [15000]         REWIND_HEARTBEAT_MS
  --lease-ms N        how long a replica's hold on the runs it executes lasts unless renewed; when a
                      replica dies another (or its own restart) continues its runs once it expires [15000]  REWIND_LEASE_MS
  --rate-limit N      requests per second per token (0: no limit)             [0]             REWIND_RATE_LIMIT
  --log-format F      json (one JSON line per request and event) or text  [text on a terminal, else json]
  --log-level L       fatal, error, warn, info, debug, trace or silent    [info]              REWIND_LOG_LEVEL
  --debug             print stack traces of unexpected failures
  --allow-broken-chain  serve a database whose event hash chain does not verify
                      (refused otherwise); /health then answers 503 "degraded"
  --environment NAME  what this server serves (production, staging…), shown in /health
                      and to every console                                [unset]             REWIND_ENVIRONMENT
  --allow-commands    run command nodes (programs on this machine); without it a DSL holding one is refused
  --max-response-bytes N  an http node's answer above this fails the node [1048576]     REWIND_MAX_RESPONSE_BYTES
  --code-dir DIR      workflows as code: every *.yaml, *.yml, *.json below DIR (name, description,
                      schedule, dsl) is a CODE workflow, kept in line as the files change  REWIND_CODE_DIR
  --retain-runs WINDOW  finished runs that ended longer ago than WINDOW (90d, 12w, 36h) lose their
                      checkpoints — the run, its status, version, times and error stay; events are never
                      deleted; idempotency keys go after 24 h, schedule ticks and webhook deliveries after
                      WINDOW. Pruned in small batches every 10 minutes by one replica at a time
                      [keep everything]                                                     REWIND_RETAIN_RUNS
  --keep-failed-checkpoints  with --retain-runs: a failed run keeps its last checkpoint    REWIND_KEEP_FAILED_CHECKPOINTS=1
  --code-rescan-ms N  how often the code folder is read again in full, whatever fs.watch reported
                      (it can miss a folder swapped by a rename, or an edit after sed -i) [30000]  REWIND_CODE_RESCAN_MS
  --webhook-key-file FILE  the key webhook secrets are sealed with (32 bytes, hex or base64);
                      REWIND_WEBHOOK_KEY holds the value itself. Every replica needs the same.
                      [SQLite: FILE.webhook-key beside the database, made on first start;
                       PostgreSQL: none, and then no webhooks]
  --allow-private-webhooks  let webhooks reach loopback and private addresses (10/8, 172.16/12,
                      192.168/16, 127/8, fc00::/7…); refused otherwise. Metadata and link-local
                      addresses (169.254/16, fd00:ec2::254) are refused always, for http nodes too  REWIND_ALLOW_PRIVATE_WEBHOOKS=1
${oidcUsage}
${reviewUsage}

http and command nodes run for real here; {{secret.NAME}} reads the environment variable REWIND_SECRET_NAME,
and {{ctx.server.url}} ({{ctx.server.host}}: HOST:PORT) is this server's own address (no run param can set server).
Run values reach a command as environment variables (env: {NAME: "{{ctx.x}}"}), never inside a shell's or
interpreter's argv (refused: UNSAFE_TEMPLATE); in a URL's path or query they are percent-encoded.

Each setting can come from the environment variable beside it (a flag wins), so a process
supervisor can keep them in an environment file. The first start on a database without tokens makes REWIND_ADMIN_TOKEN the admin token, or
generates one and prints it once. SIGTERM or Ctrl-C drains requests and exits.`;

/** Stack traces only when asked for: an operator needs what is wrong and what to do, not our call stack. */
let debug = false;

function fail(message: string, hint: string, code = 2): never {
  process.stderr.write(`error: ${message}\n  hint: ${hint}\n\n${usage}\n`);
  process.exit(code);
}

/** Each flag's environment variable, for a process supervisor's environment file. */
const envNames = {
  db: 'REWIND_DB',
  port: 'REWIND_PORT',
  host: 'REWIND_HOST',
  demo: 'REWIND_DEMO',
  'tls-cert': 'REWIND_TLS_CERT',
  'tls-key': 'REWIND_TLS_KEY',
  'time-scale': 'REWIND_TIME_SCALE',
  'heartbeat-ms': 'REWIND_HEARTBEAT_MS',
  'lease-ms': 'REWIND_LEASE_MS',
  'rate-limit': 'REWIND_RATE_LIMIT',
  'max-response-bytes': 'REWIND_MAX_RESPONSE_BYTES',
  'code-dir': 'REWIND_CODE_DIR',
  'retain-runs': 'REWIND_RETAIN_RUNS',
  'code-rescan-ms': 'REWIND_CODE_RESCAN_MS',
  'allow-private-webhooks': 'REWIND_ALLOW_PRIVATE_WEBHOOKS',
} as const;
type Setting = keyof typeof envNames;

/** A flag's value, else its environment variable's (an empty variable counts as unset); and where it came from, for errors. */
function setting(flags: Partial<Record<Setting, string | boolean>>, name: Setting): { value: string | undefined; source: string } {
  const flag = flags[name];
  if (typeof flag === 'string') return { value: flag, source: `--${name}` };
  const env = process.env[envNames[name]];
  return { value: env === '' ? undefined : env, source: envNames[name] };
}

function numberOption(flags: Partial<Record<Setting, string | boolean>>, name: Setting, fallback: number, min = 0): number {
  const { value, source } = setting(flags, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min) fail(`${source} must be a number ≥ ${min}; got "${value}".`, `Pass e.g. --${name} ${fallback}.`);
  return n;
}

/** `--retain-runs` and `--keep-failed-checkpoints` (or their variables): the retention policy, or none (keep everything). */
function retentionOption(flags: Partial<Record<Setting | 'keep-failed-checkpoints', string | boolean>>): RetentionPolicy | null {
  const { value, source } = setting(flags, 'retain-runs');
  const keepEnv = process.env.REWIND_KEEP_FAILED_CHECKPOINTS;
  if (keepEnv !== undefined && !['', '0', '1', 'true', 'false'].includes(keepEnv)) fail(`REWIND_KEEP_FAILED_CHECKPOINTS must be 1, true, 0 or false; got "${keepEnv}".`, 'Set REWIND_KEEP_FAILED_CHECKPOINTS=1 to keep a failed run’s last checkpoint.');
  const keep = flags['keep-failed-checkpoints'] === true || keepEnv === '1' || keepEnv === 'true';
  if (value === undefined) {
    if (flags['keep-failed-checkpoints'] === true) fail('--keep-failed-checkpoints goes with --retain-runs.', 'Pass e.g. --retain-runs 90d --keep-failed-checkpoints; without a window nothing is pruned.');
    return null;
  }
  try {
    return { ...parseRetention(value), keepFailedCheckpoints: keep };
  } catch (err) {
    const data = toErrorData(err);
    return fail(`${source}: ${data.message}`, data.hint);
  }
}

/** A switch: its flag, else its environment variable (1, true, 0 or false). */
function switchOption(flags: Partial<Record<Setting, string | boolean>>, name: 'demo' | 'allow-private-webhooks', what: string): boolean {
  if (flags[name] === true) return true;
  const env = process.env[envNames[name]];
  if (env === undefined || env === '' || env === '0' || env === 'false') return false;
  if (env === '1' || env === 'true') return true;
  return fail(`${envNames[name]} must be 1, true, 0 or false; got "${env}".`, `Set ${envNames[name]}=1 to ${what}.`);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        db: { type: 'string' },
        'replica-id': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        demo: { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'time-scale': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'lease-ms': { type: 'string' },
        'rate-limit': { type: 'string' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        debug: { type: 'boolean', default: false },
        'allow-broken-chain': { type: 'boolean', default: false },
        environment: { type: 'string' },
        'allow-commands': { type: 'boolean', default: false },
        'max-response-bytes': { type: 'string' },
        'code-dir': { type: 'string' },
        'code-rescan-ms': { type: 'string' },
        'webhook-key-file': { type: 'string' },
        'retain-runs': { type: 'string' },
        'keep-failed-checkpoints': { type: 'boolean', default: false },
        'allow-private-webhooks': { type: 'boolean' },
        'require-review': { type: 'string' },
        'review-expiry': { type: 'string' },
        ...(Object.fromEntries(Object.keys(oidcFlags).map((f) => [f, { type: 'string' }])) as Record<OidcFlag, { type: 'string' }>),
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
  const port = numberOption(parsed, 'port', 8000);
  if (!Number.isInteger(port) || port > 65535) fail(`${setting(parsed, 'port').source} must be 0–65535; got "${setting(parsed, 'port').value}".`, 'Pass e.g. --port 8000.');
  const timeScale = numberOption(parsed, 'time-scale', 1);
  const heartbeatMs = numberOption(parsed, 'heartbeat-ms', 15_000, 50);
  const leaseMs = numberOption(parsed, 'lease-ms', 15_000, 100);
  const rate = numberOption(parsed, 'rate-limit', 0);
  const db = setting(parsed, 'db').value ?? (process.env.REWIND_DATABASE_URL || './rewind.db');
  const host = setting(parsed, 'host').value ?? '127.0.0.1';
  const demo = switchOption(parsed, 'demo', 'seed an empty database with the demo workflows');
  const allowPrivateWebhooks = switchOption(parsed, 'allow-private-webhooks', 'let webhooks reach loopback and private addresses');
  const tlsCert = setting(parsed, 'tls-cert').value;
  const tlsKey = setting(parsed, 'tls-key').value;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) fail('--tls-cert and --tls-key (REWIND_TLS_CERT and REWIND_TLS_KEY) go together.', 'Pass both PEM files, or neither.');
  const environmentRaw = parsed.environment ?? (process.env.REWIND_ENVIRONMENT || undefined);
  const environment = environmentRaw === undefined ? null : environmentNameSchema.safeParse(environmentRaw);
  if (environment && !environment.success) fail(`--environment "${environmentRaw}": ${environment.error.issues[0]?.message ?? 'invalid'}.`, 'Pass e.g. --environment production.');
  const maxResponseBytes = numberOption(parsed, 'max-response-bytes', 1024 * 1024, 1);
  const retention = retentionOption(parsed);
  const codeRescanMs = numberOption(parsed, 'code-rescan-ms', DEFAULT_CODE_RESCAN_MS, 50);
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (tlsCert !== undefined && tlsKey !== undefined) {
    try {
      tls = { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) };
    } catch (err) {
      fail(`Cannot read the TLS files: ${err instanceof Error ? err.message : String(err)}`, 'Check the paths and permissions.', 1);
    }
  }

  debug = parsed.debug === true;
  const logFormat = parsed['log-format'] ?? (process.stdout.isTTY ? 'text' : 'json');
  if (!logFormats.includes(logFormat as LogFormat)) fail(`--log-format must be json or text; got "${logFormat}".`, 'Pass --log-format json (for log shippers) or text.');
  const logLevel = parsed['log-level'] ?? process.env.REWIND_LOG_LEVEL ?? 'info';
  const level = logLevels.find((l) => l === logLevel);
  if (level === undefined) fail(`--log-level must be one of ${logLevels.join(', ')}; got "${logLevel}".`, 'Pass e.g. --log-level info.');
  const logger = createLogger({ level, format: logFormat as LogFormat });
  let saidReuseOnly = false;

  let oidc: OidcVerifier | undefined;
  try {
    const settings = oidcSettingsFrom(parsed, process.env);
    if (settings) oidc = new OidcVerifier(settings);
  } catch (err) {
    const data = toErrorData(err);
    fail(data.message, data.hint);
  }

  let review: ReviewPolicy | null = null;
  try {
    review = reviewPolicyFrom(parsed, process.env);
  } catch (err) {
    const data = toErrorData(err);
    fail(data.message, data.hint);
  }

  const allowBrokenChain = parsed['allow-broken-chain'] === true;
  let webhookKey: KeySource;
  try {
    // The key file beside a SQLite database is looked for (and made) only once the database opened, below.
    webhookKey = loadWebhookKey({ env: process.env.REWIND_WEBHOOK_KEY || undefined, file: parsed['webhook-key-file'], sqlitePath: null });
  } catch (err) {
    const data = toErrorData(err);
    fail(data.message, data.hint);
  }
  // The server's own address, lent to real nodes' templates as {{ctx.server.url}} and {{ctx.server.host}} once it listens: a
  // URL fixed in a DSL would break when the server restarts on another port (see EngineOptions.serverContext).
  let lendServerContext: (values: Record<string, unknown>) => void = () => undefined;
  const serverContext = new Promise<Record<string, unknown>>((resolve) => (lendServerContext = resolve));
  let opened: { served: Awaited<ReturnType<typeof openServedStore>>; tokens: TokenStore; boot: Awaited<ReturnType<TokenStore['bootstrapAdmin']>> };
  try {
    const served = await openServedStore({
      db,
      replicaId: parsed['replica-id'],
      timeScale,
      leaseMs,
      demo,
      actor: 'server',
      ...(retention
        ? {
            retention: {
              policy: retention,
              onPass: (r) => {
                if (r.runs + r.checkpoints + r.idempotency_keys + r.schedule_ticks + r.webhook_deliveries > 0 || r.recovered) {
                  const { reclaimed, recovered, ...figures } = r;
                  logger.info({ ...figures, reclaimed_pages: reclaimed.pages, ...(recovered ? { recovered_runs: recovered.runs } : {}) }, 'retention pass');
                }
                if (r.reclaimed.mode === 'reuse-only' && !saidReuseOnly) {
                  saidReuseOnly = true;
                  logger.warn({ db }, 'retention: this SQLite file was made before incremental auto_vacuum: pruned pages are reused, but the file keeps its size until `rewind prune --db FILE --vacuum` rebuilds it (with the server stopped)');
                }
              },
              onError: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'retention pass failed; the next one continues it'),
            },
          }
        : {}),
      serve: {
        allowBrokenChain,
        liveExecution: true,
        allowCommands: parsed['allow-commands'] === true,
        limits: { maxResponseBytes },
        serverContext,
        ...(webhookKey ? { webhookKey: webhookKey.key } : {}),
        allowPrivateWebhooks,
        ...(review ? { review } : {}),
      },
    });
    if (!webhookKey && !isPostgresUrl(db)) {
      try {
        webhookKey = loadWebhookKey({ sqlitePath: db });
      } catch (err) {
        await served.backend.close();
        const data = toErrorData(err);
        fail(data.message, data.hint);
      }
      if (webhookKey) served.backend.webhooks.useBox(new SecretBox(webhookKey.key));
    }
    const codeDir = setting(parsed, 'code-dir').value;
    if (codeDir !== undefined) {
      const folder = await attachCodeFolder(served.backend, {
        dir: codeDir,
        allowCommands: parsed['allow-commands'] === true,
        rescanMs: codeRescanMs,
        log: (level, message, fields) => logger[level](fields, message),
      });
      process.stdout.write(`Code folder ${folder.dir}: ${(await served.backend.engine.workflows.codeWorkflows()).length} CODE workflows, watched for changes and read again every ${codeRescanMs / 1000} s.\n`);
    }
    const tokens = new TokenStore(served.backend.engine);
    opened = { served, tokens, boot: await tokens.bootstrapAdmin(process.env.REWIND_ADMIN_TOKEN || undefined) };
  } catch (err) {
    // A bad file, URL, host, password or database, a newer schema: settings to fix, not bugs (exit 2).
    const explained = sqliteOpenFailure(err, db) ?? (err instanceof RewindError ? err : null);
    if (!explained) throw err;
    if (debug && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    process.stderr.write(`error ${explained.code}: ${explained.message}\n  hint: ${explained.hint}\n`);
    process.exit(2);
  }
  const { served, tokens, boot } = opened;
  const { backend } = served;
  const chain = backend.engine.chainAtOpen;
  if (!chain.ok) {
    const what = `The event log's hash chain in ${db} is broken at event ${chain.first_broken_seq ?? '?'}: ${chain.reason ?? 'unknown reason'}.`;
    if (!allowBrokenChain) {
      await backend.close();
      process.stderr.write(
        `error CHAIN_BROKEN: ${what}\n  hint: The audit log was altered outside Rewind. Restore the database from a backup taken before event ${chain.first_broken_seq ?? '?'} (check it with \`rewind verify --db FILE\`), or start with --allow-broken-chain to serve it as it is (/health and every console will say so).\n`,
      );
      process.exit(2);
    }
    process.stderr.write(`warning: ${what} Serving it anyway (--allow-broken-chain): /health answers 503 "degraded" and consoles show it.\n`);
  }
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
      host,
      port,
      heartbeatMs,
      logger,
      environment: environment?.data ?? null,
      onRefused: (refusal) => recordRefusal(backend.engine, refusal, (err) => process.stderr.write(`audit: could not record a refusal: ${String(err)}\n`)),
      replica: { id: served.replica, store: served.store, healthy: served.healthy, probe: served.probe },
      demo,
      ...(oidc ? { oidc } : {}),
      ...(tls ? { tls } : {}),
      ...(rate > 0 ? { rateLimit: { perSecond: rate, burst: Math.max(1, rate * 2) } } : {}),
    });
  } catch (err) {
    await backend.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`Port ${port} on ${host} is in use.`, 'Stop what listens there, or pass another --port.', 1);
    throw err;
  }
  lendServerContext({ server: { url: server.localUrl, host: server.localHost } });
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' && !tls) {
    process.stderr.write(`warning: listening on ${host} without TLS: tokens cross the network in clear. Pass --tls-cert and --tls-key.\n`);
  }
  // Every replica delivers the outbox; the lease column shares it out (see webhook-worker.ts).
  const webhooks = webhookKey
    ? new WebhookWorker({
        engine: backend.engine,
        box: backend.webhooks.box!,
        owner: served.replica,
        egress: { allowPrivate: allowPrivateWebhooks },
        onError: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook delivery failed'),
      }).start()
    : null;
  if (!webhookKey) process.stderr.write('warning: no webhook key (REWIND_WEBHOOK_KEY or --webhook-key-file): webhooks cannot be added, and none are delivered.\n');
  if (retention) {
    process.stdout.write(`Retention: finished runs lose their checkpoints after ${retention.label}${retention.keepFailedCheckpoints ? ' (a failed run keeps its last one)' : ''}; events are kept. Pruned every 10 minutes, one replica at a time.\n`);
  }
  if (oidc) {
    const { issuer, clientId, audience, roles } = oidc.settings;
    process.stdout.write(`Sign-in: OpenID Connect through ${issuer} (client ${clientId}, audience ${audience}; ${describeMapping(roles)}), and API tokens.\n`);
    // Read now, so the first person need not wait for it; a provider that is away is retried on demand (tokens work meanwhile).
    oidc.discover().catch((err: unknown) => logger.warn({ err: toErrorData(err).message }, 'identity provider unreachable; people cannot sign in until it answers'));
  }
  if (review) process.stdout.write(`Review: ${[...review.actions].join(', ')} need a second person's approval (requests expire after ${Math.round(review.expiryMs / 1000)} s).\n`);
  process.stdout.write(`Rewind workflow server listening on ${server.url} (${served.store} ${served.where}, replica ${served.replica}, schema ${backend.engine.schemaVersion}${environment ? `, environment ${environment.data}` : ''})\n`);

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
      .then(() => webhooks?.stop())
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
  if (debug && !(err instanceof RewindError)) process.stderr.write(`${err instanceof Error ? (err.stack ?? '') : ''}\n`);
  else if (!(err instanceof RewindError)) process.stderr.write('  (run with --debug for the stack trace)\n');
  process.exit(1);
});
