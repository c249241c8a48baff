import { randomUUID } from 'node:crypto';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { Dsl, Workflow } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { validateCron } from './cron.js';
import { validateDsl } from './dsl/graph.js';
import { RewindError } from './errors.js';
import { type VersionRow, type WorkflowRow, failedRunsSql, toWorkflow } from './rows.js';

const INSERT_WORKFLOW = `INSERT INTO workflows (id, name, description, source_type, status, schedule, active_version, revision, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_VERSION = `INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, change_log, status, created_by, published_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const UPDATE_STATUS = 'UPDATE workflows SET status = ?, revision = revision + 1, updated_at = ? WHERE id = ?';
const UPDATE_SCHEDULE = 'UPDATE workflows SET schedule = ?, revision = revision + 1, updated_at = ? WHERE id = ?';
const SELECT_ACTIVE_VERSION = "SELECT * FROM workflow_versions WHERE workflow_id = ? AND status = 'active'";
const BUMP_REVISION = 'UPDATE workflows SET revision = revision + 1, updated_at = ? WHERE id = ?';

/** Workflows: create, clone, pause and unpause under seed 004's MANUAL/CODE override rules, schedules. */
export class WorkflowService {
  private readonly sql: { one: string; all: string; search: string; byName: string };

  constructor(private readonly core: EngineCore) {
    const { dialect } = core.store;
    const columns = `w.*, ${failedRunsSql(dialect)} AS failed_runs`;
    const order = `ORDER BY ${dialect.nocase('w.name')}, w.source_type`;
    this.sql = {
      one: `SELECT ${columns} FROM workflows w WHERE w.id = ?`,
      all: `SELECT ${columns} FROM workflows w ${order}`,
      search: `SELECT ${columns} FROM workflows w WHERE ${dialect.ilike('w.name')} OR ${dialect.ilike('w.description')} ${order}`,
      byName: `SELECT ${columns} FROM workflows w WHERE w.name = ? AND w.source_type = ?`,
    };
  }

  async get(id: string): Promise<Workflow> {
    const row = await this.core.q().get<WorkflowRow>(this.sql.one, [id]);
    if (!row) {
      throw new RewindError('WORKFLOW_NOT_FOUND', `No workflow has the id "${id}".`, 'List the workflows to find its id; it may have been created on another connection.', {
        workflow_id: id,
      });
    }
    return toWorkflow(row);
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

  create(input: ParsedInput<'workflows:create'>, actor: string): Promise<Workflow> {
    const dsl = input.dsl === undefined ? undefined : validateDsl(input.dsl);
    const schedule = input.schedule ? validateCron(input.schedule).expression : null;
    return this.core.mutate(() => this.insertWorkflow({ ...input, dsl, schedule }, actor, null));
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
    input: { name: string; description: string; dsl: Dsl | undefined; schedule: string | null; source_type: 'MANUAL' | 'CODE'; change_log?: string | undefined },
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
      status: input.source_type === 'MANUAL' && (await this.byName(input.name, 'CODE')) ? 'overridden' : 'active',
      schedule: input.schedule,
      active_version: input.dsl ? 1 : null,
      revision: 1,
      created_at: ts,
      updated_at: ts,
    } as const;
    const q = this.core.q();
    await q.run(INSERT_WORKFLOW, [row.id, row.name, row.description, row.source_type, row.status, row.schedule, row.active_version, row.revision, row.created_at, row.updated_at]);
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
