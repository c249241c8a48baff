import { randomInt, randomUUID } from 'node:crypto';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { Checkpoint, Compatibility, Faults, ReplayResult, RollbackPreview, Run, RunPage, WorkflowVersion } from '../../preload/contract/entities.js';
import type { SqlValue } from './store/port.js';
import type { EngineCore } from './core.js';
import { type RunnerLease, type RunnerRow, SNAPSHOT_RUNNER_ID } from './runners.js';
import { RewindError, toErrorData } from './errors.js';
import { checkCompatibility } from './executor/compatibility.js';
import { type ExecutionEnd, type ExternalAnswer, type NodeStep, execute, validateFaults } from './executor/executor.js';
import { checkRunParams } from './dsl/run-params.js';
import { diffOutcomes } from './executor/outcomes.js';
import { diffDsl } from './dsl/diff.js';
import { FAILURE_WINDOW_HOURS } from './incidents.js';
import { abortedCanaries, targetHealth } from './version-verdict.js';
import { type CheckpointRow, type RunRow, toCheckpoints, toRun } from './rows.js';
import { type CheckpointState, contextOf, encodeState, foldLast } from './checkpoint-state.js';
import { RealWork, type RealWorkOptions } from './real-work.js';
import { type CanaryService, verdictsOf } from './canary.js';
import type { VersionService } from './versions.js';
import type { WorkflowService } from './workflows.js';

export interface RunOptions {
  /** Real milliseconds slept per simulated millisecond of node work (0: as fast as the disk allows). */
  timeScale: number;
  /** Upper bound on one node's real sleep, so a scaled 30-minute task still ends in a rehearsal. */
  maxNodeDelayMs: number;
  /** This engine process's lease in `runners`: its id is recorded on every run it executes. */
  lease: RunnerLease;
  /**
   * Take over the runs of runners whose lease expired and continue them (a server: replicas, or one
   * process restarted); otherwise (a sandbox) they are marked interrupted when the store is opened.
   */
  takeover: boolean;
  /** http, command, wait and approval nodes: secrets, limits, and whether http/command run for real. */
  realWork: Pick<RealWorkOptions, 'secrets' | 'limits' | 'live' | 'allowCommands' | 'serverContext' | 'egress'>;
}

const FINISHED: ReadonlySet<Run['status']> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted', 'denied']);
// A denied run resumes into the same question: the approval node is asked again.
const RESUMABLE: ReadonlySet<Run['status']> = new Set(['failed', 'interrupted', 'cancelled', 'denied']);

const INSERT_RUN = `INSERT INTO runs (run_id, workflow_id, version, status, kind, params, seed, faults, parent_run_id, resumed_from_seq, started_at, finished_at, error, failed_node, runner_id, created_by, created_at, drawn_reason, trigger, logical_date)
  VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, ?, ?)`;
const SELECT_RUN = 'SELECT * FROM runs WHERE run_id = ?';
/**
 * A run read to resume or replay it, locked against a retention pass (PostgreSQL: FOR SHARE) until
 * the mutation commits: the pass's UPDATE of the run waits, or the read waits for the pass and sees
 * the run pruned — never a run read unpruned whose checkpoints vanish before they are copied.
 */
const selectRunLocked = (forShare: string) => `SELECT * FROM runs WHERE run_id = ?${forShare}`;
const UPDATE_FINISHED = 'UPDATE runs SET status = ?, finished_at = ?, error = ?, failed_node = ?, verdicts = ? WHERE run_id = ?';
const INSERT_CHECKPOINT = 'INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at, format) VALUES (?, ?, ?, ?, ?, ?, ?)';
/**
 * A driver's checkpoint, fenced: written only while the run is still running and this runner's. The
 * row lock makes a takeover's claim and this write serialize, so the claimer reads the checkpoints
 * this one committed, or this one finds the run claimed (or cancelled elsewhere) and writes nothing.
 */
const insertOwnedCheckpoint = (forShare: string) => `INSERT INTO checkpoints (run_id, seq, node_id, status, state, created_at, format)
  SELECT CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT)
  WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ? AND runner_id = ? AND status = 'running'${forShare})`;
