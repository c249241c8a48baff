import { hostname } from 'node:os';
import { EngineBackend, type SandboxOptions, openSandbox } from '../backends/engine-backend.js';
import { seedDemo, seedServerDemo } from '../engine/demo/seed.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import type { StoreKind } from '../engine/store/port.js';
import { isPostgresUrl, openPostgresStore, parsePostgresUrl } from '../engine/store/postgres/index.js';
import { seedSampleRunbooks } from '../backends/runbook-handlers.js';

/** What the server serves and how it names itself: the store behind it and this replica's id. */
export interface ServedStore {
  backend: EngineBackend;
  store: StoreKind;
  replica: string;
  /** Where the data lives, for the start-up line (a PostgreSQL password is masked). */
  where: string;
  /** False while the database is unreachable (always true for SQLite). */
  healthy(): boolean;
  /** A cheap read and a write that changes nothing the engine reads: what a degraded server tries, to learn that the database is back. */
  probe(): Promise<void>;
}

const PROBE_READ = 'SELECT 1 AS ok';
// A real write (a read-only database or mount must refuse it, on either store), to a meta row no rule reads.
const PROBE_WRITE = "INSERT INTO meta (key, value) VALUES ('health_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

function prober(engine: Engine, replica: string): () => Promise<void> {
  return async () => {
    await engine.store.read.get(PROBE_READ);
    await engine.store.transaction((tx) => tx.run(PROBE_WRITE, [`${replica} ${new Date().toISOString()}`]));
  };
}

export interface OpenStoreOptions {
  /** A SQLite file path, or `postgres://USER:PASS@HOST:PORT/DB`. */
  db: string;
  /** Names this replica in /health, /metrics and pg_stat_activity; `host-pid` by default. */
  replicaId?: string;
  timeScale: number;
  /** How long a replica's run lease holds (`--lease-ms`); another replica takes its runs over once it expires. */
  leaseMs?: number;
  demo: boolean;
  actor: string;
  /** What the engine and its backend allow, as for a sandbox: real work, commands, a broken chain. */
  serve?: Pick<SandboxOptions, 'allowBrokenChain' | 'liveExecution' | 'allowCommands' | 'limits' | 'webhookKey' | 'serverContext' | 'allowPrivateWebhooks' | 'review'>;
  /** Fire schedules (default true: a server fires them; every replica runs the scheduler, each tick fires once). */
  runSchedules?: boolean;
  /** `--retain-runs`: prune in the background, one replica at a time. */
  retention?: EngineOptions['retention'];
  /** How the whole chain is walked in the background (default: after start, then every six hours). */
  backgroundVerify?: EngineOptions['backgroundVerify'];
}

/** The replica id when none is given: unique per process on a host, readable in pg_stat_activity. */
export function defaultReplicaId(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * Whether this replica seeds the demo: only into an empty log, and only one of several replicas
 * started at once on an empty database. The claim is a row written under the chain-head lock, so a
 * second replica waits for the first one's claim and then finds it. (A replica that dies while
 * seeding leaves a partial demo: it is a convenience of a first start, not data.)
 */
async function claimDemoSeeding(engine: Engine): Promise<boolean> {
  return engine.mutate(async () => {
    if ((await engine.latestSeq()) > 0) return false;
    if (await engine.q().get("SELECT 1 AS claimed FROM meta WHERE key = 'demo_seeding'")) return false;
    await engine.q().run("INSERT INTO meta (key, value) VALUES ('demo_seeding', ?)", [engine.now()]);
    return true;
  });
}

/** The demo a server seeds: the sandbox's, its sample runbooks, and the workflow calling the server's own inspection station. */
async function seedServedDemo(engine: Engine, actor: string): Promise<void> {
  await seedDemo(engine, actor);
  await seedSampleRunbooks(engine, actor);
  await seedServerDemo(engine, actor);
}

/** A server's engine takes over the runs of dead runners, on either store (one process restarted, or replicas). */
function takeover(options: OpenStoreOptions, replicaId: string): Pick<EngineOptions, 'takeover' | 'replicaId' | 'leaseMs' | 'retention'> {
  return { takeover: true, replicaId, ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }), ...(options.retention ? { retention: options.retention } : {}) };
}

/**
 * Opens the server's store: PostgreSQL for a postgres:// URL (one replica among any number on that
 * database), else a SQLite file (the default). Failures are the adapters' typed errors
 * (INVALID_DATABASE_URL, STORE_UNAVAILABLE, STORE_AUTH_FAILED, STORE_DATABASE_MISSING, SCHEMA_TOO_NEW),
 * which the CLI prints with their hint and exit code 2.
 */
export async function openServedStore(options: OpenStoreOptions): Promise<ServedStore> {
  const replica = options.replicaId ?? defaultReplicaId();
  if (!isPostgresUrl(options.db)) {
    const backend = await openSandbox({ path: options.db, timeScale: options.timeScale, demo: false, actor: options.actor, runSchedules: options.runSchedules ?? true, backgroundVerify: options.backgroundVerify ?? {}, ...options.serve, ...takeover(options, replica) });
    if (options.demo && (await claimDemoSeeding(backend.engine))) await seedServedDemo(backend.engine, options.actor);
    return { backend, store: 'sqlite', replica, where: options.db, healthy: () => true, probe: prober(backend.engine, replica) };
  }
  const target = parsePostgresUrl(options.db);
  const store = await openPostgresStore({ url: options.db, replicaId: replica });
  const serve = options.serve ?? {};
  const engine = await Engine.open({
    store,
    timeScale: options.timeScale,
    ...takeover(options, replica),
    runSchedules: options.runSchedules ?? true,
    backgroundVerify: options.backgroundVerify ?? {},
    ...(serve.liveExecution === undefined ? {} : { liveExecution: serve.liveExecution }),
    ...(serve.allowCommands === undefined ? {} : { allowCommands: serve.allowCommands }),
    ...(serve.limits ? { limits: serve.limits } : {}),
    ...(serve.serverContext ? { serverContext: serve.serverContext } : {}),
  });
  if (options.demo && (await claimDemoSeeding(engine))) await seedServedDemo(engine, options.actor);
  const backend = new EngineBackend(engine, options.actor, {
    ...(serve.allowBrokenChain === undefined ? {} : { allowBrokenChain: serve.allowBrokenChain }),
    ...(serve.allowCommands === undefined ? {} : { allowCommands: serve.allowCommands }),
    ...(serve.webhookKey ? { webhookKey: serve.webhookKey } : {}),
    ...(serve.allowPrivateWebhooks ? { allowPrivateWebhooks: true } : {}),
    ...(serve.review ? { review: serve.review } : {}),
  });
  return { backend, store: 'postgres', replica, where: target.redacted, healthy: () => store.healthy, probe: prober(engine, replica) };
}
