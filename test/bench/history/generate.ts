import { randomUUID } from 'node:crypto';
import type { Dsl, Run } from '../../../preload/contract/entities.js';
import { verdictsOf } from '../../../main/engine/canary.js';
import { Engine } from '../../../main/engine/engine.js';
import { type ChainHead, type SqlValue, type Store, type Tx } from '../../../main/engine/store/port.js';
import { hashEvent } from '../../../main/engine/event-log.js';
import { type ExecutionEnd, type NodeStep, execute } from '../../../main/engine/executor/executor.js';
import { type CheckpointFormat, type CheckpointState, encodeState } from '../../../main/engine/checkpoint-state.js';
import {
  BAD_EVERY,
  BAD_FOR_HOURS,
  BUSY_FREEZE_AT,
  BUSY_SHARE,
  PAUSE_EVERY_HOURS,
  PEOPLE,
  PUBLISH_EVERY_HOURS,
  RESUME_SHARE,
  RUNS_PER_HOUR,
  WORKFLOWS,
  pipelineDsl,
  workflowName,
} from './workload.js';

/*
 * Builds a history of a given number of events into an empty store: the workflows, their versions,
 * publishes, rollbacks and pauses go through the engine's own services (they are few); the runs —
 * almost all of the log — are executed by the engine's executor and written in bulk transactions,
 * row for row as the run service writes them (`mode: 'engine'` writes them through the run service
 * instead, slowly; a test holds the two to the same rows). Deterministic for a given seed.
 */

export interface HistoryManifest {
  /** Events in the log when the build ended (≥ the target). */
  events: number;
  runs: number;
  checkpoints: number;
  workflows: number;
  /** The busy workflow, and how many runs its active version has. */
  busy_workflow_id: string;
  busy_version: number;
  busy_version_runs: number;
  /** A finished run with checkpoints (for "open a run" routes), and a failed one. */
  sample_run_id: string;
  sample_failed_run_id: string | null;
  starts_at: string;
  ends_at: string;
  head: ChainHead;
}