const SELECT_CHECKPOINTS = 'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq';
/** A checkpoint and the rows before it, which its state is folded from (at most the run's nodes). */
const SELECT_CHECKPOINTS_TO = 'SELECT * FROM checkpoints WHERE run_id = ? AND seq <= ? ORDER BY seq';
const SELECT_CHECKPOINT_STEPS = 'SELECT seq, node_id, status FROM checkpoints WHERE run_id = ? ORDER BY seq';
const SELECT_LAST_CHECKPOINT = 'SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1';
const SELECT_IN_FLIGHT = "SELECT * FROM runs WHERE workflow_id = ? AND status IN ('queued', 'running') ORDER BY created_at DESC";
// Failed and interrupted runs of the incident window no resume has followed, newest first (the open_failures index, however long the history).
const SELECT_UNRESOLVED = `SELECT r.* FROM open_failures f JOIN runs r ON r.run_id = f.run_id WHERE f.workflow_id = ? AND f.created_at > ? ORDER BY f.created_at DESC, f.run_id DESC LIMIT 200`;
// The newest resume of a run; run_id breaks a tie of timestamps (no rowid: PostgreSQL has none).
const SELECT_RESUMED_CHILD = "SELECT run_id FROM runs WHERE parent_run_id = ? AND kind = 'resume' ORDER BY created_at DESC, run_id DESC LIMIT 1";
const SELECT_UNFINISHED = "SELECT * FROM runs WHERE status IN ('queued', 'running', 'waiting')";
const SELECT_UNFINISHED_OF = "SELECT * FROM runs WHERE status IN ('queued', 'running', 'waiting') AND runner_id = ?";
/** Unfinished runs executed by another runner (or by none): takeover candidates once their runner's lease expired. */
const SELECT_OTHERS_UNFINISHED = `SELECT r.run_id, r.runner_id, n.heartbeat_at, n.lease_until, n.replica, n.runner_id AS owner FROM runs r LEFT JOIN runners n ON n.runner_id = r.runner_id
  WHERE r.status IN ('queued', 'running', 'waiting') AND (r.runner_id IS NULL OR r.runner_id NOT IN (?, '${SNAPSHOT_RUNNER_ID}'))`;
// The compare-and-set of a takeover: it applies only while the run is still the dead runner's, and unfinished.
const CLAIM = "UPDATE runs SET runner_id = ?, status = 'running' WHERE run_id = ? AND runner_id = ? AND status IN ('queued', 'running', 'waiting')";
const CLAIM_UNOWNED = "UPDATE runs SET runner_id = ?, status = 'running' WHERE run_id = ? AND runner_id IS NULL AND status IN ('queued', 'running', 'waiting')";
const LIST_FILTERS = ['workflow_id', 'status', 'parent_run_id'] as const;

/** Resume and replay need a run's checkpoints: a run retention pruned has none left. */
function refusePruned(run: Run, verb: 'resumed' | 'replayed'): void {
  if (!run.pruned_at) return;
  const after = run.pruned_after ?? 'the retention window';
  throw new RewindError(
    'RUN_PRUNED',
    `Run ${run.run_id} cannot be ${verb}: its checkpoints were removed after ${after} (on ${run.pruned_at.slice(0, 10)}).`,
    `Start a new run of the workflow${verb === 'replayed' ? ' on the version you wanted to compare' : ''}; an archive taken before pruning (\`rewind archive --open FILE\`) still shows its checkpoints.`,
    { run_id: run.run_id, pruned_at: run.pruned_at, pruned_after: run.pruned_after ?? null },
  );
}

interface ListSql {
  first: string;
  after: string;
  before: string;
  total: string;
}

/** A list position: the (created_at, run_id) of a run, opaque to clients. */
const encodeCursor = (r: Pick<Run, 'created_at' | 'run_id'>): string => Buffer.from(JSON.stringify([r.created_at, r.run_id])).toString('base64url');

export function decodeCursor(field: 'after' | 'before', text: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // Not one of ours: refused below.
  }
  throw new RewindError('VALIDATION_FAILED', `${field} is not a cursor of the runs list.`, 'Pass back next_cursor (as after) or prev_cursor (as before) from an earlier answer, or leave it out for the newest runs.', {
    issues: [{ path: field, message: 'not a runs-list cursor' }],
  });
}

/**
 * A page from the rows read for it: `limit + 1` in list order, or, paging `before`, in reverse (the
 * extra row tells whether more follow). Shared by today's list and the list as of a past moment.
 */
export function runPage(read: Run[], input: Pick<ParsedInput<'runs:list'>, 'limit' | 'before'>, total: number): RunPage {
  const back = input.before !== undefined;
  const rows = back ? [...read].reverse() : read;
  const hasMore = rows.length > input.limit;
  const runs = hasMore ? (back ? rows.slice(1) : rows.slice(0, input.limit)) : rows;
  const first = runs[0];
  const last = runs[runs.length - 1];
  return {
    runs,
    total,
    has_more: hasMore,
    // Paging with `before` came from older runs: there is always a page after this one.
    next_cursor: last && (hasMore || back) ? encodeCursor(last) : null,
    prev_cursor: first ? encodeCursor(first) : null,
  };
}

/** Why a run driver stopped without recording anything: the run is no longer its own to execute. */
class RunLost extends Error {}

/**
 * Runs in the sandbox: each is pinned to its version, executed node by node by the deterministic
 * executor, with a checkpoint written (and fsynced) after every node. Resume and replay start child
 * runs; the parent stays as it was, for the record.
 */
export class RunService {
  /** The list's statements per filter combination, built on first use; each keeps its index (no `? IS NULL OR …`). */
  private readonly listByFilter = new Map<string, ListSql>();
  /** Runs executing in this process, with the promise that settles when each ends. */
  private readonly active = new Map<string, { cancelled: boolean; done: Promise<void>; wake: () => void }>();
  private closed = false;
  private readonly checkpointListeners = new Set<(c: { run_id: string; seq: number; node_id: string; status: string }) => void>();
  /** When set, runs execute synchronously inside the mutation's after-commit step (seeding history). */
  private synchronous = false;
  private readonly realWork: RealWork;
  private readonly insertCheckpoint: string;
  private readonly selectRunForUpdate: string;
  /** The takeover pass in progress, so passes never overlap. */
  private sweeping: Promise<number> | null = null;
  /** Told of every run's end inside the mutation that records it (a limited backfill starts its next tick there). */
  onEnded: ((run: Run) => Promise<void>) | null = null;

