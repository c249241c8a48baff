import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from './store/port.js';

/** The runner recorded on runs a snapshot copied from a server: they are never executed, nor taken over, nor interrupted. */
export const SNAPSHOT_RUNNER_ID = 'snapshot';

/** How long a runner's lease lasts unless told otherwise (the server's `--lease-ms` default). */
export const DEFAULT_LEASE_MS = 15_000;
/** Runners that started before leases existed beat every 10 s; they count as gone after missing three. */
const LEGACY_STALE_MS = 30_000;

/** A runner as the runs it executes see it: who, where, and until when its lease holds. */
export interface RunnerRow {
  runner_id: string;
  pid: number;
  host: string;
  heartbeat_at: string;
  lease_until: string | null;
  replica: string | null;
}

export interface LeaseOptions {
  /** How long the lease holds after each renewal; renewed three times per period. */
  leaseMs: number;
  /** The replica this runner belongs to (the server's `--replica-id`), named in `run_taken_over`. */
  replica: string;
  /** Wall-clock milliseconds; leases are compared across processes, so never the engine's stopped demo clock. */
  clock?: () => number;
}

const SELECT_RUNNER = 'SELECT runner_id, pid, host, heartbeat_at, lease_until, replica FROM runners WHERE runner_id = ?';
const INSERT_RUNNER = 'INSERT INTO runners (runner_id, pid, host, started_at, heartbeat_at, lease_until, replica) VALUES (?, ?, ?, ?, ?, ?, ?)';
const RENEW = 'UPDATE runners SET heartbeat_at = ?, lease_until = ? WHERE runner_id = ?';
const SELECT_IDLE_RUNNERS = `SELECT n.runner_id, n.pid, n.host, n.heartbeat_at, n.lease_until, n.replica FROM runners n
  WHERE n.runner_id <> ? AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.runner_id = n.runner_id AND r.status IN ('queued', 'running', 'waiting'))`;

/** Leases held in this process, so a same-pid runner is judged by whether its store is still open. */
const leasesHere = new Map<string, RunnerLease>();

/**
 * This process's registration as a runner of the store, with a lease it renews. Several processes
 * may open one store (the console and a CLI beside one sandbox file; replicas on one PostgreSQL
 * database). A runner whose lease has expired is gone: a server takes its runs over (see
 * `RunService.takeOver`), a sandbox marks them interrupted when it opens.
 *
 * Leases compare timestamps written by different processes: replicas need clocks kept in step (NTP)
 * to well within the lease. A runner judged gone too early is still safe — its next checkpoint finds
 * the run no longer its own and it stops (the fence in `RunService`).
 */
export class RunnerLease {
  readonly id = randomUUID();
  readonly replica: string;
  readonly leaseMs: number;
  private readonly host = hostname();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;

  private constructor(
    private readonly store: Store,
    options: LeaseOptions,
  ) {
    this.replica = options.replica;
    this.leaseMs = options.leaseMs;
    this.clock = options.clock ?? Date.now;
  }

  static async open(store: Store, options: LeaseOptions): Promise<RunnerLease> {
    const lease = new RunnerLease(store, options);
    await lease.register();
    lease.timer = setInterval(() => void lease.renew(), Math.max(1, Math.floor(lease.leaseMs / 3)));
    lease.timer.unref();
    leasesHere.set(lease.id, lease);
    return lease;
  }

  private async register(): Promise<void> {
    const now = this.clock();
    const ts = new Date(now).toISOString();
    await this.store.transaction((tx) => tx.run(INSERT_RUNNER, [this.id, process.pid, this.host, ts, ts, new Date(now + this.leaseMs).toISOString(), this.replica]));
  }

  /**
   * Extends the lease. A row that is gone (another runner judged this one dead while the database
   * was away, and forgot it) is written again: runs started from now on are this runner's.
   */
  renew(): Promise<void> {
    // A missed renewal is retried by the next one; a closed or unreachable store has nothing to renew.
    if (this.renewing || !this.store.healthy) return this.renewing ?? Promise.resolve();
    this.renewing = (async () => {
      try {
        const now = this.clock();
        const { changes } = await this.store.read.run(RENEW, [new Date(now).toISOString(), new Date(now + this.leaseMs).toISOString(), this.id]);
        if (changes === 0 && this.timer) await this.register();
      } catch {
        // The next tick tries again.
      } finally {
        this.renewing = null;
      }
    })();
    return this.renewing;
  }

  /** Whether a runner (as read from `runners`, undefined when it has no row) no longer holds its lease. */
  expired(row: Pick<RunnerRow, 'heartbeat_at' | 'lease_until'> | undefined): boolean {
    if (!row) return true;
    const until = row.lease_until === null ? Date.parse(row.heartbeat_at) + LEGACY_STALE_MS : Date.parse(row.lease_until);
    return !(until > this.clock());
  }

  /** The row of a runner, read inside the caller's unit of work when it passes one. */
  row(q: Pick<Store['read'], 'get'>, runnerId: string): Promise<RunnerRow | undefined> {
    return q.get<RunnerRow>(SELECT_RUNNER, [runnerId]);
  }

  /** Forgets runners whose lease expired and that hold no unfinished run any more. */
  async forgetExpired(): Promise<void> {
    for (const row of await this.store.read.all<RunnerRow>(SELECT_IDLE_RUNNERS, [this.id])) {
      if (this.expired(row)) await this.store.read.run('DELETE FROM runners WHERE runner_id = ? AND heartbeat_at = ?', [row.runner_id, row.heartbeat_at]);
    }
  }

  /**
   * Whether the runner that recorded a run is still alive (a sandbox opening a file another process
   * may be using); forgets runners that are not. A runner on this host is judged by its process.
   */
  isAlive = async (runnerId: string | null): Promise<boolean> => {
    if (runnerId === null) return false;
    if (runnerId === this.id) return true;
    const row = await this.row(this.store.read, runnerId);
    if (!row) return false;
    const alive =
      row.host !== this.host
        ? !this.expired(row)
        : row.pid === process.pid
          ? leasesHere.get(row.runner_id)?.store.healthy === true
          : processExists(row.pid);
    if (!alive) await this.store.read.run('DELETE FROM runners WHERE runner_id = ?', [runnerId]);
    return alive;
  };

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    leasesHere.delete(this.id);
    if (this.store.healthy) await this.store.read.run('DELETE FROM runners WHERE runner_id = ?', [this.id]);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
