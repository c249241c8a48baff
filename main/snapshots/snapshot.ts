import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type Database from 'better-sqlite3';
import type { Checkpoint, RewindEvent, Run, Workflow } from '../../preload/contract/entities.js';
import type { StoredRehearsal, StoredRunbook } from '../../preload/contract/runbooks.js';
import type { ConsoleEventPayload } from '../../preload/contract/index.js';
import type { Backend } from '../backends/backend.js';
import { openDatabase } from '../engine/store/sqlite/database.js';
import { RewindError } from '../engine/errors.js';
import { GENESIS_HASH, hashEvent } from '../engine/event-log.js';
import { nextTicks } from '../engine/cron.js';
import { rebuildCanaries, rebuildFromEvents, type RebuiltCanary } from '../engine/rebuild.js';
import { type IncidentRow, rebuildIncidents } from '../engine/incident-records.js';
import { headSeq } from '../backends/head-seq.js';
import { INSERT_CHECKPOINT, INSERT_META, INSERT_RUN, INSERT_VERSION, INSERT_WORKFLOW, copiedRunRow, writeCheckpoints } from './copy-rows.js';
import { inspectSandboxFile, type SandboxFile, SNAPSHOT_META, type SnapshotCursor, type SnapshotMeta } from './sandbox-file.js';

export type SnapshotProgress = Omit<ConsoleEventPayload<'snapshots:progress'>, 'path'>;

export interface SnapshotOptions {
  /** A remote backend: the workflow server to copy. */
  backend: Backend;
  /** The server's URL, recorded in the file; a later call resumes only a snapshot of the same URL. */
  sourceUrl: string;
  path: string;
  /** How many of the newest runs to take (ancestors their parent_run_id needs come too). Ignored on resume: the first call's count holds. */
  runs: number;
  onProgress?: (progress: SnapshotProgress) => void;
  /** Events per request. */
  pageSize?: number;
}

export interface SnapshotResult {
  path: string;
  source_url: string;
  taken_at: string;
  workflows: number;
  versions: number;
  runs: number;
  checkpoints: number;
  events: number;
  runbooks: number;
  rehearsals: number;
  resumed: boolean;
}

/**
 * Where a snapshot goes: a path ending in a separator, or naming a folder, is a folder, and the file
 * gets a name from the server and the time (`snapshot-host-8000-20261202T141500Z.db`).
 */