  constructor(
    private readonly core: EngineCore,
    private readonly workflows: WorkflowService,
    private readonly versions: VersionService,
    private readonly canaries: CanaryService,
    private readonly options: RunOptions,
  ) {
    this.realWork = new RealWork(core, { ...options.realWork, timeScale: options.timeScale, maxNodeDelayMs: options.maxNodeDelayMs });
    this.insertCheckpoint = insertOwnedCheckpoint(core.store.dialect.forShare);
    this.selectRunForUpdate = selectRunLocked(core.store.dialect.forShare);
  }

  private get runnerId(): string {
    return this.options.lease.id;
  }

  async get(runId: string): Promise<Run> {
    const row = await this.core.q().get<RunRow>(SELECT_RUN, [runId]);
    if (!row) throw new RewindError('RUN_NOT_FOUND', `No run has the id "${runId}".`, 'List the runs to find its id.', { run_id: runId });
    return toRun(row);
  }

  /**
   * A page of runs, newest first: after a cursor (older), before one (newer), or from an offset (older
   * clients). Keyset pages read the index from the cursor on, so a page costs the same at any depth;
   * `total` comes from the counters the runs table keeps (`run_counts`), never from counting rows.
   */
  async list(input: ParsedInput<'runs:list'>): Promise<RunPage> {
    const cursorsGiven = [input.after, input.before].filter((c) => c !== undefined).length;
    if (cursorsGiven > 1 || (cursorsGiven > 0 && input.offset > 0)) {
      throw new RewindError('VALIDATION_FAILED', 'Give one of after, before or offset.', 'Page older runs with after=next_cursor, newer ones with before=prev_cursor; offset is for clients without cursors.', {
        issues: [{ path: input.after !== undefined && input.before !== undefined ? 'before' : 'offset', message: 'only one of after, before and offset' }],
      });
    }
    const columns = LIST_FILTERS.filter((c) => input[c] !== undefined);
    const values: SqlValue[] = columns.map((c) => input[c] ?? null);
    const sql = this.listSql(columns);
    const q = this.core.q();
    const cursor: [string, string] | null = input.after !== undefined ? decodeCursor('after', input.after) : input.before !== undefined ? decodeCursor('before', input.before) : null;
    // One more than asked tells whether more follow. Read in steps (the event loop runs between them):
    // each step continues after the last row of the one before, so the page is the same as read at once.
    const take = input.limit + 1;
    const rows: Run[] = [];
    for (let from = cursor; rows.length < take; ) {
      const n = Math.min(this.core.readStep, take - rows.length);
      const part =
        input.before !== undefined
          ? await q.all<RunRow>(sql.before, [...values, ...from!, n])
          : from
            ? await q.all<RunRow>(sql.after, [...values, ...from, n])
            : await q.all<RunRow>(sql.first, [...values, n, input.offset]);
      for (const row of part) rows.push(toRun(row));
      if (part.length < n) break;
      const last = part[part.length - 1]!;
      from = [last.created_at, last.run_id];
      await this.core.breathe();
    }
    const { n } = (await q.get<{ n: number | null }>(sql.total, values))!;
    return runPage(rows, input, Number(n ?? 0));
  }

  private listSql(columns: ReadonlyArray<(typeof LIST_FILTERS)[number]>): ListSql {
    const key = columns.join(',');
    let sql = this.listByFilter.get(key);
    if (!sql) {
      const filters = columns.map((c) => `${c} = ?`);
      const where = (more: string[]) => (filters.length + more.length ? `WHERE ${[...filters, ...more].join(' AND ')}` : '');
      // run_id breaks ties of one millisecond: the order is stable across pages and stores, and each filter has an index ending (created_at, run_id).
      sql = {
        first: `SELECT * FROM runs ${where([])} ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?`,
        after: `SELECT * FROM runs ${where(['(created_at, run_id) < (?, ?)'])} ORDER BY created_at DESC, run_id DESC LIMIT ?`,
        before: `SELECT * FROM runs ${where(['(created_at, run_id) > (?, ?)'])} ORDER BY created_at, run_id LIMIT ?`,
        // The counters are kept per workflow and status; a parent's resumes and replays are few, counted on their index.
        total: columns.includes('parent_run_id') ? `SELECT COUNT(*) AS n FROM runs ${where([])}` : `SELECT SUM(n) AS n FROM run_counts ${where([])}`,
      };
      this.listByFilter.set(key, sql);
    }
    return sql;
  }

  async checkpoints(runId: string): Promise<Checkpoint[]> {
    await this.get(runId);
    return this.allCheckpoints(runId);
  }

  async checkpoint(runId: string, seq: number): Promise<Checkpoint> {
    const run = await this.get(runId);
    const rows = await this.core.q().all<CheckpointRow>(SELECT_CHECKPOINTS_TO, [runId, seq]);
    const row = rows[rows.length - 1];
    if (!row || row.seq !== seq) {
      throw new RewindError(
        'CHECKPOINT_NOT_FOUND',
        `Run ${runId} has no checkpoint ${seq}${run.pruned_at ? `: its checkpoints were removed after ${run.pruned_after ?? 'the retention window'}` : ''}.`,
        run.pruned_at ? 'Open an archive taken before it was pruned (`rewind archive --open FILE`), if there is one.' : 'List the run’s checkpoints to see which exist.',
        { run_id: runId, seq },
      );
    }
    return this.withState(row, rows);
  }

