import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { Dsl, UnregisterResult, Workflow } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { validateCron } from './cron.js';
import { validateDsl } from './dsl/graph.js';
import { RewindError } from './errors.js';
import { type VersionRow, type WorkflowRow, failedRunsSql, toWorkflow } from './rows.js';

const INSERT_WORKFLOW = `INSERT INTO workflows (id, name, description, source_type, status, schedule, active_version, revision, created_at, updated_at,
  unregistered_at, code_file, template_name, template_version)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`;
const INSERT_VERSION = `INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, change_log, status, created_by, published_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const UPDATE_STATUS = 'UPDATE workflows SET status = ?, revision = revision + 1, updated_at = ? WHERE id = ?';
const UPDATE_SCHEDULE = 'UPDATE workflows SET schedule = ?, revision = revision + 1, updated_at = ? WHERE id = ?';
const SELECT_ACTIVE_VERSION = "SELECT * FROM workflow_versions WHERE workflow_id = ? AND status = 'active'";
const BUMP_REVISION = 'UPDATE workflows SET revision = revision + 1, updated_at = ? WHERE id = ?';
const UNREGISTER = 'UPDATE workflows SET unregistered_at = ?, revision = revision + 1, updated_at = ? WHERE id = ?';
const UPDATE_DESCRIPTION = 'UPDATE workflows SET description = ?, code_file = ?, revision = revision + 1, updated_at = ? WHERE id = ?';
const SELECT_IN_FLIGHT = "SELECT run_id FROM runs WHERE workflow_id = ? AND status IN ('queued', 'running', 'waiting') ORDER BY created_at, run_id";
/** The status a MANUAL workflow had before a CODE one overrode it: restored when that CODE one is unregistered. */
const SELECT_LAST_OVERRIDE = "SELECT payload FROM events WHERE workflow_id = ? AND type = 'workflow_overridden' ORDER BY seq DESC LIMIT 1";

/** What a file of the code folder defines, once parsed and validated (see main/code/). */
export interface CodeDefinition {
  name: string;
  description: string;
  schedule: string | null;
  dsl: Dsl;
  /** The file, relative to the code folder: recorded on the workflow, and the actor `code:<file>`. */
  file: string;
  /** SHA-256 of the file's bytes as read: what a refusal is recorded against, and what a stale read is told apart by. */
  hash: string;
}

/**
 * What a code folder sync did to one workflow. `stale`: the file changed on disk after it was read (a
 * later pass applies the newer content), so nothing was applied — another replica may already have.
 */
export type CodeSyncOutcome = 'created' | 'published' | 'updated' | 'unchanged' | 'stale';

const notFound = (id: string) =>
  new RewindError('WORKFLOW_NOT_FOUND', `No workflow has the id "${id}".`, 'List the workflows to find its id; it may have been created on another connection.', { workflow_id: id });

/** Workflows: create, clone, pause and unpause under seed 004's MANUAL/CODE override rules, schedules. */
export class WorkflowService {
  private readonly sql: { one: string; bare: string; anyOne: string; all: string; search: string; byName: string; codeWorkflows: string };
  /** Marks a call chain as the code folder's own: the only one that may change a CODE workflow's definition. */
  private readonly codeFolder = new AsyncLocalStorage<true>();

  constructor(private readonly core: EngineCore) {
    const { dialect } = core.store;
    const columns = `w.*, ${failedRunsSql(dialect)} AS failed_runs`;
    const order = `ORDER BY ${dialect.nocase('w.name')}, w.source_type`;
    // An unregistered workflow has left every list and lookup; its row stays for the record.
    const registered = 'w.unregistered_at IS NULL';
    this.sql = {
      one: `SELECT ${columns} FROM workflows w WHERE w.id = ? AND ${registered}`,
      bare: `SELECT w.* FROM workflows w WHERE w.id = ? AND ${registered}`,
      anyOne: `SELECT ${columns} FROM workflows w WHERE w.id = ?`,
      all: `SELECT ${columns} FROM workflows w WHERE ${registered} ${order}`,
      search: `SELECT ${columns} FROM workflows w WHERE ${registered} AND (${dialect.ilike('w.name')} OR ${dialect.ilike('w.description')}) ${order}`,
      byName: `SELECT ${columns} FROM workflows w WHERE w.name = ? AND w.source_type = ? AND ${registered}`,
      codeWorkflows: `SELECT ${columns} FROM workflows w WHERE w.source_type = 'CODE' AND ${registered} ${order}`,
    };
  }

  /** Runs `fn` as the code folder: changes to CODE workflows inside it are allowed (see `refuseCodeManaged`). */
  asCodeFolder<T>(fn: () => Promise<T>): Promise<T> {
    return this.codeFolder.run(true, fn);
  }

  /**
   * A CODE workflow's definition comes from its file in the code folder (seed 004: Git only): a
   * change through the API or CLI would be overwritten by the next commit, so it is refused.
   */
  refuseCodeManaged(wf: Pick<Workflow, 'id' | 'name' | 'source_type' | 'code_file'>, what: string): void {
    if (wf.source_type !== 'CODE' || this.codeFolder.getStore()) return;
    throw new RewindError(
      'CODE_MANAGED',
      `"${wf.name}" is a CODE workflow: ${what} happens in the code folder, not through the API or CLI.`,
      `Change it in the code folder${wf.code_file ? ` (${wf.code_file})` : ''} and commit; the server publishes the change. Pause and unpause stay allowed here.`,
      { workflow_id: wf.id, code_file: wf.code_file },
    );
  }

  /** Registered CODE workflows: what the code folder's files are compared with. */
  async codeWorkflows(): Promise<Workflow[]> {
    return (await this.core.q().all<WorkflowRow>(this.sql.codeWorkflows)).map(toWorkflow);
  }

  async get(id: string): Promise<Workflow> {
    const row = await this.core.q().get<WorkflowRow>(this.sql.one, [id]);
    if (!row) throw notFound(id);
    return toWorkflow(row);
  }

  /**
   * The workflow as the rules read it on every run's start and end (status, active version, name),
   * without the failure badge a person reads (`get`): nothing on that path counts runs.
   */
  async find(id: string): Promise<Omit<Workflow, 'failed_runs'>> {
    const row = await this.core.q().get<Omit<WorkflowRow, 'failed_runs'>>(this.sql.bare, [id]);
    if (!row) throw notFound(id);
    const { failed_runs: _none, ...workflow } = toWorkflow({ ...row, failed_runs: 0 });
    return workflow;
  }

  async list(query?: string): Promise<Workflow[]> {
    if (!query) return (await this.core.q().all<WorkflowRow>(this.sql.all)).map(toWorkflow);
    const like = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return (await this.core.q().all<WorkflowRow>(this.sql.search, [like, like])).map(toWorkflow);
  }

  /** Refuses a mutation based on a revision another operator has already changed (invariant 3). */
  checkRevision(workflow: Workflow, expected: number | undefined): void {
    if (expected === undefined || expected === workflow.revision) return;
    throw new RewindError(
      'STALE_REVISION',
      `"${workflow.name}" changed since you loaded it (you saw revision ${expected}; it is now ${workflow.revision}).`,
      'Reload the workflow to see what changed, then decide again.',
      { current_revision: workflow.revision, expected_revision: expected, workflow },
    );
  }

  create(input: ParsedInput<'workflows:create'>, actor: string, template: { name: string; version: number } | null = null): Promise<Workflow> {
    if (input.source_type === 'CODE' && !this.codeFolder.getStore()) {
      throw new RewindError(
        'CODE_MANAGED',
        `"${input.name}" cannot be registered as a CODE workflow through the API or CLI: CODE workflows come from the code folder.`,
        'Add its file (name, description, schedule, dsl) to the server\'s code folder (--code-dir) and commit, or register it as MANUAL.',
        { name: input.name },
      );
    }
    const dsl = input.dsl === undefined ? undefined : validateDsl(input.dsl);
    const schedule = input.schedule ? validateCron(input.schedule).expression : null;
    return this.core.mutate(() => this.insertWorkflow({ ...input, dsl, schedule, template }, actor, null));
  }

  clone(input: ParsedInput<'workflows:clone'>, actor: string): Promise<Workflow> {
    return this.core.mutate(async () => {
      const source = await this.get(input.workflow_id);
      const active = await this.core.q().get<VersionRow>(SELECT_ACTIVE_VERSION, [source.id]);
      if (!active) {
        throw new RewindError('NO_ACTIVE_VERSION', `"${source.name}" has no published version to clone.`, 'Publish a version first, then clone.', {
          workflow_id: source.id,
        });
      }
      const name = input.name ?? (await this.freeName(`${source.name} (copy)`));
      return this.insertWorkflow(
        {
          name,
          description: source.description,
          dsl: JSON.parse(active.dsl_definition) as Dsl,
          schedule: null,
          source_type: 'MANUAL',
          change_log: `Cloned from ${source.name} v${active.version}`,
          // Seed 002: a clone starts paused, so a copy never runs beside its original before someone means it to.
          status: 'paused',
        },
        actor,
        { workflow_id: source.id, version: active.version },
      );
    });
  }

  pause(input: ParsedInput<'workflows:pause'>, actor: string): Promise<Workflow> {
    return this.core.mutate(async () => {
      const wf = await this.get(input.workflow_id);
      this.checkRevision(wf, input.expected_revision);
      if (wf.status === 'paused') throw new RewindError('ALREADY_PAUSED', `"${wf.name}" is already paused.`, 'Nothing to do; unpause it when it should run again.');
      if (wf.status === 'overridden') {
        throw new RewindError('WORKFLOW_OVERRIDDEN', `"${wf.name}" is overridden by its CODE definition and does not run.`, 'Pause the CODE workflow of the same name instead.');
      }
      return this.setStatus(wf, 'paused', 'workflow_paused', actor);
    });
  }

  unpause(input: ParsedInput<'workflows:unpause'>, actor: string): Promise<Workflow> {
    return this.core.mutate(async () => {
      const wf = await this.get(input.workflow_id);
      this.checkRevision(wf, input.expected_revision);
      const code = wf.source_type === 'MANUAL' ? await this.byName(wf.name, 'CODE') : undefined;
      if (wf.status === 'overridden' || code) {
        throw new RewindError(
          'UNPAUSE_OVERRIDDEN',
          `"${wf.name}" is a MANUAL workflow overridden by a CODE workflow of the same name; the CODE definition wins, so unpausing this one would have no effect.`,
          'Change the CODE workflow instead (it is the one that runs), or unregister it to give control back to this MANUAL one.',
          { workflow_id: wf.id, overridden_by: code?.id ?? null },
        );
      }
      if (wf.status !== 'paused') throw new RewindError('NOT_PAUSED', `"${wf.name}" is not paused.`, 'Nothing to do; it already runs.');
      return this.setStatus(wf, 'active', 'workflow_unpaused', actor);
    });
  }

  setSchedule(input: ParsedInput<'workflows:setSchedule'>, actor: string): Promise<Workflow> {
    const schedule = input.schedule === null ? null : validateCron(input.schedule).expression;
    return this.core.mutate(async () => {
      const wf = await this.get(input.workflow_id);
      this.refuseCodeManaged(wf, 'rescheduling it');
      this.checkRevision(wf, input.expected_revision);
      const ts = this.core.now();
      await this.core.q().run(UPDATE_SCHEDULE, [schedule, ts, wf.id]);
      const updated = await this.get(wf.id);
      await this.core.append({
        type: 'workflow_schedule_set',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { schedule, from_schedule: wf.schedule, revision: updated.revision, catchup: input.catchup ?? null, max_concurrent: input.max_concurrent ?? null },
      });
      return updated;
    });
  }

  /**
   * Unregisters a workflow: it leaves every list and lookup, its versions, runs and events stay for
   * the record, and its name is free again. Refused while runs are in flight unless the caller asks to
   * cancel them (`cancelRun` does, in this same unit of work). A CODE workflow's unregister gives
   * control back to the MANUAL workflow it overrode, with the status that one had before (seed 004, 4.1).
   * The code folder removing a file lets runs in flight finish (`letRunsFinish`): the commit was the decision.
   */
  unregister(
    input: ParsedInput<'workflows:unregister'>,
    actor: string,
    cancelRun: (runId: string) => Promise<unknown>,
    options: { letRunsFinish?: boolean } = {},
  ): Promise<UnregisterResult> {
    return this.core.mutate(async () => {
      const wf = await this.get(input.workflow_id);
      this.refuseCodeManaged(wf, 'unregistering it');
      this.checkRevision(wf, input.expected_revision);
      const inFlight = (await this.core.q().all<{ run_id: string }>(SELECT_IN_FLIGHT, [wf.id])).map((r) => r.run_id);
      const cancelled: string[] = [];
      if (inFlight.length > 0 && !options.letRunsFinish) {
        if (!input.cancel_running) {
          throw new RewindError(
            'RUNS_IN_FLIGHT',
            `"${wf.name}" has ${inFlight.length} run${inFlight.length === 1 ? '' : 's'} in flight (${inFlight.slice(0, 5).join(', ')}${inFlight.length > 5 ? ', …' : ''}); unregistering it now would orphan them.`,
            'Wait for them to finish, or unregister with cancel_running: true (`rewind unregister WF --cancel-running`) to cancel them first.',
            { workflow_id: wf.id, run_ids: inFlight },
          );
        }
        for (const runId of inFlight) {
          await cancelRun(runId);
          cancelled.push(runId);
        }
      }
      const ts = this.core.now();
      await this.core.q().run(UNREGISTER, [ts, ts, wf.id]);
      const gone = toWorkflow((await this.core.q().get<WorkflowRow>(this.sql.anyOne, [wf.id]))!);
      const manual = wf.source_type === 'CODE' ? await this.byName(wf.name, 'MANUAL') : undefined;
      await this.core.append({
        type: 'workflow_unregistered',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { name: wf.name, source_type: wf.source_type, status: wf.status, cancelled_runs: cancelled, reactivated: manual?.id ?? null, revision: gone.revision },
      });
      let reactivated: Workflow | null = null;
      if (manual && manual.status === 'overridden') {
        const before = await this.core.q().get<{ payload: string }>(SELECT_LAST_OVERRIDE, [manual.id]);
        const previous = before ? (JSON.parse(before.payload) as { from_status?: unknown }).from_status : undefined;
        const status = previous === 'paused' ? 'paused' : 'active';
        await this.core.q().run(UPDATE_STATUS, [status, ts, manual.id]);
        reactivated = await this.get(manual.id);
        await this.core.append({
          type: 'workflow_reactivated',
          workflow_id: manual.id,
          actor,
          ts,
          payload: { from_status: 'overridden', status, reactivated_by_unregister_of: wf.id, revision: reactivated.revision },
        });
      }
      return { workflow: gone, cancelled_runs: cancelled, reactivated };
    });
  }

  /**
   * Brings one CODE workflow in line with its file (called as the code folder, actor `code:<file>`):
   * registers it, or publishes the file's DSL as a new version when it differs from the newest one,
   * and updates the schedule and description. One unit of work: nothing half-applied.
   */
  syncCode(
    def: CodeDefinition,
    actor: string,
    publish: (wf: Workflow, dsl: Dsl) => Promise<void>,
    newestDsl: (wf: Workflow) => Promise<Dsl | null>,
    stillOnDisk: () => boolean,
  ): Promise<{ workflow: Workflow | null; outcome: CodeSyncOutcome }> {
    return this.asCodeFolder(() =>
      this.core.mutate(async () => {
        // Checked under the chain-head lock that orders every replica's sync: a pass that read the file
        // before it changed must not publish the old content over what another pass published from the new.
        if (!stillOnDisk()) return { workflow: null, outcome: 'stale' as const };
        const row = await this.byName(def.name, 'CODE');
        if (!row) {
          const workflow = await this.insertWorkflow(
            { name: def.name, description: def.description, dsl: def.dsl, schedule: def.schedule, source_type: 'CODE', change_log: `From ${def.file}`, codeFile: def.file },
            actor,
            null,
          );
          return { workflow, outcome: 'created' as const };
        }
        let wf = toWorkflow(row);
        let outcome: CodeSyncOutcome = 'unchanged';
        const newest = await newestDsl(wf);
        if (newest === null || JSON.stringify(newest) !== JSON.stringify(def.dsl)) {
          await publish(wf, def.dsl);
          outcome = 'published';
        }
        if ((wf.schedule ?? null) !== def.schedule) {
          wf = await this.setSchedule({ workflow_id: wf.id, schedule: def.schedule, expected_revision: undefined }, actor);
          if (outcome === 'unchanged') outcome = 'updated';
        }
        wf = await this.get(wf.id);
        if (wf.description !== def.description || wf.code_file !== def.file) {
          const ts = this.core.now();
          await this.core.q().run(UPDATE_DESCRIPTION, [def.description, def.file, ts, wf.id]);
          const updated = await this.get(wf.id);
          await this.core.append({
            type: 'workflow_described',
            workflow_id: wf.id,
            actor,
            ts,
            payload: { description: def.description, code_file: def.file, from_description: wf.description, revision: updated.revision },
          });
          if (outcome === 'unchanged') outcome = 'updated';
        }
        return { workflow: await this.get(wf.id), outcome };
      }),
    );
  }

  /** Bumps the revision and stamps updated_at; used by the version lifecycle too. */
  async touch(id: string, ts: string): Promise<Workflow> {
    await this.core.q().run(BUMP_REVISION, [ts, id]);
    return this.get(id);
  }

  private byName(name: string, sourceType: 'MANUAL' | 'CODE'): Promise<WorkflowRow | undefined> {
    return this.core.q().get<WorkflowRow>(this.sql.byName, [name, sourceType]);
  }

  private async setStatus(wf: Workflow, status: Workflow['status'], type: string, actor: string): Promise<Workflow> {
    const ts = this.core.now();
    await this.core.q().run(UPDATE_STATUS, [status, ts, wf.id]);
    const updated = await this.get(wf.id);
    await this.core.append({ type, workflow_id: wf.id, actor, ts, payload: { from_status: wf.status, status, revision: updated.revision } });
    return updated;
  }

  private async freeName(base: string): Promise<string> {
    let name = base;
    for (let n = 2; await this.byName(name, 'MANUAL'); n += 1) name = `${base} ${n}`;
    return name;
  }

  private async insertWorkflow(
    input: {
      name: string;
      description: string;
      dsl: Dsl | undefined;
      schedule: string | null;
      source_type: 'MANUAL' | 'CODE';
      change_log?: string | undefined;
      status?: 'paused';
      codeFile?: string;
      template?: { name: string; version: number } | null;
    },
    actor: string,
    clonedFrom: { workflow_id: string; version: number } | null,
  ): Promise<Workflow> {
    if (await this.byName(input.name, input.source_type)) {
      throw new RewindError('DUPLICATE_NAME', `A ${input.source_type} workflow named "${input.name}" already exists.`, 'Choose another name, or open the existing workflow.', {
        name: input.name,
      });
    }
    const ts = this.core.now();
    const manual = input.source_type === 'CODE' ? await this.byName(input.name, 'MANUAL') : undefined;
    const row = {
      id: randomUUID(),
      name: input.name,
      description: input.description,
      source_type: input.source_type,
      status: input.source_type === 'MANUAL' && (await this.byName(input.name, 'CODE')) ? 'overridden' : (input.status ?? 'active'),
      schedule: input.schedule,
      active_version: input.dsl ? 1 : null,
      revision: 1,
      created_at: ts,
      updated_at: ts,
      unregistered_at: null,
      code_file: input.codeFile ?? null,
      template_name: input.template?.name ?? null,
      template_version: input.template?.version ?? null,
    } as const;
    const q = this.core.q();
    await q.run(INSERT_WORKFLOW, [
      row.id,
      row.name,
      row.description,
      row.source_type,
      row.status,
      row.schedule,
      row.active_version,
      row.revision,
      row.created_at,
      row.updated_at,
      row.code_file,
      row.template_name,
      row.template_version,
    ]);
    const version = input.dsl
      ? {
          version_id: randomUUID(),
          workflow_id: row.id,
          version: 1,
          dsl_definition: JSON.stringify(input.dsl),
          change_log: input.change_log ?? 'Initial version',
          status: 'active' as const,
          created_by: actor,
          published_at: ts,
          created_at: ts,
        }
      : null;
    if (version) {
      await q.run(INSERT_VERSION, [
        version.version_id,
        version.workflow_id,
        version.version,
        version.dsl_definition,
        version.change_log,
        version.status,
        version.created_by,
        version.published_at,
        version.created_at,
      ]);
    }
    const { active_version: _a, revision: _r, ...workflowFields } = row;
    await this.core.append({
      type: 'workflow_created',
      workflow_id: row.id,
      actor,
      ts,
      payload: {
        workflow: workflowFields,
        version: version ? { ...version, dsl_definition: input.dsl } : null,
        cloned_from: clonedFrom,
        revision: 1,
      },
    });
    if (manual && manual.status !== 'overridden') {
      await q.run(UPDATE_STATUS, ['overridden', ts, manual.id]);
      const overridden = await this.get(manual.id);
      await this.core.append({
        type: 'workflow_overridden',
        workflow_id: manual.id,
        actor,
        ts,
        payload: { from_status: manual.status, status: 'overridden', overridden_by: row.id, revision: overridden.revision },
      });
    }
    return this.get(row.id);
  }
}
