import { randomUUID } from 'node:crypto';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { Dsl, RollbackResult, VersionDiff, Workflow, WorkflowVersion } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { diffDsl } from './dsl/diff.js';
import { validateDsl } from './dsl/graph.js';
import { RewindError } from './errors.js';
import { type VersionRow, toVersion } from './rows.js';
import type { WorkflowService } from './workflows.js';

const SELECT_ONE = 'SELECT * FROM workflow_versions WHERE workflow_id = ? AND version = ?';
const SELECT_PAGE = 'SELECT * FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC LIMIT ? OFFSET ?';
const COUNT = 'SELECT COUNT(*) AS n FROM workflow_versions WHERE workflow_id = ?';
const SELECT_ACTIVE = "SELECT * FROM workflow_versions WHERE workflow_id = ? AND status = 'active'";
const SELECT_MAX = 'SELECT MAX(version) AS v FROM workflow_versions WHERE workflow_id = ?';
const INSERT_DRAFT = `INSERT INTO workflow_versions (version_id, workflow_id, version, dsl_definition, change_log, status, created_by, published_at, created_at)
  VALUES (?, ?, ?, ?, ?, 'draft', ?, NULL, ?)`;
const SET_STATUS = 'UPDATE workflow_versions SET status = ? WHERE workflow_id = ? AND version = ?';
const PUBLISH_ROW = "UPDATE workflow_versions SET status = 'active', published_at = ? WHERE workflow_id = ? AND version = ?";
const SET_ACTIVE = 'UPDATE workflows SET active_version = ?, revision = revision + 1, updated_at = ? WHERE id = ? RETURNING revision';

/** What the canary policy adds to the lifecycle (set by the engine; see canary.ts). */
export interface VersionHooks {
  /** Before the active version changes by a publish or rollback: a running canary ends (superseded). */
  beforeSwitch(wf: Workflow, to: number, type: 'version_published' | 'workflow_rollback', ts: string, actor: string): Promise<void>;
  /** Refuses archiving a version a running canary serves. */
  refuseArchive(wf: Workflow, version: number): Promise<void>;
}

/**
 * The version lifecycle: draft → active → deprecated ⇄ active (rollback), any non-active → archived.
 * Publish and rollback are one transaction each (invariant 2): the old active becomes deprecated,
 * the target active, the workflow's revision bumps and the event is appended — all or nothing.
 */
export class VersionService {
  hooks: VersionHooks | null = null;

  constructor(
    private readonly core: EngineCore,
    private readonly workflows: WorkflowService,
  ) {}

  async list(input: ParsedInput<'versions:list'>): Promise<{ versions: WorkflowVersion[]; total: number }> {
    await this.workflows.get(input.workflow_id);
    const rows = await this.core.q().all<VersionRow>(SELECT_PAGE, [input.workflow_id, input.limit, input.offset]);
    const { n } = (await this.core.q().get<{ n: number }>(COUNT, [input.workflow_id]))!;
    return { versions: rows.map(toVersion), total: n };
  }

  async get(workflowId: string, version: number): Promise<WorkflowVersion> {
    const wf = await this.workflows.find(workflowId);
    const row = await this.core.q().get<VersionRow>(SELECT_ONE, [workflowId, version]);
    if (!row) {
      throw new RewindError('VERSION_NOT_FOUND', `"${wf.name}" has no version ${version}.`, 'List its versions to see which exist.', {
        workflow_id: workflowId,
        version,
      });
    }
    return toVersion(row);
  }

  async active(workflowId: string): Promise<WorkflowVersion | null> {
    const row = await this.core.q().get<VersionRow>(SELECT_ACTIVE, [workflowId]);
    return row ? toVersion(row) : null;
  }