  /** The latest checkpoint of a run: one index probe, and its run's rows only when its state must be folded. */
  async latestCheckpoint(runId: string): Promise<Checkpoint | null> {
    const row = await this.core.q().get<CheckpointRow>(SELECT_LAST_CHECKPOINT, [runId]);
    if (!row) return null;
    return this.withState(row, row.format === 'full' ? [row] : await this.core.q().all<CheckpointRow>(SELECT_CHECKPOINTS_TO, [runId, row.seq]));
  }

  private async allCheckpoints(runId: string): Promise<Checkpoint[]> {
    return toCheckpoints(await this.core.q().all<CheckpointRow>(SELECT_CHECKPOINTS, [runId]));
  }

  private withState({ format: _format, ...row }: CheckpointRow, rows: CheckpointRow[]): Checkpoint {
    return { ...row, state: foldLast(rows) };
  }

  start(input: ParsedInput<'runs:start'>, actor: string, tick?: { trigger: 'schedule' | 'backfill'; logical_date: string }): Promise<Run> {
    return this.core.mutate(async () => {
      const wf = await this.workflows.find(input.workflow_id);
      if (wf.status !== 'active') {
        throw new RewindError(
          wf.status === 'paused' ? 'WORKFLOW_PAUSED' : 'WORKFLOW_OVERRIDDEN',
          `"${wf.name}" is ${wf.status}; new runs do not start.`,
          wf.status === 'paused' ? 'Unpause it first, or resume a specific run.' : 'Run the CODE workflow of the same name instead.',
          { workflow_id: wf.id, status: wf.status },
        );
      }
      // A run that names its version is not drawn; the others may draw a running canary.
      const drawn = input.version === undefined ? await this.canaries.draw(wf, input.seed) : { version: input.version, reason: 'explicit version' };
      const version = drawn.version;
      if (version === null) {
        throw new RewindError('NO_ACTIVE_VERSION', `"${wf.name}" has no published version to run.`, 'Publish a version, or name one to run.', { workflow_id: wf.id });
      }
      await this.versions.get(wf.id, version);
      return this.create({
        workflow_id: wf.id,
        version,
        kind: 'start',
        params: input.params,
        seed: input.seed ?? randomInt(0, 2 ** 31),
        faults: input.faults,
        parent_run_id: null,
        resumed_from_seq: null,
        actor,
        restored: [],
        drawn_reason: drawn.reason,
        trigger: tick?.trigger ?? input.trigger ?? 'manual',
        logical_date: tick?.logical_date ?? null,
      });
    });
  }

  /** A run read inside a mutation with its row locked against a retention pass until commit (see selectRunLocked). */
  private async getLocked(runId: string): Promise<Run> {
    const row = await this.core.q().get<RunRow>(this.selectRunForUpdate, [runId]);
    if (!row) throw new RewindError('RUN_NOT_FOUND', `No run has the id "${runId}".`, 'List the runs to find its id.', { run_id: runId });
    return toRun(row);
  }

  async compatibility(runId: string, version: number): Promise<Compatibility> {
    const run = await this.get(runId);
    const target = await this.versions.get(run.workflow_id, version);
    return this.compatibilityWith(run, target);
  }

  resume(input: ParsedInput<'runs:resume'>, actor: string): Promise<Run> {
    return this.core.mutate(async () => {
      const parent = await this.getLocked(input.run_id);
      if (!RESUMABLE.has(parent.status)) {
        const running = !FINISHED.has(parent.status);
        throw new RewindError(
          running ? 'RUN_NOT_FINISHED' : 'RUN_NOT_RESUMABLE',
          running ? `Run ${parent.run_id} is still ${parent.status}.` : `Run ${parent.run_id} ${parent.status}; only failed, interrupted, cancelled or denied runs resume.`,
          running ? 'Wait for it to end, or cancel it first.' : 'Start a new run, or replay this one on another version.',
          { run_id: parent.run_id, status: parent.status },
        );
      }
      refusePruned(parent, 'resumed');
      // Resume once: a second resume (a double click, two operators) would run the rest twice.
      const child = input.again ? undefined : await this.core.q().get<{ run_id: string }>(SELECT_RESUMED_CHILD, [parent.run_id]);
      if (child) {
        throw new RewindError('ALREADY_RESUMED', `Run ${parent.run_id} was already resumed as ${child.run_id}.`, `Open ${child.run_id} to follow it; to resume ${parent.run_id} once more on purpose, resume it again explicitly.`, {
          run_id: parent.run_id,
          child_run_id: child.run_id,
        });
      }
      const target = await this.versions.get(parent.workflow_id, input.version ?? parent.version);
      const compat = await this.compatibilityWith(parent, target);
      if (!compat.compatible) {
        throw new RewindError('RESUME_INCOMPATIBLE', compat.reason, 'Resume under a version that has those nodes, or start a new run.', {
          run_id: parent.run_id,
          version: target.version,
          missing_nodes: compat.missing_nodes,
        });
      }
      const good = await this.goodCheckpoints(parent.run_id);
      return this.create({
        workflow_id: parent.workflow_id,
        version: target.version,
        kind: 'resume',
        params: parent.params,
        seed: parent.seed,
        faults: input.faults,
        parent_run_id: parent.run_id,
        resumed_from_seq: compat.resume_after_seq,
        actor,
        restored: good,
        trigger: 'resume',
        logical_date: parent.logical_date,
      });
    });
  }

