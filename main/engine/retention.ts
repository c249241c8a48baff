import { RewindError } from './errors.js';
import type { EngineCore } from './core.js';
import { type CheckpointRow } from './rows.js';
import { foldLast } from './checkpoint-state.js';
import type { ReclaimedSpace, SqlValue, Tx } from './store/port.js';

/*
 * Retention (`--retain-runs 90d`): finished runs older than the window lose their checkpoints — the
 * run row, its status, version, times and error stay, marked `pruned_at` — and the bulky bookkeeping
 * rows go too: idempotency keys after 24 hours, schedule ticks and webhook deliveries after the
 * window. Events are never deleted: they are the audit log.
 *
 * A pass runs in small batches, each its own short transaction (no chain-head lock: it appends no
 * event), so writers wait at most one batch. One process at a time prunes: the `retention_lease` row
 * is claimed by compare-and-set, like a run's lease, and every batch re-checks it (a pass judged dead
 * too early stops at its next batch). Each batch adds what it removed to the pass's counts in the same
 * row, in the same transaction: a run is pruned whole or not at all, and a pass cut short by a crash
 * is recorded by the next one. A pass ends by appending `runs_pruned {before, runs, checkpoints, …}`
 * (when it removed anything), then gives the space back (SQLite incremental vacuum; PostgreSQL's
 * autovacuum reuses it).
 */

export interface RetentionPolicy {
  /** Finished runs that ended longer ago than this lose their checkpoints. */
  retainMs: number;
  /** The window as a person reads it ("90 days"), recorded on each pruned run. */
  label: string;
  /** A failed run keeps its last checkpoint (rewritten as a full copy). */
  keepFailedCheckpoints: boolean;
}

export interface RetentionTuning {
  /** Runs per batch transaction. */
  batchRuns: number;
  /** Idempotency keys, ticks or deliveries per batch transaction. */
  batchRows: number;
  /** How long the pass's hold on the lease lasts unless a batch renews it (wall-clock ms). */
  leaseMs: number;
  /** Idempotency keys are kept this long (a client retries within minutes, not days). */
  idempotencyMs: number;
  /** A pause between batches, so a burst of requests gets the store first. */
  pauseMs: number;
}

export const DEFAULT_TUNING: RetentionTuning = { batchRuns: 50, batchRows: 1000, leaseMs: 60_000, idempotencyMs: 24 * 3_600_000, pauseMs: 2 };

/** What one pass removed. */
export interface PruneCounts {
  runs: number;
  checkpoints: number;
  idempotency_keys: number;
  schedule_ticks: number;
  webhook_deliveries: number;
}

export interface PruneReport extends PruneCounts {
  /** Runs that ended before this lost their checkpoints. */
  before: string;
  /** The `runs_pruned` event appended (null when nothing was removed). */
  event_seq: number | null;
  /** A pass cut short (a crash, the database away) whose batches this one recorded first. */
  recovered: (PruneCounts & { before: string; event_seq: number | null }) | null;
  batches: number;
  /** The longest batch transaction, from its first statement to its commit. */
  longest_transaction_ms: number;
  reclaimed: ReclaimedSpace;
}

/** What a pass would remove now, counted without removing anything (`rewind prune --dry-run`). */
export type PrunePreview = PruneCounts & { before: string };

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * `90d`, `12w`, `36h`: the window of `--retain-runs` (and REWIND_RETAIN_RUNS), with how a person
 * reads it. At least an hour: a shorter window would prune the runs an operator is looking at.
 */
export function parseRetention(text: string): { retainMs: number; label: string } {
  const m = /^\s*(\d+)\s*(h|d|w)\s*$/i.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n < 1) {
    throw new RewindError('VALIDATION_FAILED', `A retention window reads like 90d, 12w or 36h; got "${text}".`, 'Pass a whole number of hours (h), days (d) or weeks (w), e.g. --retain-runs 90d.', { value: text });
  }
  const unit = m[2]!.toLowerCase() as 'h' | 'd' | 'w';
  const ms = { h: HOUR, d: DAY, w: 7 * DAY }[unit] * n;
  const word = { h: 'hour', d: 'day', w: 'week' }[unit];
  return { retainMs: ms, label: `${n} ${word}${n === 1 ? '' : 's'}` };
}

interface LeaseRow {
  holder: string | null;
  lease_until: string | null;
  pass_before: string | null;
  pass_runs: number;
  pass_checkpoints: number;
  pass_idempotency_keys: number;
  pass_schedule_ticks: number;
  pass_webhook_deliveries: number;
}