  createDraft(input: ParsedInput<'versions:createDraft'>, actor: string): Promise<WorkflowVersion> {
    const given = input.dsl === undefined ? undefined : validateDsl(input.dsl);
    return this.core.mutate(async () => {
      const wf = await this.workflows.get(input.workflow_id);
      this.workflows.refuseCodeManaged(wf, 'drafting a new version');
      this.workflows.checkRevision(wf, input.expected_revision);
      let dsl: Dsl;
      let changeLog = input.change_log;
      if (given) {
        dsl = given;
      } else {
        const active = await this.active(wf.id);
        if (!active) {
          throw new RewindError('NO_ACTIVE_VERSION', `"${wf.name}" has no active version to snapshot.`, 'Create the draft with a DSL of its own.', {
            workflow_id: wf.id,
          });
        }
        dsl = active.dsl_definition;
        if (changeLog === '') changeLog = `Snapshot of v${active.version}`;
      }
      const ts = this.core.now();
      const next = ((await this.core.q().get<{ v: number | null }>(SELECT_MAX, [wf.id]))?.v ?? 0) + 1;
      const row = {
        version_id: randomUUID(),
        workflow_id: wf.id,
        version: next,
        dsl_definition: JSON.stringify(dsl),
        change_log: changeLog,
        created_by: actor,
        created_at: ts,
      };
      await this.core.q().run(INSERT_DRAFT, [row.version_id, row.workflow_id, row.version, row.dsl_definition, row.change_log, row.created_by, row.created_at]);
      const updated = await this.workflows.touch(wf.id, ts);
      await this.core.append({
        type: 'version_created',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { version: next, version_id: row.version_id, dsl_definition: dsl, change_log: changeLog, created_by: actor, revision: updated.revision },
      });
      return this.get(wf.id, next);
    });
  }

  publish(input: ParsedInput<'versions:publish'>, actor: string): Promise<RollbackResult> {
    return this.core.mutate(async () => {
      const wf = await this.workflows.get(input.workflow_id);
      this.workflows.refuseCodeManaged(wf, 'publishing a version');
      this.workflows.checkRevision(wf, input.expected_revision);
      const target = await this.draftToPublish(wf, input.version);
      const ts = this.core.now();
      await this.hooks?.beforeSwitch(wf, target.version, 'version_published', ts, actor);
      return this.activate(wf, wf.active_version, target.version, ts, actor, 'version_published');
    });
  }

  /** A draft as publish would take it, or why not (VERSION_NOT_DRAFT): also what a canary publish checks. */
  async draftToPublish(wf: Workflow, version: number): Promise<WorkflowVersion> {
    const target = await this.get(wf.id, version);
    if (target.status !== 'draft') {
      const hint =
        target.status === 'active'
          ? 'It is already the active version; nothing to do.'
          : target.status === 'deprecated'
            ? `It was published before; roll back to v${target.version} to make it active again.`
            : 'Archived versions stay as they are; create a new draft from its DSL and publish that.';
      throw new RewindError('VERSION_NOT_DRAFT', `v${target.version} of "${wf.name}" is ${target.status}; only a draft can be published.`, hint, {
        workflow_id: wf.id,
        version: target.version,
        status: target.status,
      });
    }
    return target;
  }

  /** `checkTarget` sees the version rolled back to, read under the unit's lock, before anything changes (a server's command policy). */
  rollback(input: ParsedInput<'versions:rollback'>, actor: string, checkTarget?: (target: WorkflowVersion) => void): Promise<RollbackResult> {
    return this.core.mutate(async () => {
      const wf = await this.workflows.get(input.workflow_id);
      this.workflows.checkRevision(wf, input.expected_revision);
      const target = await this.refuseRollback(wf, input.version);
      checkTarget?.(toVersion(target));
      const ts = this.core.now();
      await this.hooks?.beforeSwitch(wf, input.version, 'workflow_rollback', ts, actor);
      return this.activate(wf, wf.active_version, input.version, ts, actor, 'workflow_rollback');
    });
  }