  startReplay(input: ParsedInput<'runs:replay'>, actor: string): Promise<Run> {
    return this.core.mutate(async () => {
      const original = await this.getLocked(input.run_id);
      refusePruned(original, 'replayed');
      if (!FINISHED.has(original.status)) {
        throw new RewindError('RUN_NOT_FINISHED', `Run ${original.run_id} is still ${original.status}; replay compares finished outcomes.`, 'Wait for it to end, or cancel it.', {
          run_id: original.run_id,
        });
      }
      await this.versions.get(original.workflow_id, input.version);
      return this.create({
        workflow_id: original.workflow_id,
        version: input.version,
        kind: 'replay',
        params: original.params,
        seed: original.seed,
        faults: {},
        parent_run_id: original.run_id,
        resumed_from_seq: null,
        actor,
        restored: [],
        trigger: 'replay',
        logical_date: original.logical_date,
      });
    });
  }

  /** The node-by-node outcome diff of a finished replay against the run it replayed. */
  async replayResult(replay: Run): Promise<ReplayResult> {
    const original = await this.get(replay.parent_run_id ?? '');
    const outcome = (c: Checkpoint) => ({ node_id: c.node_id, status: c.status, output: (c.state as CheckpointState).output });
    const outcomes = diffOutcomes((await this.checkpoints(original.run_id)).map(outcome), (await this.checkpoints(replay.run_id)).map(outcome));
    return { original, replay, outcomes, changed: outcomes.filter((o) => o.changed).length };
  }

  cancel(runId: string, actor: string): Promise<Run> {
    return this.core.mutate(async () => {
      const run = await this.get(runId);
      if (FINISHED.has(run.status)) {
        throw new RewindError('RUN_NOT_CANCELLABLE', `Run ${run.run_id} already ${run.status}.`, 'Only queued or running runs can be cancelled.', { run_id: run.run_id });
      }
      const live = this.active.get(runId);
      if (live) {
        live.cancelled = true;
        live.wake();
      }
      return this.finish(run, { status: 'cancelled', failed_node: null, error: `Cancelled by ${actor}`, context: {} }, actor);
    });
  }

  /** Answers the approval a waiting run asks for; its driver continues (approve) or fails the node (deny). */
  async approve(input: ParsedInput<'runs:approve'>, actor: string): Promise<Run> {
    return this.core.mutate(async () => {
      await this.realWork.approve(input.run_id, input.decision, input.comment, actor);
      return this.get(input.run_id);
    });
  }

  /** Hears of each checkpoint once it is durable (its commit has returned): progress, and the crash test's acknowledgements. */
  onCheckpoint(listener: (c: { run_id: string; seq: number; node_id: string; status: string }) => void): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  async inline<T>(fn: () => Promise<T>): Promise<T> {
    this.synchronous = true;
    try {
      return await fn();
    } finally {
      this.synchronous = false;
    }
  }

  /** Resolves once the run has ended (immediately if it already has). */
  async wait(runId: string): Promise<Run> {
    await this.active.get(runId)?.done;
    return this.get(runId);
  }

  /**
   * Until the run ends or parks at an approval: a replay answers what it has then, rather than holding
   * its request open until a person answers (which may be never).
   */
  async waitUntilEndedOrWaiting(runId: string): Promise<Run> {
    const live = this.active.get(runId);
    if (!live) return this.get(runId);
    let off: () => void = () => undefined;
    const parked = new Promise<void>((resolve) => {
      off = this.core.onEvent((e) => {
        if (e.type === 'approval_requested' && e.run_id === runId) resolve();
      });
    });
    try {
      // Parked before the listener was there: its request is already in the log.
      if ((await this.get(runId)).status !== 'waiting') await Promise.race([live.done, parked]);
    } finally {
      off();
    }
    return this.get(runId);
  }

  /**
   * Runs left in flight by a process that died cannot continue: mark them interrupted (resumable).
   * Runs of a live runner (the console while a CLI opens the same file) are left alone.
   */
  async interruptOrphans(actor: string, isAlive: (runnerId: string | null) => Promise<boolean>): Promise<void> {
    const rows = await this.core.q().all<RunRow>(SELECT_UNFINISHED);
    const orphans: Run[] = [];
    for (const r of rows) if (!(await isAlive(r.runner_id))) orphans.push(toRun(r));
    for (const run of orphans) {
      await this.core.mutate(async () => {
        const last = await this.latestCheckpoint(run.run_id);
        await this.finish(run, { status: 'interrupted', failed_node: null, error: `The process running it stopped${last ? ` after node ${last.node_id}` : ''}.`, context: {} }, actor);
      });
    }
  }

