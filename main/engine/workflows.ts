import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { Dsl, Workflow } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { validateCron } from './cron.js';
import { validateDsl } from './dsl/graph.js';
import { RewindError } from './errors.js';
import { FAILED_RUNS_SQL, type VersionRow, type WorkflowRow, toWorkflow } from './rows.js';

/** Workflows: create, clone, pause and unpause under seed 004's MANUAL/CODE override rules, schedules. */
export class WorkflowService {
  private readonly selectOne: Database.Statement;
  private readonly selectAll: Database.Statement;
  private readonly selectSearch: Database.Statement;
  private readonly selectByName: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly insertVersion: Database.Statement;
  private readonly updateStatus: Database.Statement;
  private readonly updateSchedule: Database.Statement;
  private readonly selectActiveVersion: Database.Statement;
  private readonly bumpRevision: Database.Statement;

  constructor(private readonly core: EngineCore) {
    const db = core.db;
    const columns = `w.*, ${FAILED_RUNS_SQL} AS failed_runs`;
    this.selectOne = db.prepare(`SELECT ${columns} FROM workflows w WHERE w.id = ?`);
    this.selectAll = db.prepare(`SELECT ${columns} FROM workflows w ORDER BY w.name COLLATE NOCASE, w.source_type`);
    this.selectSearch = db.prepare(
      `SELECT ${columns} FROM workflows w WHERE w.name LIKE ? ESCAPE '\\' OR w.description LIKE ? ESCAPE '\\' ORDER BY w.name COLLATE NOCASE, w.source_type`,
    );
    this.selectByName = db.prepare(`SELECT ${columns} FROM workflows w WHERE w.name = ? AND w.source_type = ?`);
    this.insert = db.prepare(
      `INSERT INTO workflows (id, name, description, source_type, status, schedule, active_version, revision, created_at, updated_at)
       VALUES (@id, @name, @description, @source_type, @status, @schedule, @active_version, @revision, @created_at, @updated_at)`,
    );
    this.insertVersion = db.prepare(
      `INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, change_log, status, created_by, published_at, created_at)
       VALUES (@version_id, @workflow_id, @version, @dsl_definition, @change_log, @status, @created_by, @published_at, @created_at)`,
    );
    this.updateStatus = db.prepare('UPDATE workflows SET status = ?, revision = revision + 1, updated_at = ? WHERE id = ?');
    this.updateSchedule = db.prepare('UPDATE workflows SET schedule = ?, revision = revision + 1, updated_at = ? WHERE id = ?');
    this.selectActiveVersion = db.prepare("SELECT * FROM workflow_versions WHERE workflow_id = ? AND status = 'active'");
    this.bumpRevision = db.prepare('UPDATE workflows SET revision = revision + 1, updated_at = ? WHERE id = ?');
  }

  get(id: string): Workflow {
    const row = this.selectOne.get(id) as WorkflowRow | undefined;
    if (!row) {
      throw new RewindError('WORKFLOW_NOT_FOUND', `No workflow has the id "${id}".`, 'List the workflows to find its id; it may have been created on another connection.', {
        workflow_id: id,
      });
    }
    return toWorkflow(row);
  }