  /** Why a rollback to `version` would be refused now; the version's row if it would apply. */
  async refuseRollback(wf: Workflow, version: number): Promise<VersionRow> {
    const row = await this.core.q().get<VersionRow>(SELECT_ONE, [wf.id, version]);
    const details = { workflow_id: wf.id, version };
    if (!row) {
      throw new RewindError('ROLLBACK_VERSION_MISSING', `"${wf.name}" has no version ${version} to roll back to.`, 'Pick one of the versions on its timeline.', details);
    }
    switch (row.status) {
      case 'draft':
        throw new RewindError(
          'ROLLBACK_VERSION_DRAFT',
          `v${version} of "${wf.name}" is a draft that was never published, so there is nothing to roll back to.`,
          'Publish it instead if it is ready, or roll back to a version that ran before.',
          details,
        );
      case 'archived':
        throw new RewindError(
          'ROLLBACK_VERSION_ARCHIVED',
          `v${version} of "${wf.name}" is archived.`,
          'Archived versions are kept for the record only: create a new draft from its DSL and publish it, or roll back to another version.',
          details,
        );
      case 'active':
        throw new RewindError('ROLLBACK_ALREADY_ACTIVE', `v${version} is already the active version of "${wf.name}".`, 'Nothing to do; pick an earlier version to roll back.', details);
      case 'deprecated':
        return row;
    }
  }

  archive(input: ParsedInput<'versions:archive'>, actor: string): Promise<WorkflowVersion> {
    return this.core.mutate(async () => {
      const wf = await this.workflows.get(input.workflow_id);
      this.workflows.refuseCodeManaged(wf, 'archiving a version');
      this.workflows.checkRevision(wf, input.expected_revision);
      const target = await this.get(wf.id, input.version);
      if (target.status === 'active') {
        throw new RewindError('ARCHIVE_ACTIVE_VERSION', `v${target.version} is the active version of "${wf.name}" and cannot be archived.`, 'Roll back or publish another version first.', {
          workflow_id: wf.id,
          version: target.version,
        });
      }
      if (target.status === 'archived') return target;
      await this.hooks?.refuseArchive(wf, target.version);
      const ts = this.core.now();
      await this.core.q().run(SET_STATUS, ['archived', wf.id, target.version]);
      const updated = await this.workflows.touch(wf.id, ts);
      await this.core.append({
        type: 'version_archived',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { version: target.version, from_status: target.status, revision: updated.revision },
      });
      return this.get(wf.id, target.version);
    });
  }

  async diff(input: ParsedInput<'versions:diff'>): Promise<VersionDiff> {
    const from = await this.get(input.workflow_id, input.from);
    const to = await this.get(input.workflow_id, input.to);
    return { workflow_id: input.workflow_id, from, to, diff: diffDsl(from.dsl_definition, to.dsl_definition) };
  }

  /**
   * The one switch of a workflow's active version, inside the caller's mutation: `from` becomes
   * deprecated, `to` active (published now, for a publish), the revision bumps, the event is appended.
   * A person's rollback, a publish, and a canary's promote or automatic rollback all come through here;
   * `from` is the active version, or the canary's version when a canary is rolled back.
   */
  async activate(wf: Workflow, from: number | null, version: number, ts: string, actor: string, type: 'version_published' | 'workflow_rollback'): Promise<RollbackResult> {
    const q = this.core.q();
    if (from !== null) await q.run(SET_STATUS, ['deprecated', wf.id, from]);
    if (type === 'version_published') await q.run(PUBLISH_ROW, [ts, wf.id, version]);
    else await q.run(SET_STATUS, ['active', wf.id, version]);
    const { revision } = (await q.get<{ revision: number }>(SET_ACTIVE, [version, ts, wf.id]))!;
    const verb = type === 'workflow_rollback' ? 'Rolled back' : 'Published';
    const event = await this.core.append({
      type,
      workflow_id: wf.id,
      actor,
      ts,
      payload: { from_version: from, to_version: version, revision },
    });
    return {
      success: true,
      message: `${verb} "${wf.name}" to v${version}${from === null ? '' : ` (was v${from})`}.`,
      workflow_id: wf.id,
      version,
      from_version: from,
      seq: event.seq,
      revision,
    };
  }
}