export interface BuildOptions {
  events: number;
  /** 'bulk' (default): runs written in bulk transactions; 'engine': each run through RunService (slow; for the equivalence test). */
  mode?: 'bulk' | 'engine';
  seed?: number;
  /** When the history ends (default now): its last run starts before this. */
  endsAt?: Date;
  /** The workload's rates (workload.ts) overridden, e.g. to pack publishes, rollbacks, resumes and pauses into a short log. */
  workload?: Partial<{ runsPerHour: number; publishEveryHours: number; pauseEveryHours: number; badForHours: number; resumeShare: number }>;
  /** Runs per bulk transaction. */
  batchRuns?: number;
  /** How checkpoint rows are stored: 'delta' as the run service writes them (default), or 'full' copies as every row before migration 0150. */
  checkpoints?: CheckpointFormat;
  /**
   * Called whenever simulated time passes a day boundary, after the runs before it are written
   * (a retention pass of the one-year bench runs there), with the engine the history is built with.
   */
  onDay?: (at: Date, engine: Engine) => Promise<void>;
  log?: (line: string) => void;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RUNNER = 'history-generator';
/** Events a run adds: run_started and its end. */
const EVENTS_PER_RUN = 2;
/** Seeds per version: each is executed once and reused (enough that failures come at their rate). */
const SEED_POOL = 512;

/** A small, fast, seeded PRNG (mulberry32): the history's shape is the same for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One executed run: each step's checkpoint state, as the run service would store it. */
interface Simulated {
  steps: Array<{ node_id: string; status: NodeStep['status']; simulated_ms: number; state: CheckpointState }>;
  end: ExecutionEnd;
  verdicts: string | null;
  duration_ms: number;
  /** The rows of a fresh run of it, encoded once (runs of one seed share them). */
  rows?: StoredRow[];
}

/** A checkpoint row's stored state. */
interface StoredRow {
  format: CheckpointFormat;
  text: string;
}

/** Rows as the run service stores a run's states, in seq order: each against the one before, or full copies. */
function storeStates(states: readonly CheckpointState[], format: CheckpointFormat): StoredRow[] {
  if (format === 'full') return states.map((state) => ({ format, text: JSON.stringify(state) }));
  let context: Record<string, unknown> = {};
  return states.map((state) => {
    const row = encodeState(context, state);
    context = row.context;
    return { format: row.format, text: row.text };
  });
}

/** Runs a DSL through the engine's executor (simulated nodes only), as the run service drives it. */
function simulate(dsl: Dsl, params: Record<string, unknown>, seed: number, resume?: { completed: string[]; context: Record<string, unknown> }): Simulated {
  const gen = execute({ dsl, params, seed, faults: {}, live: false, ...(resume ? { completed: resume.completed, context: resume.context } : {}) });
  const steps: Simulated['steps'] = [];
  let duration = 0;
  for (;;) {
    const next = gen.next();
    if (next.done) {
      const verdicts = verdictsOf(dsl, next.value.context);
      return { steps, end: next.value, verdicts: verdicts ? JSON.stringify(verdicts) : null, duration_ms: duration };
    }
    if ('kind' in next.value) throw new Error('the history workload has simulated nodes only');
    const step = next.value;
    duration += step.simulated_ms;
    steps.push({ node_id: step.node_id, status: step.status, simulated_ms: step.simulated_ms, state: JSON.parse(JSON.stringify({ output: step.output, context: step.context, error: step.error })) as CheckpointState });
  }
}

/**
 * Time-ordered UUIDs (the layout of version 7: milliseconds first): a bulk build appends to the
 * primary-key indexes instead of writing at random places, which is what makes a 1M-event build take
 * minutes rather than an hour. Still 36-character UUIDs, as the engine's own random ones.
 */
function timeOrderedUuid(ms: number, random: () => number): string {
  const hex = (n: number, width: number) => Math.floor(n).toString(16).padStart(width, '0');
  const time = hex(ms, 12);
  const r = () => hex(random() * 0x10000, 4);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${r().slice(1)}-${hex(0x8000 + random() * 0x3fff, 4)}-${r()}${r()}${r()}`;
}

interface WorkflowState {
  index: number;
  id: string;
  active: number;
  /** The last good version (rollback target) and the DSLs by version. */
  good: number;
  dsl: Map<number, Dsl>;
  variant: number;
  nextPublishAt: number;
  /** A bad version's rollback is due then. */
  rollbackAt: number | null;
  nextPauseAt: number;
  unpauseAt: number | null;
  failedOnBad: Array<{ run_id: string; seed: number; params: Record<string, unknown>; good: Array<{ node_id: string; state: CheckpointState }> }>;
  /** Executions of the active version by seed slot: runs reuse them (the executor is deterministic per seed). */
  memo: Map<number, Simulated>;
  memoVersion: number;
}

interface PendingRun {
  run_id: string;
  workflow_id: string;
  version: number;
  kind: Run['kind'];
  params: Record<string, unknown>;
  seed: number;
  parent_run_id: string | null;
  resumed_from_seq: number | null;
  actor: string;
  drawn_reason: string | null;
  trigger: Run['trigger'];
  at: number;
  restored: Array<{ node_id: string; state: CheckpointState }>;
  sim: Simulated;
}

/** Rows of many runs, appended to the chain and inserted in multi-row statements inside one transaction. */
class BulkWriter {
  private runs: PendingRun[] = [];
  checkpoints = 0;

  constructor(
    private readonly store: Store,
    private readonly format: CheckpointFormat,
  ) {}

  /** A run's rows: its restored states and its own steps' (a fresh run's encoded once per execution). */
  private rowsOf(r: PendingRun): StoredRow[] {
    if (r.restored.length === 0) return (r.sim.rows ??= storeStates(r.sim.steps.map((s) => s.state), this.format));
    return storeStates([...r.restored.map((c) => c.state), ...r.sim.steps.map((s) => s.state)], this.format);
  }

  get size(): number {
    return this.runs.length;
  }

  add(run: PendingRun): void {
    this.runs.push(run);
  }

  async flush(): Promise<number> {
    if (this.runs.length === 0) return 0;
    const runs = this.runs;
    this.runs = [];
    let appended = 0;
    await this.store.transaction(async (tx) => {
      let head = await tx.lockHead();
      const runRows: SqlValue[][] = [];
      const cpRows: SqlValue[][] = [];
      const evRows: SqlValue[][] = [];
      const event = (ts: string, type: string, r: PendingRun, payload: Record<string, unknown>) => {
        const base = { seq: head.seq + 1, ts, type, workflow_id: r.workflow_id, run_id: r.run_id, actor: r.actor, payload: JSON.stringify(payload), prev_hash: head.hash };
        const hash = hashEvent(base);
        evRows.push([base.seq, base.ts, base.type, base.workflow_id, base.run_id, base.actor, base.payload, base.prev_hash, hash]);
        head = { seq: base.seq, hash };
      };
      for (const r of runs) {
        const started = new Date(r.at).toISOString();
        let t = r.at;
        let seq = 0;
        const rows = this.rowsOf(r);
        for (const c of r.restored) cpRows.push([r.run_id, ++seq, c.node_id, 'restored', rows[seq - 1]!.text, started, rows[seq - 1]!.format]);
        for (const s of r.sim.steps) {
          t += s.simulated_ms;
          cpRows.push([r.run_id, ++seq, s.node_id, s.status, rows[seq - 1]!.text, new Date(t).toISOString(), rows[seq - 1]!.format]);
        }
        const finished = new Date(t).toISOString();
        const end = r.sim.end;
        runRows.push([
          r.run_id, r.workflow_id, r.version, end.status, r.kind, JSON.stringify(r.params), r.seed, '{}', r.parent_run_id, r.resumed_from_seq,
          started, finished, end.error, end.failed_node, RUNNER, r.actor, started, r.drawn_reason, r.sim.verdicts, r.trigger, null,
        ]);
        event(started, 'run_started', r, { version: r.version, kind: r.kind, parent_run_id: r.parent_run_id, resumed_from_seq: r.resumed_from_seq, params: r.params, trigger: r.trigger, logical_date: null });
        event(finished, `run_${end.status}`, r, { version: r.version, kind: r.kind, failed_node: end.failed_node, error: end.error, parent_run_id: r.parent_run_id });
      }
      await insertMany(tx, 'runs', RUN_COLUMNS, runRows);
      await insertMany(tx, 'checkpoints', ['run_id', 'seq', 'node_id', 'status', 'state', 'created_at', 'format'], cpRows);
      await insertMany(tx, 'events', ['seq', 'ts', 'type', 'workflow_id', 'run_id', 'actor', 'payload', 'prev_hash', 'hash'], evRows);
      await tx.setHead(head);
      this.checkpoints += cpRows.length;
      appended = evRows.length;
    });
    return appended;
  }
}

const RUN_COLUMNS = [
  'run_id', 'workflow_id', 'version', 'status', 'kind', 'params', 'seed', 'faults', 'parent_run_id', 'resumed_from_seq',
  'started_at', 'finished_at', 'error', 'failed_node', 'runner_id', 'created_by', 'created_at', 'drawn_reason', 'verdicts', 'trigger', 'logical_date',
];

/** Multi-row INSERTs of at most ~4,000 parameters each (under every store's bound-parameter limit). */
async function insertMany(tx: Tx, table: string, columns: readonly string[], rows: SqlValue[][]): Promise<void> {
  const per = Math.max(1, Math.floor(4000 / columns.length));
  const one = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += per) {
    const part = rows.slice(i, i + per);
    await tx.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => one).join(', ')}`, part.flat());
  }
}

