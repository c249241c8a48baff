import type Database from 'better-sqlite3';
import type { ChainStatus, RewindEvent } from '../../preload/contract/entities.js';
import { EngineCore, type EventListener } from './core.js';
import type { NewEvent } from './event-log.js';
import { openDatabase } from './database.js';
import type { RealNodeLimits } from './executor/real-node.js';
import { type SecretSource, envSecrets } from './executor/secrets.js';
import { RunnerLease } from './runners.js';
import { RunService } from './runs.js';
import { VersionService } from './versions.js';
import { WorkflowService } from './workflows.js';

export interface EngineOptions {
  /** The SQLite file (created if missing). */
  path: string;
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
}

/** The runner recorded on runs a snapshot copied from a server: they are never executed, nor interrupted, here. */
export const SNAPSHOT_RUNNER_ID = 'snapshot';

/** How often the engine looks for commits of another process on the same file (a CLI beside the console). */
const EXTERNAL_POLL_MS = 250;

/**
 * The workflow engine: store, domain rules and sandbox executor, in plain Node. It knows nothing of
 * Electron, React, HTTP or backends; the sandbox backend and the workflow server both wrap it.
 */
export class Engine {
  readonly db: Database.Database;
  readonly path: string;
  readonly schemaVersion: number;
  readonly workflows: WorkflowService;
  readonly versions: VersionService;
  readonly runs: RunService;
  private readonly core: EngineCore;
  private readonly lease: RunnerLease;
  private readonly systemActor: string;
  private readonly externalPoll: NodeJS.Timeout;
  /** The chain as verified when the file was opened; `verifyChain()` checks it again. */
  readonly chainAtOpen: ChainStatus;

  private constructor(options: EngineOptions) {
    const { db, schema } = openDatabase(options.path);
    this.db = db;
    this.path = options.path;
    this.schemaVersion = schema.to;
    this.core = new EngineCore(db, options.clock ?? (() => new Date()));
    this.systemActor = options.systemActor ?? 'rewind';
    this.lease = new RunnerLease(db, () => this.core.now());
    this.workflows = new WorkflowService(this.core);
    this.versions = new VersionService(this.core, this.workflows);
    this.runs = new RunService(this.core, this.workflows, this.versions, {
      timeScale: options.timeScale ?? 0,
      maxNodeDelayMs: options.maxNodeDelayMs ?? 5000,
      runnerId: this.lease.id,
      realWork: { live: options.liveExecution ?? false, allowCommands: options.allowCommands ?? true, secrets: options.secrets ?? envSecrets(), ...(options.limits ? { limits: options.limits } : {}) },
    });
    this.chainAtOpen = this.core.events.verify();
    // A snapshot's copied runs record the server as it was; nobody here ran them, so none is an orphan.
    this.runs.interruptOrphans(this.systemActor, (runner) => runner === SNAPSHOT_RUNNER_ID || this.lease.isAlive(runner));
    this.externalPoll = setInterval(() => this.core.pollExternalCommits(), EXTERNAL_POLL_MS);
    this.externalPoll.unref();
  }

  static open(options: EngineOptions): Engine {
    return new Engine(options);
  }

  get events() {
    return this.core.events;
  }

  latestSeq(): number {
    return this.core.events.latestSeq();
  }

  verifyChain(): ChainStatus {
    return this.core.events.verify();
  }

  /** Listeners hear each event once its transaction has committed, in seq order. */
  onEvent(listener: EventListener): () => void {
    return this.core.onEvent(listener);
  }

  /** One IMMEDIATE transaction (savepoint when nested) whose events are published after commit. */
  mutate<T>(fn: () => T): T {
    return this.core.mutate(fn);
  }

  /**
   * Appends an event to the hash-chained log inside the current `mutate` (its commit publishes it):
   * how changes outside the workflow engine (runbooks, tokens) reach the same audit log.
   */
  append(event: Omit<NewEvent, 'ts'> & { ts?: string }): RewindEvent {
    return this.core.append({ ...event, ts: event.ts ?? this.core.now() });
  }

  now(): string {
    return this.core.now();
  }

  /**
   * Runs `fn` as if at `at`, with runs executing to completion before it returns: how the demo
   * sandbox writes a realistic past. Not for live use.
   */
  atTime<T>(at: Date, fn: () => T): T {
    return this.core.atTime(at, () => this.runs.inline(fn));
  }

  async close(): Promise<void> {
    clearInterval(this.externalPoll);
    if (this.db.open) await this.runs.close(this.systemActor);
    this.lease.release();
    if (this.db.open) this.db.close();
  }
}