  async rollbackPreview(workflowId: string, version: number): Promise<RollbackPreview> {
    const wf = await this.workflows.get(workflowId);
    let refusal: RollbackPreview['refusal'] = null;
    try {
      await this.versions.refuseRollback(wf, version);
    } catch (err) {
      const e = toErrorData(err);
      refusal = { code: e.code, message: e.message, hint: e.hint };
    }
    const target = refusal?.code === 'ROLLBACK_VERSION_MISSING' ? null : await this.versions.get(wf.id, version);
    // A rollback that would apply has an active version to diff from (its target is deprecated).
    const active = refusal === null && target ? await this.versions.active(wf.id) : null;
    const diff = active && target ? diffDsl(active.dsl_definition, target.dsl_definition) : null;
    const inFlight = (await this.core.q().all<RunRow>(SELECT_IN_FLIGHT, [wf.id])).map(toRun).filter((r) => r.version !== version);
    const resumable: RollbackPreview['resumable'] = [];
    if (target) {
      const since = new Date(Date.parse(this.core.now()) - FAILURE_WINDOW_HOURS * 3_600_000).toISOString();
      const experiments = new Set((await abortedCanaries(this.core.q(), wf.id)).map((c) => c.version));
      for (const row of await this.core.q().all<RunRow>(SELECT_UNRESOLVED, [wf.id, since])) {
        const run = toRun(row);
        if (experiments.has(run.version) && run.drawn_reason?.startsWith('canary ')) continue;
        resumable.push({ run, compatibility: await this.compatibilityWith(run, target) });
      }
    }
    return {
      workflow_id: wf.id,
      workflow_name: wf.name,
      from_version: wf.active_version,
      to_version: version,
      revision: wf.revision,
      diff,
      refusal,
      in_flight: inFlight,
      resumable,
      ...(target ? { target_health: await targetHealth(this.core.q(), wf.id, version) } : {}),
    };
  }

  /** Stops scheduling work; runs still executing are recorded as interrupted, resumable later. */
  async close(actor: string): Promise<void> {
    this.closed = true;
    // A takeover pass in flight may still launch a run: let it, then stop that one too.
    await this.sweeping;
    for (const live of this.active.values()) {
      live.cancelled = true;
      live.wake();
    }
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    // A server hands its runs over: once its lease is released, another replica (or its next start)
    // continues them after their last checkpoint, as after a crash but without waiting for the lease.
    if (this.options.takeover) return;
    const left = (await this.core.q().all<RunRow>(SELECT_UNFINISHED_OF, [this.runnerId])).map(toRun);
    for (const run of left) {
      await this.core.mutate(() => this.finish(run, { status: 'interrupted', failed_node: null, error: 'Rewind closed while the run was in flight.', context: {} }, actor));
    }
  }

  private async goodCheckpoints(runId: string): Promise<Checkpoint[]> {
    const all = await this.allCheckpoints(runId);
    const firstBad = all.findIndex((c) => c.status === 'failed');
    return firstBad === -1 ? all : all.slice(0, firstBad);
  }

  private async compatibilityWith(run: Run, target: WorkflowVersion): Promise<Compatibility> {
    if (run.pruned_at) {
      return {
        run_id: run.run_id,
        version: target.version,
        compatible: false,
        completed_nodes: [],
        missing_nodes: [],
        resume_after_seq: null,
        reason: `Its checkpoints were removed after ${run.pruned_after ?? 'the retention window'}: it cannot resume; start a new run.`,
      };
    }
    // Which nodes it completed, not what they computed: the states are left unread (a preview checks up to 200 runs).
    const steps = await this.core.q().all<Pick<CheckpointRow, 'seq' | 'node_id' | 'status'>>(SELECT_CHECKPOINT_STEPS, [run.run_id]);
    const firstBad = steps.findIndex((c) => c.status === 'failed');
    const good = firstBad === -1 ? steps : steps.slice(0, firstBad);
    const completed = good.map((c) => c.node_id);
    const check = checkCompatibility(completed, target.dsl_definition, `v${target.version}`);
    return {
      run_id: run.run_id,
      version: target.version,
      compatible: check.compatible,
      completed_nodes: completed,
      missing_nodes: check.missing_nodes,
      resume_after_seq: good.length ? good[good.length - 1]!.seq : null,
      reason: check.reason,
    };
  }

