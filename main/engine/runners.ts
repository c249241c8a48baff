import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from './store/port.js';

const HEARTBEAT_MS = 10_000;
/** Another host's runner counts as gone after missing this many heartbeats. */
const STALE_MS = HEARTBEAT_MS * 3;

interface RunnerRow {
  runner_id: string;
  pid: number;
  host: string;
  heartbeat_at: string;
}

/** Leases held in this process, so a same-pid runner is judged by whether its store is still open. */
const leasesHere = new Map<string, RunnerLease>();

/**
 * This process's registration as a runner of the store. Several processes may open one sandbox (the
 * console and a CLI beside it); on open, each must interrupt only the runs whose process has died,
 * never the runs another live process is executing.
 */
export class RunnerLease {
  readonly id = randomUUID();
  private readonly host = hostname();
  private timer: NodeJS.Timeout | null = null;

  private constructor(private readonly store: Store) {}

  static async open(store: Store, now: () => string): Promise<RunnerLease> {
    const lease = new RunnerLease(store);
    const ts = now();
    await store.transaction((tx) => tx.run('INSERT INTO runners (runner_id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)', [lease.id, process.pid, lease.host, ts, ts]));
    lease.timer = setInterval(() => {
      // A missed heartbeat is retried by the next one; a closed store has nothing to beat for.
      if (store.healthy) store.read.run('UPDATE runners SET heartbeat_at = ? WHERE runner_id = ?', [now(), lease.id]).catch(() => undefined);
    }, HEARTBEAT_MS);
    lease.timer.unref();
    leasesHere.set(lease.id, lease);
    return lease;
  }

  /** Whether the runner that recorded a run is still alive; forgets runners that are not. */
  isAlive = async (runnerId: string | null): Promise<boolean> => {
    if (runnerId === null) return false;
    if (runnerId === this.id) return true;
    const row = await this.store.read.get<RunnerRow>('SELECT runner_id, pid, host, heartbeat_at FROM runners WHERE runner_id = ?', [runnerId]);
    if (!row) return false;
    const alive =
      row.host !== this.host
        ? Date.now() - Date.parse(row.heartbeat_at) < STALE_MS
        : row.pid === process.pid
          ? leasesHere.get(row.runner_id)?.store.healthy === true
          : processExists(row.pid);
    if (!alive) await this.store.read.run('DELETE FROM runners WHERE runner_id = ?', [runnerId]);
    return alive;
  };

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
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
