import { hostname } from 'node:os';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { ArchivePage, ChainStatus, RewindEvent, UnregisterResult, Workflow } from '../../preload/contract/entities.js';
import { CanaryService } from './canary.js';
import { ChainGuard, type ChainState } from './chain.js';
import { EngineCore, type EventListener } from './core.js';
import type { EventLog, NewEvent } from './event-log.js';
import { Egress, type EgressOptions } from './egress/egress.js';
import type { RealNodeLimits } from './executor/real-node.js';
import { type SecretSource, envSecrets } from './executor/secrets.js';
import { RewindError } from './errors.js';
import { IncidentRecordService } from './incident-records.js';
import { IncidentReports } from './incident-report.js';
import { DEFAULT_LEASE_MS, RunnerLease, SNAPSHOT_RUNNER_ID } from './runners.js';
import { ReviewService } from './reviews.js';
import { RunService } from './runs.js';
import { type ArchiveQuery, archivePage } from './archive.js';
import { DEFAULT_TUNING, type PrunePreview, type PruneReport, RetentionService, type RetentionPolicy, type RetentionTuning } from './retention.js';
import { ScheduleService } from './schedules.js';
import type { Queryable, Store } from './store/port.js';
import { openSqliteStore } from './store/sqlite/sqlite-store.js';
import { VersionService } from './versions.js';
import { type CodeDefinition, type CodeSyncOutcome, WorkflowService } from './workflows.js';

export interface EngineOptions {
  /** An opened store (SQLite or PostgreSQL); the engine owns it from here: `close()` closes it. */
  store?: Store;
  /** Or the path of a SQLite file (created if missing): the embedded default. */
  path?: string;
  /** Who the engine's own actions (interrupting orphaned runs) are recorded as. */
  systemActor?: string;
  /** Real ms slept per simulated ms of node work; 0 runs nodes back to back. */
  timeScale?: number;
  maxNodeDelayMs?: number;
  clock?: () => Date;
  /** http and command nodes run for real (a server; a sandbox opened for live execution); otherwise they answer their `sandbox` stand-in. */
  liveExecution?: boolean;
  /** Where `{{secret.NAME}}` is read from (REWIND_SECRET_NAME in this process's environment by default). */
  secrets?: SecretSource;
  limits?: Partial<RealNodeLimits>;
  /** False: command nodes fail instead of running (a server without --allow-commands). */
  allowCommands?: boolean;
  /**
   * Values a server lends to its real nodes' templates, over each run's own context: its own
   * address as `server.url` and `server.host`, known only once it listens (so the promise settles then). A node that
   * reads them waits for it; they are never written into a run's context or checkpoints. Only reserved
   * context keys (`server`: see RESERVED_CONTEXT_KEYS) may be lent, so no run param can set them.
   */
  serverContext?: Promise<Record<string, unknown>>;
  /**
   * A server's engine: runs of runners whose lease expired (a replica that died, this process before
   * a kill) are taken over and continued, and a clean close hands its runs over instead of
   * interrupting them. Otherwise (a sandbox) such runs are marked interrupted when the store opens.
   */
  takeover?: boolean;
  /** How long this runner's lease holds after each renewal (renewed three times per period). */
  leaseMs?: number;
  /** The replica this engine serves as, named in `run_taken_over` (host-pid by default). */
  replicaId?: string;
  /** The draw in [0, 1) that decides whether a new run takes a running canary (Math.random by default). */
  random?: () => number;
  /** Fire schedules while open (a server; the console's sandbox). Otherwise `schedules.tick()` fires them when called. */
  runSchedules?: boolean;
  /**
   * How http nodes resolve names and open connections (the system's by default): tests inject a
   * resolver and a connector to see that a refused address is never dialled. The policy itself is
   * fixed: metadata and link-local refused, private ranges allowed (see main/engine/egress/).
   */
  egress?: Pick<EgressOptions, 'resolve' | 'connect'>;
  /** Hears a schedule that could not be handled in a pass (it is tried again in the next). */
  onScheduleError?: (err: unknown) => void;
  /**
   * Prune in the background (a server's --retain-runs): a pass shortly after open, then one every
   * `intervalMs` (default 10 minutes), on whichever process holds the retention lease (see retention.ts).
   */
  retention?: {
    policy: RetentionPolicy;
    intervalMs?: number;
    firstPassMs?: number;
    onPass?: (report: PruneReport) => void;
    onError?: (err: unknown) => void;
  };
  /** Batch sizes, the lease and pauses of pruning passes (tests and benches make them small). */
  retentionTuning?: Partial<RetentionTuning>;
  /**
   * Open and follow incident records as the log is written (default on). The bench's history generator
   * turns it off: its bulk writer writes what the run service writes, and both modes must match row for row.
   */
  incidentRecords?: boolean;
  /**
   * Walk the whole hash chain in the background after open (chunked, yielding the event loop), then
   * every `everyMs` (a server; the console's sandboxes). Absent: the chain is walked whole only on
   * `verifyChain()` (a one-shot CLI command). The open itself verifies only the tail after the stored verified head.
   */
  backgroundVerify?: { everyMs?: number; pauseMs?: number };
  /** Events a whole-chain walk reads per step, between two yields of the event loop (1000 by default). */
  chainChunk?: number;
}

