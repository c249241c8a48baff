import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';

const HEARTBEAT_MS = 10_000;
/** Another host's runner counts as gone after missing this many heartbeats. */
const STALE_MS = HEARTBEAT_MS * 3;

interface RunnerRow {
  runner_id: string;
  pid: number;
  host: string;
  heartbeat_at: string;
}

/** Leases held in this process, so a same-pid runner is judged by its own database handle. */
const leasesHere = new Map<string, RunnerLease>();

/**
 * This process's registration as a runner of the file. Several processes may open one sandbox (the
 * console and a CLI beside it); on open, each must interrupt only the runs whose process has died,
 * never the runs another live process is executing.
 */
export class RunnerLease {
  readonly id = randomUUID();
  private readonly host = hostname();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Database.Database,
    now: () => string,
  ) {
    const ts = now();
    db.prepare('INSERT INTO runners (runner_id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)').run(this.id, process.pid, this.host, ts, ts);
    const beat = db.prepare('UPDATE runners SET heartbeat_at = ? WHERE runner_id = ?');
    this.timer = setInterval(() => {
      if (db.open) beat.run(now(), this.id);
    }, HEARTBEAT_MS);
    this.timer.unref();
    leasesHere.set(this.id, this);
  }

  /** Whether the runner that recorded a run is still alive; forgets runners that are not. */
  isAlive = (runnerId: string | null): boolean => {
    if (runnerId === null) return false;
    if (runnerId === this.id) return true;
    const row = this.db.prepare('SELECT runner_id, pid, host, heartbeat_at FROM runners WHERE runner_id = ?').get(runnerId) as RunnerRow | undefined;
    if (!row) return false;
    const alive =
      row.host !== this.host
        ? Date.now() - Date.parse(row.heartbeat_at) < STALE_MS
        : row.pid === process.pid
          ? leasesHere.get(row.runner_id)?.db.open === true
          : processExists(row.pid);
    if (!alive) this.db.prepare('DELETE FROM runners WHERE runner_id = ?').run(runnerId);
    return alive;
  };

  release(): void {
    clearInterval(this.timer);
    leasesHere.delete(this.id);
    if (this.db.open) this.db.prepare('DELETE FROM runners WHERE runner_id = ?').run(this.id);
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