  private async create(spec: {
    workflow_id: string;
    version: number;
    kind: Run['kind'];
    params: Record<string, unknown>;
    seed: number;
    faults: Faults;
    parent_run_id: string | null;
    resumed_from_seq: number | null;
    actor: string;
    restored: Checkpoint[];
    /** Why a fresh start got its version (see `CanaryService.draw`); resumes and replays name theirs. */
    drawn_reason?: string;
    trigger: Run['trigger'];
    logical_date: string | null;
  }): Promise<Run> {
    if (this.closed) throw new RewindError('BUSY', 'The engine is shutting down.', 'Retry once it has restarted.');
    // Refuse a bad fault target or params the version does not accept now, rather than let the run fail at its first node.
    const dsl = (await this.versions.get(spec.workflow_id, spec.version)).dsl_definition;
    validateFaults(dsl, spec.faults);
    checkRunParams(dsl, spec.params, { fresh: spec.kind === 'start', version: spec.version });
    const ts = this.core.now();
    const runId = randomUUID();
    const q = this.core.q();
    await q.run(INSERT_RUN, [
      runId,
      spec.workflow_id,
      spec.version,
      spec.kind,
      JSON.stringify(spec.params),
      spec.seed,
      JSON.stringify(spec.faults),
      spec.parent_run_id,
      spec.resumed_from_seq,
      ts,
      this.runnerId,
      spec.actor,
      ts,
      spec.drawn_reason ?? null,
      spec.trigger,
      spec.logical_date,
    ]);
    // The parent's states, stored as this run's own rows (each what it added to the one before).
    let context: Record<string, unknown> = {};
    for (const [i, c] of spec.restored.entries()) {
      const row = encodeState(context, c.state as CheckpointState);
      context = row.context;
      await q.run(INSERT_CHECKPOINT, [runId, i + 1, c.node_id, 'restored', row.text, ts, row.format]);
    }
    await this.core.append({
      type: 'run_started',
      workflow_id: spec.workflow_id,
      run_id: runId,
      actor: spec.actor,
      ts,
      payload: {
        version: spec.version,
        kind: spec.kind,
        parent_run_id: spec.parent_run_id,
        resumed_from_seq: spec.resumed_from_seq,
        params: spec.params,
        trigger: spec.trigger,
        logical_date: spec.logical_date,
      },
    });
    const run = await this.get(runId);
    const restored = spec.restored.map((c, i): Checkpoint => ({ ...c, seq: i + 1, status: 'restored' }));
    this.launch(run, restored, spec.actor);
    return run;
  }

  /**
   * Drives a run once the current mutation has committed, after the checkpoints it already has.
   * Registered only then: a commit that fails (disk I/O error) must not leave a run close() waits for.
   * A seeding mutation waits for its run to end (`inline`); a live one answers at once and the run goes on.
   */
  private launch(run: Run, done: Checkpoint[], actor: string): void {
    let settle!: () => void;
    const ended = new Promise<void>((resolve) => (settle = resolve));
    const synchronous = this.synchronous;
    this.core.afterCommit(() => {
      this.active.set(run.run_id, { cancelled: false, done: ended, wake: () => undefined });
      const driven = this.drive(run, done, actor).finally(() => {
        this.active.delete(run.run_id);
        settle();
      });
      return synchronous ? driven : undefined;
    });
  }

  /**
   * One takeover pass: every unfinished run whose runner's lease has expired (the replica died, or
   * this process was restarted after a kill) is claimed by this runner and continued — the same run,
   * after its last checkpoint; the nodes checkpointed already are not run again. Resolves with how
   * many runs this pass took over. Passes never overlap; a pass asked for during one joins it.
   */
  takeOver(actor: string): Promise<number> {
    if (this.closed || !this.options.takeover) return Promise.resolve(0);
    this.sweeping ??= (async () => {
      try {
        let taken = 0;
        const candidates = await this.core.store.read.all<{ run_id: string; runner_id: string | null; owner: string | null } & Pick<RunnerRow, 'heartbeat_at' | 'lease_until' | 'replica'>>(
          SELECT_OTHERS_UNFINISHED,
          [this.runnerId],
        );
        for (const c of candidates) {
          if (this.closed) break;
          if (!this.options.lease.expired(c.owner === null ? undefined : c)) continue;
          if (await this.claim(c.run_id, c.runner_id, actor)) taken += 1;
        }
        await this.options.lease.forgetExpired();
        return taken;
      } finally {
        this.sweeping = null;
      }
    })();
    return this.sweeping;
  }

  /**
   * Claims one run in a head-locked mutation: the owner's lease is checked again under the lock, the
   * run moves to this runner by compare-and-set, and `run_taken_over` is appended with the seq of the
   * last checkpoint it continues after. False when another replica claimed it first or the owner
   * renewed its lease meanwhile.
   */
  private claim(runId: string, fromRunner: string | null, actor: string): Promise<boolean> {
    return this.core.mutate(async () => {
      const q = this.core.q();
      const owner = fromRunner === null ? undefined : await this.options.lease.row(q, fromRunner);
      if (!this.options.lease.expired(owner)) return false;
      const { changes } = fromRunner === null ? await q.run(CLAIM_UNOWNED, [this.runnerId, runId]) : await q.run(CLAIM, [this.runnerId, runId, fromRunner]);
      if (changes !== 1) return false;
      const run = await this.get(runId);
      const done = await this.allCheckpoints(runId);
      const afterSeq = done.length ? done[done.length - 1]!.seq : 0;
      await this.core.append({
        type: 'run_taken_over',
        workflow_id: run.workflow_id,
        run_id: runId,
        actor,
        ts: this.core.now(),
        payload: {
          run_id: runId,
          from_replica: owner?.replica ?? fromRunner,
          to_replica: this.options.lease.replica,
          after_seq: afterSeq,
          version: run.version,
          from_runner: fromRunner,
          to_runner: this.runnerId,
        },
      });
      this.launch(run, done, run.created_by);
      return true;
    });
  }