export function snapshotTargetPath(rawPath: string, sourceUrl: string, now: Date = new Date()): string {
  const folder = rawPath.endsWith('/') || rawPath.endsWith(sep) || isFolder(rawPath);
  if (!folder) return resolve(rawPath);
  const u = new URL(sourceUrl);
  const host = `${u.hostname}${u.port ? `-${u.port}` : ''}`.replace(/[^A-Za-z0-9.-]+/g, '-');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = join(resolve(rawPath), `snapshot-${host}-${stamp}`);
  // Two snapshots within a second get -2, -3…: a generated name never lands on an existing file.
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? `${base}.db` : `${base}-${n}.db`;
    if (!existsSync(candidate)) return candidate;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A `schedules` row (migration 0080). */
interface ScheduleRow {
  workflow_id: string;
  expression: string;
  catchup: 'skip' | 'latest' | 'all';
  max_concurrent: number | null;
  last_tick: string;
  next_due: string | null;
  updated_at: string;
}

const TERMINAL_EVENTS = ['run_succeeded', 'run_failed', 'run_cancelled', 'run_interrupted', 'run_denied'];

/**
 * Copies a workflow server into a sandbox file, consistent as of one point of its log: the head
 * read when the snapshot starts. Events up to the head are copied row for row (same seq, ts, payload,
 * prev_hash and hash, so the copy's chain verifies); workflows, versions and canaries are rebuilt from
 * those events (invariant 4), so they agree with the log even while the server moves on; schedules
 * take their policy from the server; runs are the newest `runs` started by the head, with their
 * ancestors, as they stood at the head. Webhooks are not copied: their secrets stay on the server.
 *
 * Rows are written directly into a database made by the engine's migrations — never through
 * engine mutations, which would append events of their own. Every step commits with its cursor in
 * `meta`, so a snapshot stopped by a dropped connection resumes where it stopped when called again.
 */
export async function snapshotServer(options: SnapshotOptions): Promise<SnapshotResult> {
  const sourceUrl = normalizeUrl(options.sourceUrl);
  const path = snapshotTargetPath(options.path, sourceUrl);
  const report = options.onProgress ?? (() => undefined);
  const file = inspectTarget(path);
  const prior = file.kind === 'sandbox' ? file.snapshot : null;
  if (file.kind === 'sandbox') refuseTarget(path, sourceUrl, prior, file.hasData);
  if (file.kind === 'missing') mkdirSync(dirname(path), { recursive: true });

  const { db } = openDatabase(path);
  try {
    const writer = new SnapshotWriter(db, path);
    const meta = prior ?? (await writer.start(options.backend, sourceUrl, options.runs));
    const copy = new SnapshotCopy(writer, options.backend, meta, report, options.pageSize ?? 1000);
    await copy.run();
    const counts = writer.counts();
    report({ phase: 'done', done: counts.runs, total: counts.runs, detail: `${counts.workflows} workflows, ${counts.versions} versions, ${counts.events} events, ${counts.runs} runs` });
    return { path, source_url: meta.sourceUrl, taken_at: meta.takenAt, ...counts, resumed: prior !== null };
  } catch (err) {
    report({ phase: 'failed', done: 0, total: null, detail: err instanceof RewindError ? `${err.message} ${err.hint}` : err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    db.close();
  }
}

/** The same server spelled the same way: origin and path, without a trailing slash. */
function normalizeUrl(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/** A file that is not a Rewind sandbox is somebody else's: never written over. */
function inspectTarget(path: string): SandboxFile {
  try {
    return inspectSandboxFile(path);
  } catch (err) {
    if (!(err instanceof RewindError) || err.code !== 'VALIDATION_FAILED') throw err;
    throw new RewindError('SNAPSHOT_TARGET_EXISTS', `${err.message.replace(/\.$/, '')}: a snapshot never writes over another file.`, 'Snapshot into a new file, or a folder (ending the path with /).', { path });
  }
}

function refuseTarget(path: string, sourceUrl: string, prior: SnapshotMeta | null, hasData: boolean): void {
  if (prior === null) {
    if (!hasData) return;
    throw new RewindError('SNAPSHOT_TARGET_IS_SANDBOX', `${path} is a sandbox with data of its own, not a snapshot.`, 'Snapshot into a new file (or a folder, ending the path with /); a snapshot never writes over a sandbox.', { path });
  }
  if (prior.sourceUrl !== sourceUrl) {
    throw new RewindError('SNAPSHOT_TARGET_OTHER_SERVER', `${path} is a snapshot of ${prior.sourceUrl}, not of ${sourceUrl}.`, 'Snapshot this server into another file (or a folder, ending the path with /).', {
      path,
      source_url: prior.sourceUrl,
    });
  }
  if (prior.complete) {
    throw new RewindError('SNAPSHOT_TARGET_EXISTS', `${path} already holds a complete snapshot of ${sourceUrl}, taken at ${prior.takenAt}.`, 'Open it, or snapshot into a new file (or a folder, ending the path with /) for a fresh copy.', {
      path,
      taken_at: prior.takenAt,
    });
  }
}

/** The file side: prepared statements created once, each write committed with its cursor. */
class SnapshotWriter {
  private readonly selectEventsAfter: Database.Statement;
  private readonly setMeta: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly insertWorkflow: Database.Statement;
  private readonly insertVersion: Database.Statement;
  private readonly insertCanary: Database.Statement;
  private readonly insertIncident: Database.Statement;
  private readonly insertSchedule: Database.Statement;
  private readonly insertRun: Database.Statement;
  private readonly insertCheckpoint: Database.Statement;
  private readonly insertRunbook: Database.Statement;
  private readonly insertRehearsal: Database.Statement;
  private readonly selectHead: Database.Statement;
  private readonly selectRunIds: Database.Statement;
  private readonly hasRun: Database.Statement;
  private readonly moveVerifiedHead: Database.Statement;

  constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {
    this.selectEventsAfter = db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.setMeta = db.prepare(INSERT_META);
    this.insertEvent = db.prepare(
      'INSERT INTO events (seq, ts, type, workflow_id, run_id, actor, payload, prev_hash, hash) VALUES (@seq, @ts, @type, @workflow_id, @run_id, @actor, @payload, @prev_hash, @hash)',
    );
    this.insertWorkflow = db.prepare(INSERT_WORKFLOW);
    this.insertVersion = db.prepare(INSERT_VERSION);
    this.insertCanary = db.prepare(
      `INSERT INTO canaries (canary_id, workflow_id, version, stable_version, percent, policy, state, reason, started_at, started_by, ended_at)
       VALUES (@canary_id, @workflow_id, @version, @stable_version, @percent, @policy, @state, @reason, @started_at, @started_by, @ended_at)`,
    );
    this.insertIncident = db.prepare(
      `INSERT INTO incidents (incident_id, workflow_id, version, rehearsal, opened_seq, opened_at, first_failure_at, first_run_id, acknowledged_by, acknowledged_at,
         acknowledged_seq, mitigated_by, mitigated_action, mitigated_at, mitigated_seq, candidate_by, candidate_at, candidate_seq, resolved_by, resolved_at, resolved_seq,
         resolved_note, report, report_revision)
       VALUES (@incident_id, @workflow_id, @version, @rehearsal, @opened_seq, @opened_at, @first_failure_at, @first_run_id, @acknowledged_by, @acknowledged_at,
         @acknowledged_seq, @mitigated_by, @mitigated_action, @mitigated_at, @mitigated_seq, @candidate_by, @candidate_at, @candidate_seq, @resolved_by, @resolved_at, @resolved_seq,
         @resolved_note, @report, @report_revision)`,
    );
    this.insertSchedule = db.prepare(
      `INSERT INTO schedules (workflow_id, expression, catchup, max_concurrent, last_tick, next_due, updated_at)
       VALUES (@workflow_id, @expression, @catchup, @max_concurrent, @last_tick, @next_due, @updated_at)`,
    );
    this.insertRun = db.prepare(INSERT_RUN);
    this.insertCheckpoint = db.prepare(INSERT_CHECKPOINT);
    this.insertRunbook = db.prepare(
      `INSERT OR REPLACE INTO runbooks (id, name, level, definition, created_by, created_at, updated_at)
       VALUES (@id, @name, @level, @definition, @created_by, @created_at, @updated_at)`,
    );
    this.insertRehearsal = db.prepare(
      `INSERT OR REPLACE INTO rehearsals (id, runbook_id, runbook_definition, scenario, started_at, finished_at, total_ms, passed, steps, rollbacks, created_by)
       VALUES (@id, @runbook_id, @runbook_definition, @scenario, @started_at, @finished_at, @total_ms, @passed, @steps, @rollbacks, @created_by)`,
    );
    this.selectHead = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.selectRunIds = db.prepare(`SELECT run_id, seq, type FROM events WHERE run_id IS NOT NULL AND type IN ('run_started', ${TERMINAL_EVENTS.map((t) => `'${t}'`).join(', ')})`);
    this.hasRun = db.prepare('SELECT 1 FROM runs WHERE run_id = ?');
    this.moveVerifiedHead = db.prepare('UPDATE chain_verified SET seq = ?, hash = ?, verified_by = ?, verified_at = ? WHERE id = 1 AND seq < ?');
  }

  /** Reads the server's head first: everything after it is left out, however long the copy takes. */
  async start(backend: Backend, sourceUrl: string, runs: number): Promise<SnapshotMeta> {
    const meta: SnapshotMeta = {
      sourceUrl,
      takenAt: new Date().toISOString(),
      headSeq: await headSeq(backend),
      complete: false,
      runsRequested: runs,
      cursor: { phase: 'events', events: 0, workflows: 0, versions: 0, runs: 0, checkpoints: 0 },
    };
    this.db.transaction(() => {
      this.setMeta.run(SNAPSHOT_META.sourceUrl, meta.sourceUrl);
      this.setMeta.run(SNAPSHOT_META.takenAt, meta.takenAt);
      this.setMeta.run(SNAPSHOT_META.headSeq, String(meta.headSeq));
      this.setMeta.run(SNAPSHOT_META.complete, 'false');
      this.setMeta.run(SNAPSHOT_META.runsRequested, String(runs));
      this.saveCursor(meta.cursor);
    })();
    return meta;
  }

  localHead(): { seq: number; hash: string } {
    return (this.selectHead.get() as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Appends copied events, each checked against the one before as it arrived: the copy's verified
   * head moves with them, so opening the snapshot reads no event the copy already verified.
   */
  appendEvents(events: RewindEvent[], cursor: SnapshotCursor, verifiedBy: string): void {
    const last = events[events.length - 1];
    this.db.transaction(() => {
      for (const e of events) this.insertEvent.run({ ...e, payload: JSON.stringify(e.payload) });
      if (last) this.moveVerifiedHead.run(last.seq, last.hash, verifiedBy, new Date().toISOString(), last.seq);
      this.saveCursor(cursor);
    })();
  }

  /** Every copied event, page by page, for the rebuild. */
  *events(): Generator<RewindEvent> {
    for (let after = 0; ; ) {
      const page = (this.selectEventsAfter.all(after, 5000) as Array<Omit<RewindEvent, 'payload'> & { payload: string }>).map((e) => ({
        ...e,
        payload: JSON.parse(e.payload) as Record<string, unknown>,
      }));
      yield* page;
      if (page.length < 5000) return;
      after = page[page.length - 1]!.seq;
    }
  }

  writeState(
    state: { workflows: Array<Record<string, unknown>>; versions: Array<Record<string, unknown>>; canaries: RebuiltCanary[]; schedules: ScheduleRow[]; incidents: IncidentRow[] },
    cursor: SnapshotCursor,
  ): void {
    this.db.transaction(() => {
      for (const w of state.workflows) this.insertWorkflow.run(w);
      for (const v of state.versions) this.insertVersion.run(v);
      // The server's canary ids are in no event: the copy names each after the event that started it.
      for (const { started_seq, ...c } of state.canaries) this.insertCanary.run({ canary_id: `snapshot-${started_seq}`, ...c });
      for (const row of state.schedules) this.insertSchedule.run(row);
      // Incident records are the log's too: the copy has the server's, with their times and reports.
      for (const row of state.incidents) this.insertIncident.run(row);
      this.saveCursor(cursor);
    })();
  }

  /** Runs in the copied log: when each started, and how each that ended by the head ended. */
  runEvents(): { startedSeq: Map<string, number>; ended: Map<string, string> } {
    const startedSeq = new Map<string, number>();
    const ended = new Map<string, string>();
    for (const row of this.selectRunIds.all() as Array<{ run_id: string; seq: number; type: string }>) {
      if (row.type === 'run_started') startedSeq.set(row.run_id, row.seq);
      else ended.set(row.run_id, row.type);
    }
    return { startedSeq, ended };
  }

  eventTs(seq: number): string | null {
    return (this.db.prepare('SELECT ts FROM events WHERE seq = ?').get(seq) as { ts: string } | undefined)?.ts ?? null;
  }

  saveRunSelection(ids: string[]): void {
    this.setMeta.run(SNAPSHOT_META.runIds, JSON.stringify(ids));
  }

  runSelection(): string[] | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(SNAPSHOT_META.runIds) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as string[]) : null;
  }

  hasCopied(runId: string): boolean {
    return this.hasRun.get(runId) !== undefined;
  }

  writeRun(run: Run, checkpoints: Checkpoint[], cursor: SnapshotCursor): void {
    this.db.transaction(() => {
      this.insertRun.run(copiedRunRow(run));
      writeCheckpoints(this.insertCheckpoint, checkpoints);
      this.saveCursor(cursor);
    })();
  }

  complete(cursor: SnapshotCursor): void {
    this.db.transaction(() => {
      this.saveCursor(cursor);
      this.setMeta.run(SNAPSHOT_META.complete, 'true');
    })();
  }

  counts(): Omit<SnapshotResult, 'path' | 'source_url' | 'taken_at' | 'resumed'> {
    const count = (table: string) => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      workflows: count('workflows'),
      versions: count('workflow_versions'),
      runs: count('runs'),
      checkpoints: count('checkpoints'),
      events: count('events'),
      runbooks: count('runbooks'),
      rehearsals: count('rehearsals'),
    };
  }

  /** Runbooks and their rehearsal history, in one transaction with the cursor: a stopped copy redoes this phase whole. */
  writeRunbooks(runbooks: Array<{ runbook: StoredRunbook; rehearsals: StoredRehearsal[] }>, cursor: SnapshotCursor): void {
    this.db.transaction(() => {
      for (const { runbook: r, rehearsals } of runbooks) {
        const definition = JSON.stringify(r.runbook);
        this.insertRunbook.run({ id: r.id, name: r.name, level: r.level, definition, created_by: r.created_by, created_at: r.created_at, updated_at: r.updated_at });
        for (const h of rehearsals) {
          this.insertRehearsal.run({
            id: h.id,
            runbook_id: r.id,
            // The server's API gives a rehearsal's record, not the definition it ran: the runbook as copied stands in.
            runbook_definition: definition,
            scenario: h.scenario,
            started_at: h.started_at,
            finished_at: h.finished_at,
            total_ms: Math.round(h.total_ms),
            passed: h.passed ? 1 : 0,
            steps: JSON.stringify(h.steps),
            rollbacks: JSON.stringify(h.rollbacks),
            created_by: h.created_by,
          });
        }
      }
      this.saveCursor(cursor);
    })();
  }

  private saveCursor(cursor: SnapshotCursor): void {
    this.setMeta.run(SNAPSHOT_META.cursor, JSON.stringify(cursor));
  }
}

/** The server side and the order of the phases: events → workflows and versions → runs → runbooks. */
class SnapshotCopy {
  private cursor: SnapshotCursor;

  constructor(
    private readonly writer: SnapshotWriter,
    private readonly backend: Backend,
    private readonly meta: SnapshotMeta,
    private readonly report: (p: SnapshotProgress) => void,
    private readonly pageSize: number,
  ) {
    this.cursor = { ...meta.cursor };
  }

  async run(): Promise<void> {
    if (this.cursor.phase === 'events') await this.copyEvents();
    if (this.cursor.phase === 'state') await this.writeState();
    if (this.cursor.phase === 'runs') await this.copyRuns();
    if (this.cursor.phase === 'runbooks') await this.copyRunbooks();
    this.writer.complete({ ...this.cursor, phase: 'done' });
  }

  private async copyEvents(): Promise<void> {
    const head = this.meta.headSeq;
    let local = this.writer.localHead();
    if (local.seq > 0) await this.checkSameLog(local);
    this.report({ phase: 'events', done: local.seq, total: head, detail: null });
    while (local.seq < head) {
      const { events } = await this.backend.call('events:list', { after: local.seq, limit: Math.min(this.pageSize, head - local.seq) });
      if (events.length === 0) {
        throw new RewindError('SNAPSHOT_SOURCE_CHANGED', `The server's event log ends at ${local.seq}, before the snapshot's head ${head}.`, 'The server was reset or restored from a backup; snapshot it into a new file.', { seq: local.seq, head });
      }
      const page = events.filter((e) => e.seq <= head);
      for (const e of page) {
        this.checkLink(e, local);
        local = { seq: e.seq, hash: e.hash };
      }
      this.cursor = { ...this.cursor, events: local.seq };
      this.writer.appendEvents(page, this.cursor, `snapshot of ${this.meta.sourceUrl}`);
      this.report({ phase: 'events', done: local.seq, total: head, detail: null });
    }
    this.cursor = { ...this.cursor, phase: 'state' };
  }

  /** Each event must follow the last, and its hash must match its content as it arrived: the copy's chain verifies. */
  private checkLink(e: RewindEvent, last: { seq: number; hash: string }): void {
    const broken = (why: string) =>
      new RewindError('CHAIN_BROKEN', `Event ${e.seq} from the server cannot be copied: ${why}.`, 'Verify the server’s chain (events:verify); snapshot again once it verifies.', { seq: e.seq });
    if (e.seq !== last.seq + 1) throw broken(`it follows event ${last.seq}`);
    if (e.prev_hash !== last.hash) throw broken(`it does not point at the hash of event ${last.seq}`);
    if (hashEvent({ ...e, payload: JSON.stringify(e.payload) }) !== e.hash) throw broken('its hash does not match its content');
  }

  /** On resume: the server's event at our head must be the one we copied, or this is another log. */
  private async checkSameLog(local: { seq: number; hash: string }): Promise<void> {
    const { events } = await this.backend.call('events:list', { after: local.seq - 1, limit: 1 });
    if (events[0]?.hash !== local.hash) {
      throw new RewindError('SNAPSHOT_SOURCE_CHANGED', `The server's event ${local.seq} is not the one this unfinished snapshot copied.`, 'The server was reset or restored since; snapshot it into a new file.', {
        seq: local.seq,
      });
    }
  }

  private async writeState(): Promise<void> {
    const state = rebuildFromEvents(this.writer.events());
    const workflows = Object.values(state.workflows);
    const versions = Object.values(state.versions).map((v) => ({ ...v, dsl_definition: JSON.stringify(v.dsl_definition) }));
    const canaries = rebuildCanaries(this.writer.events());
    this.report({ phase: 'workflows', done: 0, total: workflows.length, detail: null });
    await this.crossCheck(state.workflows);
    const schedules = await this.schedules(workflows);
    this.cursor = { ...this.cursor, phase: 'runs', workflows: workflows.length, versions: versions.length };
    this.writer.writeState({ workflows, versions, canaries, schedules, incidents: rebuildIncidents(this.writer.events()) }, this.cursor);
    this.report({ phase: 'workflows', done: workflows.length, total: workflows.length, detail: null });
    this.report({ phase: 'versions', done: versions.length, total: versions.length, detail: null });
  }

  /**
   * A workflow the server has not changed since the head must read exactly as rebuilt: otherwise
   * its log does not hold its state, and a snapshot built from the log would lie.
   */
  private async crossCheck(rebuilt: Record<string, Record<string, unknown>>): Promise<void> {
    const { workflows } = await this.backend.call('workflows:list', {});
    const fields = ['name', 'description', 'source_type', 'status', 'schedule', 'active_version', 'created_at', 'updated_at'] as const satisfies ReadonlyArray<keyof Workflow>;
    for (const live of workflows) {
      const mine = rebuilt[live.id];
      if (!mine || mine.revision !== live.revision) continue;
      const differs = fields.find((f) => mine[f] !== live[f]);
      if (differs) {
        throw new RewindError('CHAIN_BROKEN', `The server's event log does not rebuild workflow "${live.name}" (${differs} differs).`, 'Verify the server’s chain and report it; its log is the audit record and should hold every change.', {
          workflow_id: live.id,
          field: differs,
        });
      }
    }
  }

  /**
   * The scheduler's row of each workflow scheduled at the head: its catch-up policy and concurrency
   * limit as the server has them (unless its schedule changed since the head: then the defaults, as
   * a schedule set without them), and its ticks handled up to the head — a snapshot records what
   * happened, it owes no run to the time since.
   */
  private async schedules(workflows: Array<Record<string, unknown>>): Promise<ScheduleRow[]> {
    const headTs = this.headTs();
    const rows: ScheduleRow[] = [];
    for (const w of workflows) {
      if (typeof w.schedule !== 'string' || w.unregistered_at !== null) continue;
      const info = await this.backend.call('schedules:get', { workflow_id: String(w.id) });
      const same = info.schedule === w.schedule;
      rows.push({
        workflow_id: String(w.id),
        expression: w.schedule,
        catchup: same ? info.catchup : 'skip',
        max_concurrent: same ? info.max_concurrent : null,
        last_tick: headTs,
        next_due: nextTicks(w.schedule, new Date(headTs), 1)[0] ?? null,
        updated_at: headTs,
      });
    }
    return rows;
  }

  private async copyRuns(): Promise<void> {
    const { startedSeq, ended } = this.writer.runEvents();
    let ids = this.writer.runSelection();
    const fetched = new Map<string, Run>();
    if (ids === null) {
      ids = await this.selectRuns(startedSeq, fetched);
      this.writer.saveRunSelection(ids);
    }
    const headTs = this.headTs();
    let done = ids.filter((id) => this.writer.hasCopied(id)).length;
    this.report({ phase: 'runs', done, total: ids.length, detail: null });
    for (const id of ids) {
      if (this.writer.hasCopied(id)) continue;
      const run = fetched.get(id) ?? (await this.backend.call('runs:get', { run_id: id }));
      const { checkpoints } = await this.backend.call('checkpoints:list', { run_id: id });
      const atHead = atHeadOf(run, checkpoints, ended.has(id), headTs);
      this.cursor = { ...this.cursor, runs: this.cursor.runs + 1, checkpoints: this.cursor.checkpoints + atHead.checkpoints.length };
      this.writer.writeRun(atHead.run, atHead.checkpoints, this.cursor);
      done += 1;
      this.report({ phase: 'runs', done, total: ids.length, detail: null });
    }
    this.cursor = { ...this.cursor, phase: 'runbooks' };
  }

  /** So a server's runbooks can be rehearsed offline against the snapshot, with their recovery-time history. */
  private async copyRunbooks(): Promise<void> {
    const { runbooks } = await this.backend.call('runbooks:list', {});
    this.report({ phase: 'runbooks', done: 0, total: runbooks.length, detail: null });
    const copied: Array<{ runbook: StoredRunbook; rehearsals: StoredRehearsal[] }> = [];
    for (const runbook of runbooks) {
      const { rehearsals } = await this.backend.call('rehearsals:list', { runbook: runbook.id, limit: 1000 });
      copied.push({ runbook, rehearsals });
      this.report({ phase: 'runbooks', done: copied.length, total: runbooks.length, detail: null });
    }
    this.writer.writeRunbooks(copied, { ...this.cursor, phase: 'done' });
  }

  private headTs(): string {
    return this.writer.eventTs(this.meta.headSeq) ?? this.meta.takenAt;
  }

  /** The newest N runs started by the head, plus their ancestors, parents first (by the seq they started at). */
  private async selectRuns(startedSeq: Map<string, number>, fetched: Map<string, Run>): Promise<string[]> {
    const wanted = this.meta.runsRequested;
    const chosen = new Set<string>();
    const limit = 500;
    for (let page = 0, after: string | undefined; chosen.size < wanted; page += 1) {
      // Keyset pages (after the last run of the previous page); a server from before cursors still pages by offset.
      const listed = await this.backend.call('runs:list', { limit, ...(after === undefined ? { offset: page * limit } : { after }) });
      for (const run of listed.runs) {
        // Runs started after the head are not in the copied log: they are left out.
        if (chosen.size >= wanted || !startedSeq.has(run.run_id)) continue;
        chosen.add(run.run_id);
        fetched.set(run.run_id, run);
      }
      if (listed.runs.length < limit || listed.has_more === false) break;
      after = listed.next_cursor ?? undefined;
      this.report({ phase: 'runs', done: 0, total: null, detail: `choosing runs: ${chosen.size} of ${wanted}` });
    }
    for (const id of [...chosen]) {
      for (let parent = fetched.get(id)?.parent_run_id ?? null; parent !== null && !chosen.has(parent); ) {
        const run = await this.backend.call('runs:get', { run_id: parent });
        chosen.add(parent);
        fetched.set(parent, run);
        parent = run.parent_run_id;
      }
    }
    return [...chosen].sort((a, b) => (startedSeq.get(a) ?? 0) - (startedSeq.get(b) ?? 0));
  }
}

/**
 * A run as it stood at the head: one that had not ended by then is still running in the snapshot
 * (whatever it did later is not in the copied log), with the checkpoints it had written by then.
 */
function atHeadOf(run: Run, checkpoints: Checkpoint[], endedByHead: boolean, headTs: string): { run: Run; checkpoints: Checkpoint[] } {
  if (endedByHead) return { run, checkpoints };
  return {
    run: { ...run, status: 'running', finished_at: null, error: null, failed_node: null },
    checkpoints: checkpoints.filter((c) => c.created_at <= headTs),
  };
}
