import type { ChainStatus, RewindEvent } from '../../preload/contract/entities.js';
import { EngineCore, type EventListener } from './core.js';
import type { EventLog, NewEvent } from './event-log.js';
import type { RealNodeLimits } from './executor/real-node.js';
import { type SecretSource, envSecrets } from './executor/secrets.js';
import { RunnerLease } from './runners.js';
import { RunService } from './runs.js';
import { ScheduleService } from './schedules.js';
import type { Queryable, Store } from './store/port.js';
import { openSqliteStore } from './store/sqlite/sqlite-store.js';
import { VersionService } from './versions.js';
import { WorkflowService } from './workflows.js';

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
  /** Fire schedules while open (a server; the console's sandbox). Otherwise `schedules.tick()` fires them when called. */
  runSchedules?: boolean;
  /** Hears a schedule that could not be handled in a pass (it is tried again in the next). */
  onScheduleError?: (err: unknown) => void;
}

/** The runner recorded on runs a snapshot copied from a server: they are never executed, nor interrupted, here. */
export const SNAPSHOT_RUNNER_ID = 'snapshot';

/**
 * The workflow engine: domain rules and sandbox executor over the storage port, in plain Node. It
 * knows nothing of Electron, React, HTTP or backends; the engine backend wraps it for the sandbox
 * and for the workflow server alike.
 */
export class Engine {
  readonly workflows: WorkflowService;
  readonly versions: VersionService;
  readonly runs: RunService;
  readonly schedules: ScheduleService;

  private constructor(
    readonly store: Store,
    private readonly core: EngineCore,
    private readonly lease: RunnerLease,
    private readonly systemActor: string,
    options: EngineOptions,
    /** The chain as verified when the store was opened; `verifyChain()` checks it again. */
    readonly chainAtOpen: ChainStatus,
  ) {
    this.workflows = new WorkflowService(core);
    this.versions = new VersionService(core, this.workflows);
    this.runs = new RunService(core, this.workflows, this.versions, {
      timeScale: options.timeScale ?? 0,
      maxNodeDelayMs: options.maxNodeDelayMs ?? 5000,
      runnerId: lease.id,
      realWork: { live: options.liveExecution ?? false, allowCommands: options.allowCommands ?? true, secrets: options.secrets ?? envSecrets(), ...(options.limits ? { limits: options.limits } : {}) },
    });
    this.schedules = new ScheduleService(core, this.workflows, this.runs, options.onScheduleError);
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const store = options.store ?? (options.path !== undefined ? openSqliteStore(options.path) : undefined);
    if (!store) throw new Error('Engine.open needs a store or a path.');
    try {
      const core = await EngineCore.open(store, options.clock ?? (() => new Date()));
      const lease = await RunnerLease.open(store, () => core.now());
      const chainAtOpen = await core.events.verify();
      const engine = new Engine(store, core, lease, options.systemActor ?? 'rewind', options, chainAtOpen);
      // A snapshot's copied runs record the server as it was; nobody here ran them, so none is an orphan.
      await engine.runs.interruptOrphans(engine.systemActor, async (runner) => runner === SNAPSHOT_RUNNER_ID || (await lease.isAlive(runner)));
      if (options.runSchedules) engine.schedules.start();
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

  verifyChain(): Promise<ChainStatus> {
    return this.core.events.verify();
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

  /**
   * Runs `fn` as if at `at`, with runs executing to completion before it returns: how the demo
   * sandbox writes a realistic past. Not for live use.
   */
  atTime<T>(at: Date, fn: () => Promise<T>): Promise<T> {
    return this.core.atTime(at, () => this.runs.inline(fn));
  }

  async close(): Promise<void> {
    await this.schedules.stop();
    this.core.stop();
    if (this.store.healthy) await this.runs.close(this.systemActor);
    await this.lease.release();
    await this.store.close();
  }
}