  /**
   * Executes a run's nodes after the checkpoints it has (`done`: restored from a resumed parent, or
   * its own before a takeover), checkpointing each; the checkpoint commit is its acknowledgement.
   */
  private async drive(run: Run, done: Checkpoint[], actor: string): Promise<void> {
    const dsl = (await this.versions.get(run.workflow_id, run.version)).dsl_definition;
    const last = done[done.length - 1];
    const failed = done.filter((c) => c.status === 'failed');
    const steps = execute({
      dsl,
      params: run.params,
      seed: run.seed,
      faults: run.faults,
      completed: done.filter((c) => c.status !== 'failed').map((c) => c.node_id),
      ...(failed.length ? { failed: failed.map((c) => ({ node_id: c.node_id, error: (c.state as CheckpointState).error ?? null, denied: (c.state as CheckpointState).denied === true })) } : {}),
      ...(last ? { context: (last.state as CheckpointState).context } : {}),
      live: this.options.realWork.live,
    });
    let seq = last?.seq ?? 0;
    // What the next checkpoint is stored against: the state of the run's last row.
    let context = contextOf(last?.state);
    const live = this.active.get(run.run_id);
    const stop = new AbortController();
    let answer: ExternalAnswer | undefined;
    try {
      for (;;) {
        const next = steps.next(answer);
        answer = undefined;
        if (next.done) {
          if (!live?.cancelled) await this.finishOwned(run.run_id, next.value, actor);
          return;
        }
        if ('kind' in next.value) {
          // A real node: cancel and close abort it in flight.
          if (live) live.wake = () => stop.abort();
          // A cancel or close that came before this node had nothing to abort yet.
          if (live?.cancelled) stop.abort();
          answer = await this.realWork.perform(run, next.value, stop.signal, this.synchronous);
          if (live?.cancelled) return;
          continue;
        }
        const step: NodeStep = next.value;
        const delay = Math.min(step.simulated_ms * this.options.timeScale, this.options.maxNodeDelayMs);
        // The simulated work is a sleep that cancel and close can cut short (also before it began).
        if (delay > 0 && !this.synchronous && live && !live.cancelled) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            live.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        if (live?.cancelled) return;
        if (this.synchronous) this.core.advance(step.simulated_ms);
        seq += 1;
        const row = encodeState(context, { output: step.output, context: step.context, error: step.error, ...(step.denied ? { denied: true as const } : {}) });
        // Its own short durable transaction: no head lock (it appends no event), nothing else inside.
        const checkpoint = [run.run_id, seq, step.node_id, step.status, row.text, this.core.now(), row.format, run.run_id, this.runnerId];
        const { changes } = await this.core.store.transaction((tx) => tx.run(this.insertCheckpoint, checkpoint));
        if (changes === 0) throw new RunLost();
        context = row.context;
        for (const l of this.checkpointListeners) l({ run_id: run.run_id, seq, node_id: step.node_id, status: step.status });
        // Yield between nodes so a long run never starves the event loop (IPC, HTTP, WebSocket).
        if (delay === 0 && !this.synchronous) await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      // Taken over or cancelled elsewhere: the run is another's to record. When the store itself is
      // gone nothing can be recorded; the run is taken over (a server) or interrupted (a sandbox) later.
      if (err instanceof RunLost) return;
      await this.finishOwned(run.run_id, { status: 'failed', failed_node: null, error: toErrorData(err).message, context: {} }, actor).catch(() => undefined);
    }
  }

  /** Records a run's end, if the run is still unfinished and still this runner's (not taken over, not cancelled elsewhere). */
  private finishOwned(runId: string, end: Parameters<RunService['finish']>[1], actor: string): Promise<Run | null> {
    return this.core.mutate(async () => {
      const row = await this.core.q().get<RunRow>(SELECT_RUN, [runId]);
      if (!row || row.runner_id !== this.runnerId || FINISHED.has(row.status)) return null;
      return this.finish(toRun(row), end, actor);
    });
  }

  private async finish(
    run: Run,
    end: ExecutionEnd | { status: 'cancelled' | 'interrupted' | 'failed'; failed_node: string | null; error: string | null; context: object },
    actor: string,
  ): Promise<Run> {
    const ts = this.core.now();
    const dsl = end.status === 'succeeded' || end.status === 'failed' ? (await this.versions.get(run.workflow_id, run.version)).dsl_definition : null;
    const verdicts = dsl ? verdictsOf(dsl, end.context as Record<string, unknown>) : null;
    await this.core.q().run(UPDATE_FINISHED, [end.status, ts, end.error, end.failed_node, verdicts ? JSON.stringify(verdicts) : null, run.run_id]);
    await this.core.append({
      type: `run_${end.status}`,
      workflow_id: run.workflow_id,
      run_id: run.run_id,
      actor,
      ts,
      payload: { version: run.version, kind: run.kind, failed_node: end.failed_node, error: end.error, parent_run_id: run.parent_run_id },
    });
    // The canary policy judges in this same mutation: its rollback commits with this run's end, or not at all.
    // A cancel or a deny says nothing about the version's health.
    if (end.status !== 'cancelled' && end.status !== 'denied' && run.kind !== 'replay') await this.canaries.judge(run.workflow_id, run.version, ts);
    await this.onEnded?.(run);
    return this.get(run.run_id);
  }
}