/** How often a background walk of the whole chain comes round again. */
export const DEFAULT_VERIFY_EVERY_MS = 6 * 3_600_000;

export { SNAPSHOT_RUNNER_ID } from './runners.js';

/**
 * The workflow engine: domain rules and sandbox executor over the storage port, in plain Node. It
 * knows nothing of Electron, React, HTTP or backends; the engine backend wraps it for the sandbox
 * and for the workflow server alike.
 */
export class Engine {
  readonly workflows: WorkflowService;
  readonly versions: VersionService;
  readonly runs: RunService;
  private sweepTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  readonly retention: RetentionService;
  readonly canaries: CanaryService;
  readonly schedules: ScheduleService;
  readonly reviews: ReviewService;
  readonly incidents: IncidentRecordService;
  readonly incidentReports: IncidentReports;
  private readonly egress: Egress | null;

  private constructor(
    readonly store: Store,
    private readonly core: EngineCore,
    private readonly lease: RunnerLease,
    private readonly systemActor: string,
    options: EngineOptions,
    private readonly guard: ChainGuard,
  ) {
    this.workflows = new WorkflowService(core);
    this.incidents = new IncidentRecordService(core, systemActor, options.incidentRecords ?? true);
    this.versions = new VersionService(core, this.workflows);
    const canaries = new CanaryService(core, this.workflows, this.versions, options.random ?? Math.random);
    this.canaries = canaries;
    this.versions.hooks = {
      beforeSwitch: (wf, to, type, ts, actor) => canaries.supersede(wf, to, type, ts, actor),
      refuseArchive: (wf, version) => canaries.refuseArchive(wf, version),
    };
    this.egress = options.egress ? new Egress({ allowPrivate: true, what: 'http node', ...options.egress }) : null;
    this.runs = new RunService(core, this.workflows, this.versions, canaries, {
      timeScale: options.timeScale ?? 0,
      maxNodeDelayMs: options.maxNodeDelayMs ?? 5000,
      lease,
      takeover: options.takeover ?? false,
      realWork: { live: options.liveExecution ?? false, allowCommands: options.allowCommands ?? true, secrets: options.secrets ?? envSecrets(),
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.serverContext ? { serverContext: options.serverContext } : {}),
        ...(this.egress ? { egress: this.egress } : {}),
      },
    });
    this.schedules = new ScheduleService(core, this.workflows, this.runs, options.onScheduleError);
    this.retention = new RetentionService(core, { id: lease.id, replica: lease.replica }, systemActor, { ...DEFAULT_TUNING, ...options.retentionTuning });
    this.reviews = new ReviewService(core, this.workflows, systemActor);
    const schedules = this.schedules;
    this.runs.onEnded = (run) => schedules.runEnded(run);
    this.incidentReports = new IncidentReports({ core, records: this.incidents, workflows: this.workflows, versions: this.versions, runs: this.runs });
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const store = options.store ?? (options.path !== undefined ? openSqliteStore(options.path) : undefined);
    if (!store) throw new Error('Engine.open needs a store or a path.');
    try {
      const core = await EngineCore.open(store, options.clock ?? (() => new Date()));
      const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
      const replica = options.replicaId ?? `${hostname()}-${process.pid}`;
      const lease = await RunnerLease.open(store, { leaseMs, replica });
      const systemActor = options.systemActor ?? 'rewind';
      const background = options.backgroundVerify;
      const guard = await ChainGuard.open(core, {
        by: `${systemActor}@${replica}`,
        ...(options.chainChunk === undefined ? {} : { chunk: options.chainChunk }),
        ...(background ? { background: { everyMs: background.everyMs ?? DEFAULT_VERIFY_EVERY_MS }, ...(background.pauseMs === undefined ? {} : { pauseMs: background.pauseMs }) } : {}),
      });
      const engine = new Engine(store, core, lease, systemActor, options, guard);
      if (options.takeover) {
        await engine.runs.takeOver(engine.systemActor);
        // Checked as often as the lease is renewed: a dead runner's runs move within about 1⅓ leases.
        engine.sweepTimer = setInterval(() => void engine.runs.takeOver(engine.systemActor).catch(() => undefined), Math.max(1, Math.floor(leaseMs / 3)));
        engine.sweepTimer.unref();
      } else {
        // A snapshot's copied runs record the server as it was; nobody here ran them, so none is an orphan.
        await engine.runs.interruptOrphans(engine.systemActor, async (runner) => runner === SNAPSHOT_RUNNER_ID || (await lease.isAlive(runner)));
      }
      if (options.runSchedules) engine.schedules.start();
      if (options.retention) engine.pruneInBackground(options.retention);
      return engine;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  get schemaVersion(): number {
    return this.store.schemaVersion;
  }

  get events(): EventLog {
    return this.core.events;
  }

  /** Where a caller's statement goes: the open mutation's transaction, or committed data outside one. */
  q(): Queryable {
    return this.core.q();
  }

  latestSeq(): Promise<number> {
    return this.core.events.latestSeq();
  }

  /**
   * The chain as the open found it: the stored verified head's event and the tail after it, or a
   * break a whole-chain walk of an earlier process remembered.
   */
  get chainAtOpen(): ChainStatus {
    return this.guard.atOpen;
  }

  /** The chain as this process knows it now: at open, as each event arrived, and by whole-chain walks. */
  get chain(): ChainState {
    return this.guard.state();
  }

  /** Walks the whole chain now (chunked, yielding the event loop); a walk already under way is shared. */
  verifyChain(): Promise<ChainStatus> {
    return this.guard.verifyAll();
  }

  /** Hears a break found while open (by a background walk, `verifyChain`, or an event that arrived broken). */
  onChainBroken(listener: (state: ChainState) => void): () => void {
    return this.guard.onBroken(listener);
  }

  private knownServerId: string | null = null;

  /**
   * The database's stable id (migration 0180 writes it once, in `server_identity`): every replica of a server
   * reads the same one, and a snapshot or a fresh sandbox has its own. Consoles tell servers apart by it.
   */
  async serverId(): Promise<string> {
    if (this.knownServerId === null) {
      const row = await this.store.read.get<{ id: string }>('SELECT id FROM server_identity LIMIT 1');
      if (!row) throw new RewindError('INTERNAL', 'This database has no server id.', 'Open it with this version of Rewind once, so its migrations run.');
      this.knownServerId = row.id;
    }
    return this.knownServerId;
  }

  /** Listeners hear each event once its transaction has committed, in seq order. */
  onEvent(listener: EventListener): () => void {
    return this.core.onEvent(listener);
  }

  /** The last seq handed to listeners: a subscriber's backlog reaches it before it goes live. */
  get publishedSeq(): number {
    return this.core.publishedSeq;
  }

  /** One unit of work (joining the open one when nested) whose events are published after commit. */
  mutate<T>(fn: () => Promise<T>): Promise<T> {
    return this.core.mutate(fn);
  }

  /**
   * Appends an event to the hash-chained log inside the current `mutate` (its commit publishes it):
   * how changes outside the workflow engine (runbooks, tokens) reach the same audit log.
   */
  append(event: Omit<NewEvent, 'ts'> & { ts?: string }): Promise<RewindEvent> {
    return this.core.append({ ...event, ts: event.ts ?? this.core.now() });
  }

  now(): string {
    return this.core.now();
  }

  /** Unregisters a workflow (see `WorkflowService.unregister`); runs in flight are cancelled as `actor` when asked. */
  unregister(input: ParsedInput<'workflows:unregister'>, actor: string, options: { letRunsFinish?: boolean } = {}): Promise<UnregisterResult> {
    return this.workflows.unregister(input, actor, (runId) => this.runs.cancel(runId, actor), options);
  }

  /**
   * Brings the CODE workflow a code-folder file defines in line with it, as actor `code:<file>`: a new
   * workflow, or the file's DSL published as a new version, its schedule and description updated —
   * unless `stillOnDisk` says the file changed since it was read (checked under the chain-head lock,
   * so replicas syncing one folder publish a change once). A refusal of the file recorded before is
   * cleared in the same unit of work (`code_file_accepted`).
   */
  syncCode(def: CodeDefinition, stillOnDisk: () => boolean = () => true): Promise<{ workflow: Workflow | null; outcome: CodeSyncOutcome }> {
    const actor = `code:${def.file}`;
    return this.core.mutate(async () => {
      const synced = await this.workflows.syncCode(
        def,
        actor,
        async (wf, dsl) => {
          const draft = await this.versions.createDraft({ workflow_id: wf.id, dsl, change_log: `From ${def.file}`, expected_revision: undefined }, actor);
          await this.versions.publish({ workflow_id: wf.id, version: draft.version, expected_revision: undefined }, actor);
        },
        // The newest version, not the active one: an operator's rollback of a CODE workflow holds until the file changes again.
        async (wf) => (await this.versions.list({ workflow_id: wf.id, offset: 0, limit: 1, include_dsl: true })).versions[0]?.dsl_definition ?? null,
        stillOnDisk,
      );
      if (synced.workflow) await this.clearCodeRefusal(def.file, def.hash, synced.workflow.id, actor);
      return synced;
    });
  }

  /**
   * Records that a code-folder file was refused while its workflow keeps its last good version:
   * `code_file_refused {file, line, field, message, hash}` once per file and content, however many
   * passes or replicas meet it (the `code_file_refusals` row is the claim). Nothing when the file
   * changed since it was read. Whether it was recorded now.
   */
  refuseCodeFile(refusal: { file: string; hash: string; line: number | null; field: string | null; message: string }, stillOnDisk: () => boolean = () => true): Promise<boolean> {
    return this.core.mutate(async () => {
      if (!stillOnDisk()) return false;
      const q = this.core.q();
      const known = await q.get<{ hash: string }>('SELECT hash FROM code_file_refusals WHERE file = ?', [refusal.file]);
      if (known?.hash === refusal.hash) return false;
      const ts = this.core.now();
      await q.run(
        'INSERT INTO code_file_refusals (file, hash, refused_at) VALUES (?, ?, ?) ON CONFLICT (file) DO UPDATE SET hash = excluded.hash, refused_at = excluded.refused_at',
        [refusal.file, refusal.hash, ts],
      );
      const wf = await q.get<{ id: string }>("SELECT id FROM workflows WHERE code_file = ? AND source_type = 'CODE' AND unregistered_at IS NULL", [refusal.file]);
      await this.core.append({ type: 'code_file_refused', workflow_id: wf?.id ?? null, actor: `code:${refusal.file}`, ts, payload: { ...refusal } });
      return true;
    });
  }

  /** Clears the refusals of files that left the folder (`code_file_accepted` with `removed: true`); still-absent is checked under the lock. */
  async forgetRemovedCodeFiles(present: ReadonlySet<string>, isGone: (file: string) => boolean): Promise<void> {
    const refused = await this.core.store.read.all<{ file: string }>('SELECT file FROM code_file_refusals');
    for (const { file } of refused) {
      if (present.has(file)) continue;
      await this.core.mutate(async () => {
        if (isGone(file)) await this.clearCodeRefusal(file, null, null, `code:${file}`);
      });
    }
  }

  private async clearCodeRefusal(file: string, hash: string | null, workflowId: string | null, actor: string): Promise<void> {
    const { changes } = await this.core.q().run('DELETE FROM code_file_refusals WHERE file = ?', [file]);
    if (changes === 0) return;
    await this.core.append({ type: 'code_file_accepted', workflow_id: workflowId, actor, ts: this.core.now(), payload: { file, hash, removed: hash === null } });
  }

  /**
   * Unregisters a CODE workflow whose file left the code folder; its runs in flight finish on their
   * pinned version. Once: a workflow another replica unregistered already, or whose file is back
   * (`isGone` false under the lock), is left alone (null).
   */
  unregisterCode(workflowId: string, file: string, isGone: () => boolean = () => true): Promise<UnregisterResult | null> {
    return this.workflows.asCodeFolder(() =>
      this.core.mutate(async () => {
        const row = await this.core.q().get<{ unregistered_at: string | null }>('SELECT unregistered_at FROM workflows WHERE id = ?', [workflowId]);
        if (!row || row.unregistered_at !== null || !isGone()) return null;
        return this.unregister({ workflow_id: workflowId, cancel_running: false, expected_revision: undefined }, `code:${file}`, { letRunsFinish: true });
      }),
    );
  }

  /**
   * Runs `fn` as if at `at`, with runs executing to completion before it returns: how the demo
   * sandbox writes a realistic past. Not for live use.
   */
  atTime<T>(at: Date, fn: () => Promise<T>): Promise<T> {
    return this.core.atTime(at, () => this.runs.inline(fn));
  }

  /**
   * One retention pass now (see retention.ts): null when another process holds the retention lease.
   * `now` is when the window is counted back from (the engine's clock by default).
   */
  prune(policy: RetentionPolicy, now?: Date): Promise<PruneReport | null> {
    return this.retention.prune(policy, now);
  }

  /** A page of the runs an archive exports (see archive.ts). */
  archivePage(query: ArchiveQuery): Promise<ArchivePage> {
    return archivePage(this.core, query);
  }

  /** How many other processes have this store open and alive (a server beside a CLI): a VACUUM must wait for them to close. */
  async otherLiveRunners(): Promise<number> {
    let n = 0;
    for (const { runner_id } of await this.store.read.all<{ runner_id: string }>('SELECT runner_id FROM runners WHERE runner_id <> ?', [this.lease.id])) {
      if (await this.lease.isAlive(runner_id)) n += 1;
    }
    return n;
  }

  /** What a retention pass would remove now, removing nothing. */
  previewPrune(policy: RetentionPolicy, now?: Date): Promise<PrunePreview> {
    return this.retention.preview(policy, now);
  }

  private pruneInBackground(options: NonNullable<EngineOptions['retention']>): void {
    const pass = () => {
      this.retention
        .prune(options.policy)
        .then((report) => report && options.onPass?.(report), (err: unknown) => options.onError?.(err))
        .finally(() => {
          if (this.pruneTimer) this.pruneTimer = setTimeout(pass, options.intervalMs ?? 600_000).unref();
        });
    };
    this.pruneTimer = setTimeout(pass, options.firstPassMs ?? 5000).unref();
  }

  /** Runs one takeover pass now (a server does so on its own every third of a lease); how many runs it took over. */
  takeOverExpiredRuns(): Promise<number> {
    return this.runs.takeOver(this.systemActor);
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    this.pruneTimer = null;
    await this.retention.stop();
    await this.schedules.stop();
    this.core.stop();
    if (this.store.healthy) await this.runs.close(this.systemActor);
    await this.lease.release();
    await this.guard.close();
    await this.egress?.close();
    await this.store.close();
  }
}