/**
 * Builds the history into `store` (empty, migrated). The engine opened on it is closed at the end,
 * and with it the store.
 */
export async function buildHistory(store: Store, options: BuildOptions): Promise<HistoryManifest> {
  const mode = options.mode ?? 'bulk';
  const random = rng(options.seed ?? 20261207);
  const log = options.log ?? (() => undefined);
  const target = options.events;
  const batchRuns = options.batchRuns ?? 2000;
  const endsAt = (options.endsAt ?? new Date()).getTime();
  // Runs make almost all of the log; the engine's own events add a few per simulated day.
  const runsPerHour = options.workload?.runsPerHour ?? RUNS_PER_HOUR;
  const publishEvery = (options.workload?.publishEveryHours ?? PUBLISH_EVERY_HOURS) * HOUR;
  const pauseEvery = (options.workload?.pauseEveryHours ?? PAUSE_EVERY_HOURS) * HOUR;
  const badFor = (options.workload?.badForHours ?? BAD_FOR_HOURS) * HOUR;
  const resumeShare = options.workload?.resumeShare ?? RESUME_SHARE;
  const slotMs = HOUR / runsPerHour;
  const hours = target / EVENTS_PER_RUN / runsPerHour;
  const startsAt = endsAt - Math.ceil(hours * 1.15 * HOUR);
  const busyFreezeAt = startsAt + (endsAt - startsAt) * BUSY_FREEZE_AT;

  const engine = await Engine.open({ store, systemActor: 'rewind', takeover: false, incidentRecords: false });
  const writer = new BulkWriter(store, options.checkpoints ?? 'delta');
  let events = await engine.latestSeq();
  let runs = 0;
  let lastTs = startsAt;
  const atTime = async <T>(at: number, fn: () => Promise<T>): Promise<T> => {
    const when = Math.max(at, lastTs + 1);
    lastTs = when;
    return engine.atTime(new Date(when), fn);
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  // Ids draw from their own sequence, so both modes make the same choices from `random`.
  const idRandom = rng((options.seed ?? 20261207) ^ 0x5eed);
  const newRunId = (t: number) => (mode === 'bulk' ? timeOrderedUuid(t, idRandom) : randomUUID());
  let sampleRun = '';
  let sampleFailed: string | null = null;

  try {
    const wfs: WorkflowState[] = [];
    for (let i = 0; i < WORKFLOWS; i++) {
      const dsl = pipelineDsl(i, 0, false);
      const wf = await atTime(startsAt + i * 60_000, () =>
        engine.workflows.create({ name: workflowName(i), description: `History workload pipeline ${i}`, dsl, change_log: 'Initial pipeline', source_type: 'MANUAL' }, pick(PEOPLE)),
      );
      wfs.push({
        index: i,
        id: wf.id,
        active: 1,
        good: 1,
        dsl: new Map([[1, dsl]]),
        variant: 0,
        nextPublishAt: startsAt + ((i + 1) * publishEvery) / WORKFLOWS,
        rollbackAt: null,
        nextPauseAt: startsAt + ((i + 2) * pauseEvery) / WORKFLOWS,
        unpauseAt: null,
        failedOnBad: [],
        memo: new Map(),
        memoVersion: 1,
      });
    }
    events = await engine.latestSeq();

    const flush = async () => {
      if (mode === 'bulk') events += await writer.flush();
      else events = await engine.latestSeq();
    };
    /** One of the engine's own changes, after the runs before it are written; its events count too. */
    const change = async <T>(at: number, fn: () => Promise<T>): Promise<T> => {
      await flush();
      const out = await atTime(at, fn);
      events = await engine.latestSeq();
      return out;
    };

    /** The engine's own changes that are due by `t`, in time order. */
    const changesDue = async (t: number) => {
      for (const w of wfs) {
        if (w.unpauseAt !== null && w.unpauseAt <= t) {
          await change(w.unpauseAt, () => engine.workflows.unpause({ workflow_id: w.id, expected_revision: undefined }, pick(PEOPLE)));
          w.unpauseAt = null;
        }
        if (w.rollbackAt !== null && w.rollbackAt <= t) {
          await change(w.rollbackAt, () => engine.versions.rollback({ workflow_id: w.id, version: w.good, expected_revision: undefined }, 'oncall.sre'));
          w.active = w.good;
          w.rollbackAt = null;
        }
        const frozen = w.index === 0 && t >= busyFreezeAt;
        if (!frozen && w.rollbackAt === null && w.nextPublishAt <= t) {
          w.variant += 1;
          const bad = w.variant % BAD_EVERY === 1;
          const dsl = pipelineDsl(w.index, w.variant, bad);
          const author = pick(PEOPLE);
          const draft = await change(w.nextPublishAt, () => engine.versions.createDraft({ workflow_id: w.id, dsl, change_log: bad ? `Variant ${w.variant}: new warehouse column` : `Variant ${w.variant}: tune thresholds`, expected_revision: undefined }, author));
          await change(w.nextPublishAt + 60_000, () => engine.versions.publish({ workflow_id: w.id, version: draft.version, expected_revision: undefined }, author));
          w.dsl.set(draft.version, dsl);
          w.active = draft.version;
          if (bad) w.rollbackAt = w.nextPublishAt + badFor;
          else w.good = draft.version;
          w.nextPublishAt += publishEvery * (0.75 + random() * 0.5);
        }
        if (w.index !== 0 && w.unpauseAt === null && w.nextPauseAt <= t) {
          await change(w.nextPauseAt, () => engine.workflows.pause({ workflow_id: w.id, expected_revision: undefined }, pick(PEOPLE)));
          w.unpauseAt = w.nextPauseAt + HOUR / 2;
          w.nextPauseAt += pauseEvery;
        }
      }
    };

    let t = startsAt + WORKFLOWS * 60_000;
    let nextDay = Math.ceil(t / DAY) * DAY;
    while (events < target) {
      t += slotMs * (0.5 + random());
      while (options.onDay && t >= nextDay) {
        await flush();
        // After the last run's end, so the log's ts still grows with seq.
        const at = Math.max(nextDay, lastTs + 1);
        lastTs = at;
        await options.onDay(new Date(at), engine);
        events = await engine.latestSeq();
        nextDay += DAY;
      }
      await changesDue(t);
      if (t >= endsAt) break;
      // A run starts after the engine's last change and the previous run's end: ts grows with seq.
      const at = Math.max(t, lastTs + 1);
      const runAt = <T>(fn: () => Promise<T>) => engine.atTime(new Date(at), fn);
      // A slot goes to a due resume first (after its bad version was rolled back), else to a new run.
      const resumable = wfs.find((w) => w.rollbackAt === null && w.failedOnBad.length > 0);
      let run: PendingRun;
      if (resumable) {
        const parent = resumable.failedOnBad.shift()!;
        const dsl = resumable.dsl.get(resumable.good)!;
        const last = parent.good[parent.good.length - 1];
        // As the run service resumes: after the parent's good checkpoints, from the last one's context (else from the params).
        const sim = simulate(dsl, parent.params, parent.seed, last ? { completed: parent.good.map((g) => g.node_id), context: last.state.context } : undefined);
        run = {
          run_id: newRunId(at), workflow_id: resumable.id, version: resumable.good, kind: 'resume', params: parent.params, seed: parent.seed,
          parent_run_id: parent.run_id, resumed_from_seq: last ? parent.good.length : null, actor: 'oncall.sre', drawn_reason: null, trigger: 'resume', at,
          restored: parent.good.map((g) => ({ node_id: g.node_id, state: g.state })), sim,
        };
        if (mode === 'engine') await runAt(() => engine.runs.resume({ run_id: parent.run_id, version: resumable.good, faults: {}, wait: false, again: false }, 'oncall.sre'));
      } else {
        const open = wfs.filter((w) => w.unpauseAt === null);
        const w = random() < BUSY_SHARE || open.length === 1 ? wfs[0]! : pick(open.filter((x) => x.index !== 0));
        const dsl = w.dsl.get(w.active)!;
        if (w.memoVersion !== w.active) {
          w.memo.clear();
          w.memoVersion = w.active;
        }
        // A pool of seeds per version: each executes once; its params follow from the seed.
        const slot = Math.floor(random() * SEED_POOL);
        const seed = w.index * 1_000_003 + w.active * 10_007 + slot;
        const params = { defect_rate: (slot % 61) / 1000 };
        let sim = w.memo.get(slot);
        if (!sim) {
          sim = simulate(dsl, params, seed);
          w.memo.set(slot, sim);
        }
        run = {
          run_id: newRunId(at), workflow_id: w.id, version: w.active, kind: 'start', params, seed, parent_run_id: null, resumed_from_seq: null,
          actor: pick(PEOPLE), drawn_reason: 'active version', trigger: 'manual', at, restored: [], sim,
        };
        if (mode === 'engine') {
          const started = await runAt(() => engine.runs.start({ workflow_id: w.id, params, seed, faults: {}, wait: false, trigger: 'manual' }, run.actor));
          run.run_id = started.run_id;
        }
        if (sim.end.status === 'failed' && w.rollbackAt !== null && random() < resumeShare) {
          const good: WorkflowState['failedOnBad'][number]['good'] = [];
          for (const s of sim.steps) {
            if (s.status === 'failed') break;
            good.push({ node_id: s.node_id, state: s.state });
          }
          w.failedOnBad.push({ run_id: run.run_id, seed, params, good });
        }
      }
      runs += 1;
      // The engine's next change comes after this run's end: ts grows with seq.
      lastTs = at + run.sim.duration_ms;
      if (run.sim.end.status === 'succeeded' && run.kind === 'start') sampleRun ||= run.run_id;
      if (run.sim.end.status === 'failed') sampleFailed ??= run.run_id;
      if (mode === 'bulk') {
        writer.add(run);
        // Enough runs to reach the target end a batch early, so the log stops close to it.
        if (writer.size >= batchRuns || events + writer.size * EVENTS_PER_RUN >= target) await flush();
      } else {
        events = await engine.latestSeq();
      }
      if (runs % 50_000 === 0) log(`${runs} runs, ~${events} events`);
    }
    await flush();

    const busy = wfs[0]!;
    const count = async (sql: string, params: SqlValue[] = []) => Number((await store.read.get<{ n: number }>(sql, params))!.n);
    const head = await engine.events.head();
    return {
      events: head.seq,
      runs: await count('SELECT COUNT(*) AS n FROM runs'),
      checkpoints: mode === 'bulk' ? writer.checkpoints : await count('SELECT COUNT(*) AS n FROM checkpoints'),
      workflows: wfs.length,
      busy_workflow_id: busy.id,
      busy_version: busy.active,
      busy_version_runs: await count('SELECT COUNT(*) AS n FROM runs WHERE workflow_id = ? AND version = ?', [busy.id, busy.active]),
      sample_run_id: sampleRun,
      sample_failed_run_id: sampleFailed,
      starts_at: new Date(startsAt).toISOString(),
      ends_at: new Date(Math.min(t, endsAt)).toISOString(),
      head,
    };
  } finally {
    await engine.close();
  }
}

export interface VersionRunsManifest {
  workflow_id: string;
  version: number;
  runs: number;
  events: number;
  head: ChainHead;
}

/**
 * One workflow whose one version has `runs` finished runs (2 % failed), all started in the `withinHours`
 * before `endsAt` — as after a day of traffic through the API, so every time-windowed read (the 24-hour
 * failure badge, the incident window) sees them all. Runs written in bulk as `buildHistory` writes them.
 */
export async function buildVersionRuns(store: Store, options: { runs: number; withinHours?: number; endsAt?: Date; seed?: number; batchRuns?: number }): Promise<VersionRunsManifest> {
  const random = rng(options.seed ?? 7_000_003);
  const idRandom = rng((options.seed ?? 7_000_003) ^ 0x5eed);
  const endsAt = (options.endsAt ?? new Date()).getTime();
  const span = (options.withinHours ?? 20) * HOUR;
  const startsAt = endsAt - span - 60_000;
  const engine = await Engine.open({ store, systemActor: 'rewind', takeover: false, incidentRecords: false });
  const writer = new BulkWriter(store, 'delta');
  try {
    const dsl = pipelineDsl(0, 0, false);
    const wf = await engine.atTime(new Date(startsAt), () => engine.workflows.create({ name: 'busy-version', description: 'One version with many runs', dsl, change_log: 'Initial pipeline', source_type: 'MANUAL' }, 'mina.kim'));
    const memo = new Map<number, Simulated>();
    const slot = span / options.runs;
    for (let i = 0; i < options.runs; i++) {
      const at = startsAt + 60_000 + Math.floor(i * slot);
      const seedSlot = Math.floor(random() * SEED_POOL);
      const params = { defect_rate: (seedSlot % 61) / 1000 };
      let sim = memo.get(seedSlot);
      if (!sim) {
        sim = simulate(dsl, params, 1_000 + seedSlot);
        memo.set(seedSlot, sim);
      }
      writer.add({
        run_id: timeOrderedUuid(at, idRandom), workflow_id: wf.id, version: 1, kind: 'start', params, seed: 1_000 + seedSlot, parent_run_id: null, resumed_from_seq: null,
        actor: 'api-client', drawn_reason: 'active version', trigger: 'api', at, restored: [], sim,
      });
      if (writer.size >= (options.batchRuns ?? 2000)) await writer.flush();
    }
    await writer.flush();
    const head = await engine.events.head();
    return { workflow_id: wf.id, version: 1, runs: options.runs, events: head.seq, head };
  } finally {
    await engine.close();
  }
}