  list(query?: string): Workflow[] {
    if (!query) return (this.selectAll.all() as WorkflowRow[]).map(toWorkflow);
    const like = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return (this.selectSearch.all(like, like) as WorkflowRow[]).map(toWorkflow);
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

  create(input: ParsedInput<'workflows:create'>, actor: string): Workflow {
    const dsl = input.dsl === undefined ? undefined : validateDsl(input.dsl);
    const schedule = input.schedule ? validateCron(input.schedule).expression : null;
    return this.core.mutate(() => this.insertWorkflow({ ...input, dsl, schedule }, actor, null));
  }

  clone(input: ParsedInput<'workflows:clone'>, actor: string): Workflow {
    return this.core.mutate(() => {
      const source = this.get(input.workflow_id);
      const active = this.selectActiveVersion.get(source.id) as VersionRow | undefined;
      if (!active) {
        throw new RewindError('NO_ACTIVE_VERSION', `"${source.name}" has no published version to clone.`, 'Publish a version first, then clone.', {
          workflow_id: source.id,
        });
      }
      const name = input.name ?? this.freeName(`${source.name} (copy)`);
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

  pause(input: ParsedInput<'workflows:pause'>, actor: string): Workflow {
    return this.core.mutate(() => {
      const wf = this.get(input.workflow_id);
      this.checkRevision(wf, input.expected_revision);
      if (wf.status === 'paused') throw new RewindError('ALREADY_PAUSED', `"${wf.name}" is already paused.`, 'Nothing to do; unpause it when it should run again.');
      if (wf.status === 'overridden') {
        throw new RewindError('WORKFLOW_OVERRIDDEN', `"${wf.name}" is overridden by its CODE definition and does not run.`, 'Pause the CODE workflow of the same name instead.');
      }
      return this.setStatus(wf, 'paused', 'workflow_paused', actor);
    });
  }

  unpause(input: ParsedInput<'workflows:unpause'>, actor: string): Workflow {
    return this.core.mutate(() => {
      const wf = this.get(input.workflow_id);
      this.checkRevision(wf, input.expected_revision);
      const code = wf.source_type === 'MANUAL' ? (this.selectByName.get(wf.name, 'CODE') as WorkflowRow | undefined) : undefined;
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

  setSchedule(input: ParsedInput<'workflows:setSchedule'>, actor: string): Workflow {
    const schedule = input.schedule === null ? null : validateCron(input.schedule).expression;
    return this.core.mutate(() => {
      const wf = this.get(input.workflow_id);
      this.checkRevision(wf, input.expected_revision);
      const ts = this.core.now();
      this.updateSchedule.run(schedule, ts, wf.id);
      const updated = this.get(wf.id);
      this.core.append({
        type: 'workflow_schedule_set',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { schedule, from_schedule: wf.schedule, revision: updated.revision },
      });
      return updated;
    });
  }

  /** Bumps the revision and stamps updated_at; used by the version lifecycle too. */
  touch(id: string, ts: string): Workflow {
    this.bumpRevision.run(ts, id);
    return this.get(id);
  }

  private setStatus(wf: Workflow, status: Workflow['status'], type: string, actor: string): Workflow {
    const ts = this.core.now();
    this.updateStatus.run(status, ts, wf.id);
    const updated = this.get(wf.id);
    this.core.append({ type, workflow_id: wf.id, actor, ts, payload: { from_status: wf.status, status, revision: updated.revision } });
    return updated;
  }

  private freeName(base: string): string {
    let name = base;
    for (let n = 2; this.selectByName.get(name, 'MANUAL'); n += 1) name = `${base} ${n}`;
    return name;
  }

  private insertWorkflow(
    input: { name: string; description: string; dsl: Dsl | undefined; schedule: string | null; source_type: 'MANUAL' | 'CODE'; change_log?: string | undefined },
    actor: string,
    clonedFrom: { workflow_id: string; version: number } | null,
  ): Workflow {
    if (this.selectByName.get(input.name, input.source_type)) {
      throw new RewindError('DUPLICATE_NAME', `A ${input.source_type} workflow named "${input.name}" already exists.`, 'Choose another name, or open the existing workflow.', {
        name: input.name,
      });
    }
    const ts = this.core.now();
    const manual = input.source_type === 'CODE' ? (this.selectByName.get(input.name, 'MANUAL') as WorkflowRow | undefined) : undefined;
    const row = {
      id: randomUUID(),
      name: input.name,
      description: input.description,
      source_type: input.source_type,
      status: input.source_type === 'MANUAL' && this.selectByName.get(input.name, 'CODE') ? 'overridden' : 'active',
      schedule: input.schedule,
      active_version: input.dsl ? 1 : null,
      revision: 1,
      created_at: ts,
      updated_at: ts,
    } as const;
    this.insert.run(row);
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
    if (version) this.insertVersion.run(version);
    const { active_version: _a, revision: _r, ...workflowFields } = row;
    this.core.append({
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
      this.updateStatus.run('overridden', ts, manual.id);
      const overridden = this.get(manual.id);
      this.core.append({
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