const CLAIM = `UPDATE retention_lease SET holder = ?, replica = ?, lease_until = ?
  WHERE id = 1 AND (holder IS NULL OR holder = ? OR lease_until IS NULL OR lease_until < ?)`;
const READ_LEASE = 'SELECT * FROM retention_lease WHERE id = 1';
const START_PASS = `UPDATE retention_lease SET pass_before = ?, pass_after = ?, pass_runs = 0, pass_checkpoints = 0, pass_idempotency_keys = 0,
  pass_schedule_ticks = 0, pass_webhook_deliveries = 0 WHERE id = 1 AND holder = ?`;
/** A batch's fence and its count, in its own transaction: no count without its rows gone, no rows gone by a pass that lost the lease. */
const COUNT_BATCH = `UPDATE retention_lease SET lease_until = ?, pass_runs = pass_runs + ?, pass_checkpoints = pass_checkpoints + ?,
  pass_idempotency_keys = pass_idempotency_keys + ?, pass_schedule_ticks = pass_schedule_ticks + ?, pass_webhook_deliveries = pass_webhook_deliveries + ?
  WHERE id = 1 AND holder = ?`;
const END_PASS = `UPDATE retention_lease SET pass_before = NULL, pass_after = NULL, pass_runs = 0, pass_checkpoints = 0, pass_idempotency_keys = 0,
  pass_schedule_ticks = 0, pass_webhook_deliveries = 0 WHERE id = 1 AND holder = ?`;
const RELEASE = 'UPDATE retention_lease SET holder = NULL, replica = NULL, lease_until = NULL WHERE id = 1 AND holder = ?';

/** Finished runs not pruned yet, oldest end first (the partial index runs_unpruned_by_finish). */
const PRUNABLE = `SELECT run_id, status FROM runs WHERE pruned_at IS NULL AND finished_at IS NOT NULL AND finished_at < ?
  ORDER BY finished_at, run_id LIMIT ?`;
const COUNT_PRUNABLE = 'SELECT COUNT(*) AS n FROM runs WHERE pruned_at IS NULL AND finished_at IS NOT NULL AND finished_at < ?';
const COUNT_PRUNABLE_CHECKPOINTS = `SELECT COUNT(*) AS n FROM checkpoints c JOIN runs r ON r.run_id = c.run_id
  WHERE r.pruned_at IS NULL AND r.finished_at IS NOT NULL AND r.finished_at < ?`;
const RUN_CHECKPOINTS = 'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq';
const KEEP_LAST = "UPDATE checkpoints SET format = 'full', state = ? WHERE run_id = ? AND seq = ?";
const DELETE_BEFORE = 'DELETE FROM checkpoints WHERE run_id = ? AND seq < ?';

/** The other tables: each a DELETE of at most a batch of the oldest rows, by the index migration 0150 made for it. */
const SWEEPS = [
  {
    key: 'idempotency_keys',
    count: 'SELECT COUNT(*) AS n FROM idempotency_keys WHERE created_at < ?',
    delete: 'DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)',
  },
  {
    key: 'schedule_ticks',
    // A claim whose run has not ended yet stays: it is what keeps its tick from firing twice.
    count: `SELECT COUNT(*) AS n FROM schedule_ticks t WHERE t.pending = 0 AND t.claimed_at < ?
      AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = t.run_id AND r.finished_at IS NULL)`,
    delete: `DELETE FROM schedule_ticks WHERE (workflow_id, logical_date) IN (SELECT t.workflow_id, t.logical_date FROM schedule_ticks t
      WHERE t.pending = 0 AND t.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = t.run_id AND r.finished_at IS NULL)
      ORDER BY t.claimed_at LIMIT ?)`,
  },
  {
    key: 'webhook_deliveries',
    // Pending deliveries are the outbox: never removed, whatever their age.
    count: "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state <> 'pending' AND created_at < ?",
    delete: `DELETE FROM webhook_deliveries WHERE (webhook_id, seq) IN (SELECT webhook_id, seq FROM webhook_deliveries
      WHERE state <> 'pending' AND created_at < ? ORDER BY created_at LIMIT ?)`,
  },
] as const;

const ZERO: PruneCounts = { runs: 0, checkpoints: 0, idempotency_keys: 0, schedule_ticks: 0, webhook_deliveries: 0 };

function countsOf(row: LeaseRow): number[] {
  return [row.pass_runs, row.pass_checkpoints, row.pass_idempotency_keys, row.pass_schedule_ticks, row.pass_webhook_deliveries].map(Number);
}

/** Why a pass stopped: another process holds the lease now (this one was judged gone), or the engine is closing. */
class PassStopped extends Error {}

/** The pruning passes of one engine process. */
export class RetentionService {
  private running: Promise<PruneReport | null> | null = null;
  private stopping = false;

  constructor(
    private readonly core: EngineCore,
    /** This process's runner id (the lease holder) and replica name. */
    private readonly holder: { id: string; replica: string },
    private readonly actor: string,
    private readonly tuning: RetentionTuning = DEFAULT_TUNING,
    /** Wall-clock ms for the lease: compared across processes, so never a stopped demo clock. */
    private readonly wallClock: () => number = Date.now,
  ) {}

  /**
   * One pass, now: null when another process holds the lease (it is pruning). `now` is when the
   * window is counted back from (the engine's clock by default). A pass asked for during one joins it.
   */
  prune(policy: RetentionPolicy, now?: Date): Promise<PruneReport | null> {
    if (this.stopping) return Promise.resolve(null);
    this.running ??= this.pass(policy, now ?? new Date(this.core.now())).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** What a pass would remove now, without removing anything. */
  async preview(policy: RetentionPolicy, now?: Date): Promise<PrunePreview> {
    const at = now ?? new Date(this.core.now());
    const { before, idempotencyBefore } = this.cutoffs(policy, at);
    const read = this.core.store.read;
    const n = async (sql: string, value: string) => Number((await read.get<{ n: number }>(sql, [value]))!.n);
    return {
      before,
      runs: await n(COUNT_PRUNABLE, before),
      checkpoints: await n(COUNT_PRUNABLE_CHECKPOINTS, before),
      idempotency_keys: await n(SWEEPS[0].count, idempotencyBefore),
      schedule_ticks: await n(SWEEPS[1].count, before),
      webhook_deliveries: await n(SWEEPS[2].count, before),
    };
  }

  /** Stops between batches; the pass in flight records what it removed, then gives the lease back. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
  }

  private cutoffs(policy: RetentionPolicy, now: Date): { before: string; idempotencyBefore: string } {
    return {
      before: new Date(now.getTime() - policy.retainMs).toISOString(),
      idempotencyBefore: new Date(now.getTime() - this.tuning.idempotencyMs).toISOString(),
    };
  }

  private leaseUntil(): string {
    return new Date(this.wallClock() + this.tuning.leaseMs).toISOString();
  }

  private async pass(policy: RetentionPolicy, now: Date): Promise<PruneReport | null> {
    const store = this.core.store;
    const me = this.holder.id;
    const { changes } = await store.transaction((tx) => tx.run(CLAIM, [me, this.holder.replica, this.leaseUntil(), me, new Date(this.wallClock()).toISOString()]));
    if (changes === 0) return null;
    let longest = 0;
    let batches = 0;
    try {
      const recovered = await this.recordPass(policy, true);
      const { before, idempotencyBefore } = this.cutoffs(policy, now);
      await store.transaction((tx) => this.fenced(tx, START_PASS, [before, now.toISOString(), me]));
      const counted: PruneCounts = { ...ZERO };
      /** One batch: its own transaction, fenced and counted by the lease row. */
      const batch = async (work: (tx: Tx) => Promise<PruneCounts>): Promise<PruneCounts> => {
        if (this.stopping) throw new PassStopped();
        let started = 0;
        const removed = await store.transaction(async (tx) => {
          started = performance.now();
          const r = await work(tx);
          await this.fenced(tx, COUNT_BATCH, [this.leaseUntil(), r.runs, r.checkpoints, r.idempotency_keys, r.schedule_ticks, r.webhook_deliveries, me]);
          return r;
        });
        longest = Math.max(longest, performance.now() - started);
        batches += 1;
        for (const k of Object.keys(counted) as Array<keyof PruneCounts>) counted[k] += removed[k];
        if (this.tuning.pauseMs > 0) await new Promise((r) => setTimeout(r, this.tuning.pauseMs));
        else await new Promise((r) => setImmediate(r));
        return removed;
      };

      for (;;) {
        const removed = await batch((tx) => this.pruneRuns(tx, policy, before, now.toISOString()));
        if (removed.runs < this.tuning.batchRuns) break;
      }
      for (const sweep of SWEEPS) {
        const cutoff = sweep.key === 'idempotency_keys' ? idempotencyBefore : before;
        for (;;) {
          const removed = await batch(async (tx) => ({ ...ZERO, [sweep.key]: (await tx.run(sweep.delete, [cutoff, this.tuning.batchRows])).changes }));
          if (removed[sweep.key] < this.tuning.batchRows) break;
        }
      }
      const recorded = await this.recordPass(policy, false);
      const reclaimed = await store.reclaimSpace();
      return { before, ...counted, event_seq: recorded?.event_seq ?? null, recovered, batches, longest_transaction_ms: Math.max(longest, reclaimed.longest_step_ms), reclaimed };
    } catch (err) {
      if (!(err instanceof PassStopped)) throw err;
      // Closing: what the committed batches removed is recorded now. A lost lease (or a crash): the
      // counts stay in the lease row, and the next pass records them.
      if (this.stopping) await this.recordPass(policy, false).catch(() => undefined);
      return null;
    } finally {
      await store.transaction((tx) => tx.run(RELEASE, [me])).catch(() => undefined);
    }
  }

  /** A statement on the lease row that applies only while this process still holds it. */
  private async fenced(tx: Tx, sql: string, params: SqlValue[]): Promise<void> {
    const { changes } = await tx.run(sql, params);
    if (changes === 0) throw new PassStopped();
  }

  /**
   * Appends `runs_pruned` for the pass counted in the lease row (when it removed anything) and clears
   * it, in one head-locked mutation: at the end of a pass, or at the start of the next one for a pass
   * cut short (`interrupted`). Null when there was no pass to record.
   */
  private async recordPass(policy: RetentionPolicy, interrupted: boolean): Promise<(PruneCounts & { before: string; event_seq: number | null }) | null> {
    // A pass that removed nothing has nothing to append: it is cleared without the chain-head lock.
    const seen = await this.core.store.read.get<LeaseRow>(READ_LEASE);
    if (seen && seen.holder === this.holder.id && seen.pass_before !== null && countsOf(seen).every((n) => n === 0)) {
      await this.core.store.transaction((tx) => this.fenced(tx, END_PASS, [this.holder.id]));
      return { before: seen.pass_before, ...ZERO, event_seq: null };
    }
    return this.core.mutate(async () => {
      const q = this.core.q();
      const row = await q.get<LeaseRow>(READ_LEASE);
      if (!row || row.holder !== this.holder.id) throw new PassStopped();
      if (row.pass_before === null) return null;
      const counts: PruneCounts = {
        runs: Number(row.pass_runs),
        checkpoints: Number(row.pass_checkpoints),
        idempotency_keys: Number(row.pass_idempotency_keys),
        schedule_ticks: Number(row.pass_schedule_ticks),
        webhook_deliveries: Number(row.pass_webhook_deliveries),
      };
      let seq: number | null = null;
      if (Object.values(counts).some((n) => n > 0)) {
        const event = await this.core.append({
          type: 'runs_pruned',
          workflow_id: null,
          run_id: null,
          actor: this.actor,
          ts: this.core.now(),
          payload: { before: row.pass_before, ...counts, retain_runs: policy.label, keep_failed_checkpoints: policy.keepFailedCheckpoints, ...(interrupted ? { interrupted: true } : {}) },
        });
        seq = event.seq;
      }
      await q.run(END_PASS, [this.holder.id]);
      return { before: row.pass_before, ...counts, event_seq: seq };
    });
  }

  /** Prunes the next batch of runs that ended before `before`: each whole (marked, its checkpoints gone) or not at all. */
  private async pruneRuns(tx: Tx, policy: RetentionPolicy, before: string, at: string): Promise<PruneCounts> {
    const runs = await tx.all<{ run_id: string; status: string }>(PRUNABLE, [before, this.tuning.batchRuns]);
    if (runs.length === 0) return { ...ZERO };
    const ids = runs.map((r) => r.run_id);
    const list = ids.map(() => '?').join(', ');
    // The runs first: a resume or replay holding one of them (FOR SHARE) finishes its copy before it goes.
    const marked = await tx.run(`UPDATE runs SET pruned_at = ?, pruned_after = ? WHERE run_id IN (${list}) AND pruned_at IS NULL`, [at, policy.label, ...ids]);
    let checkpoints = 0;
    const keep = policy.keepFailedCheckpoints ? runs.filter((r) => r.status === 'failed').map((r) => r.run_id) : [];
    for (const runId of keep) {
      const rows = await tx.all<CheckpointRow>(RUN_CHECKPOINTS, [runId]);
      const last = rows[rows.length - 1];
      if (!last) continue;
      // Its state folded into a row of its own: the rows it was folded from go.
      await tx.run(KEEP_LAST, [JSON.stringify(foldLast(rows)), runId, last.seq]);
      checkpoints += (await tx.run(DELETE_BEFORE, [runId, last.seq])).changes;
    }
    const rest = ids.filter((id) => !keep.includes(id));
    if (rest.length) checkpoints += (await tx.run(`DELETE FROM checkpoints WHERE run_id IN (${rest.map(() => '?').join(', ')})`, rest)).changes;
    return { ...ZERO, runs: marked.changes, checkpoints };
  }
}
