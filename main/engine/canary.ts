import { randomUUID } from 'node:crypto';
import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { Canary, CanarySpec, CanaryState, VersionMetrics, WorkflowHealth } from '../../preload/contract/canary.js';
import type { Dsl, RollbackResult, Workflow } from '../../preload/contract/entities.js';
import type { EngineCore } from './core.js';
import { RewindError } from './errors.js';
import { nodeRandom } from './executor/rng.js';
import { lifetimeFigures, windowFigures } from './run-figures.js';
import type { VersionService } from './versions.js';
import type { WorkflowService } from './workflows.js';

/** The actor of what the policy does by itself: its automatic rollback and promote. */
export const CANARY_POLICY_ACTOR = 'policy:canary';

/** Enough of a canary's runs ended unbroken to end its window: promoted (auto), or healthy until an operator promotes it. */
export function windowReached(policy: Pick<CanarySpec, 'min_runs' | 'window_runs'>, runs: number): boolean {
  return runs >= Math.max(policy.min_runs, policy.window_runs ?? policy.min_runs);
}

/** Why a manual-promote canary is `healthy`. */
export const healthyReason = (runs: number) => `healthy after ${runs} runs; waiting for an operator to promote`;

interface CanaryRow {
  canary_id: string;
  workflow_id: string;
  version: number;
  stable_version: number;
  percent: number;
  policy: string;
  state: CanaryState;
  reason: string | null;
  started_at: string;
  started_by: string;
  ended_at: string | null;
}

/** A broken threshold: its policy field, its limit and what the canary's runs showed. */
interface Breach {
  threshold: 'max_failure_rate' | 'max_p95_ms' | 'verdict';
  limit: number;
  observed: number;
  reason: string;
}

const OPEN = "state IN ('running', 'healthy')";
const SELECT_OPEN = `SELECT * FROM canaries WHERE workflow_id = ? AND ${OPEN}`;
const SELECT_ALL_OPEN = `SELECT * FROM canaries WHERE ${OPEN}`;
const INSERT = `INSERT INTO canaries (canary_id, workflow_id, version, stable_version, percent, policy, state, reason, started_at, started_by, ended_at)
  VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?, NULL)`;
const SET_STATE = 'UPDATE canaries SET state = ?, reason = ?, ended_at = ? WHERE canary_id = ?';
const SELECT_COUNTED_VERSIONS = 'SELECT version FROM run_version_stats WHERE workflow_id = ?';
const BUMP = 'UPDATE workflows SET revision = revision + 1, updated_at = ? WHERE id = ?';

/**
 * Canary publishes and their policy (DESIGN "Canary and automatic rollback"). A canary keeps the stable
 * version active while a share of new runs draws the candidate; every run end of the candidate is
 * judged inside that run-end's own mutation — after the chain-head lock, so ends that race are judged
 * one after the other, each re-reading the canary: the first breach rolls back, the rest find no
 * canary. The rollback and the promote go through `VersionService.activate`, as a person's do.
 */
export class CanaryService {
  constructor(
    private readonly core: EngineCore,
    private readonly workflows: WorkflowService,
    private readonly versions: VersionService,
    /** In [0, 1): the draw of each new run; injected so tests and demos draw what they mean to. */
    private readonly random: () => number,
  ) {}

  /** Starts a canary of a draft (the publish route with `canary`): the stable version stays active. */
  start(input: ParsedInput<'versions:publish'> & { canary: CanarySpec }, actor: string): Promise<RollbackResult> {
    return this.core.mutate(async () => {
      const wf = await this.workflows.get(input.workflow_id);
      this.workflows.checkRevision(wf, input.expected_revision);
      const open = await this.openRow(wf.id);
      if (open) {
        throw new RewindError('CANARY_RUNNING', `"${wf.name}" already runs a canary of v${open.version} (${open.percent} % of new runs).`, `Promote or abort it first (rewind canary promote|abort ${wf.id}).`, {
          workflow_id: wf.id,
          version: open.version,
        });
      }
      const target = await this.versions.draftToPublish(wf, input.version);
      if (wf.active_version === null) {
        throw new RewindError('NO_ACTIVE_VERSION', `"${wf.name}" has no active version for the other runs to keep.`, 'Publish this version outright; a canary needs a stable version beside it.', {
          workflow_id: wf.id,
        });
      }
      const ts = this.core.now();
      const spec = input.canary;
      await this.core.q().run(INSERT, [randomUUID(), wf.id, target.version, wf.active_version, spec.percent, JSON.stringify(spec), ts, actor]);
      await this.core.q().run(BUMP, [ts, wf.id]);
      const updated = await this.workflows.get(wf.id);
      const event = await this.core.append({
        type: 'canary_started',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { version: target.version, stable_version: wf.active_version, percent: spec.percent, policy: spec, revision: updated.revision },
      });
      return {
        success: true,
        message: `Started a canary of v${target.version} for ${spec.percent} % of new runs of "${wf.name}"; v${wf.active_version} stays active.`,
        workflow_id: wf.id,
        version: target.version,
        from_version: wf.active_version,
        seq: event.seq,
        revision: updated.revision,
      };
    });
  }

  /**
   * The version a new run without an explicit one gets, and why (drawn from its seed when it has one). Inside the start's mutation, after
   * the head lock: a run never draws a canary that an earlier committed run end has rolled back.
   */
  async draw(wf: Pick<Workflow, 'id' | 'active_version'>, seed?: number): Promise<{ version: number | null; reason: string }> {
    const open = await this.openRow(wf.id);
    if (!open) return { version: wf.active_version, reason: 'active version' };
    // A seeded run draws from its seed, so running it again with that seed draws the same version.
    const draw = seed === undefined ? this.random() : nodeRandom(seed, 'canary-draw')();
    return draw * 100 < open.percent
      ? { version: open.version, reason: `canary v${open.version} (${open.percent} % share, drew ${draw.toFixed(3)})` }
      : { version: wf.active_version, reason: `stable v${wf.active_version ?? '?'} (canary v${open.version} at ${open.percent} %, drew ${draw.toFixed(3)})` };
  }

  /** Judges the canary after one of its runs ended, in that run end's mutation (see the class comment). */
  async judge(workflowId: string, version: number, ts: string): Promise<void> {
    const open = await this.openRow(workflowId);
    if (!open || open.version !== version) return;
    const policy = JSON.parse(open.policy) as CanarySpec;
    const m = await this.canaryFigures(open);
    if (m.runs < policy.min_runs) return;
    const breach = firstBreach(policy, m);
    if (breach) {
      await this.end(open, 'aborted', breach, CANARY_POLICY_ACTOR, ts);
      return;
    }
    if (open.state === 'running' && windowReached(policy, m.runs)) {
      if (policy.promote === 'auto') await this.end(open, 'promoted', null, CANARY_POLICY_ACTOR, ts);
      else await this.core.q().run(SET_STATE, ['healthy', healthyReason(m.runs), null, open.canary_id]);
    }
  }

  promote(input: ParsedInput<'canary:promote'>, actor: string): Promise<RollbackResult> {
    return this.core.mutate(async () => {
      const open = await this.requireOpen(input.workflow_id, input.expected_revision);
      return this.end(open, 'promoted', null, actor, this.core.now());
    });
  }

  abort(input: ParsedInput<'canary:abort'>, actor: string): Promise<RollbackResult> {
    return this.core.mutate(async () => {
      const open = await this.requireOpen(input.workflow_id, input.expected_revision);
      const reason = `aborted by ${actor}${input.reason ? `: ${input.reason}` : ''}`;
      return this.end(open, 'aborted', { reason }, actor, this.core.now());
    });
  }

  /** A publish or rollback by hand while a canary runs ends it first: whatever becomes active is what runs draw. */
  async supersede(wf: Workflow, to: number, type: 'version_published' | 'workflow_rollback', ts: string, actor: string): Promise<void> {
    const open = await this.openRow(wf.id);
    if (!open) return;
    const promoted = type === 'version_published' && to === open.version;
    const reason = `superseded: ${type === 'version_published' ? 'publish' : 'rollback'} of v${to} by ${actor}`;
    await this.core.q().run(SET_STATE, [promoted ? 'promoted' : 'aborted', reason, ts, open.canary_id]);
    if (!promoted) await this.core.q().run("UPDATE workflow_versions SET status = 'deprecated' WHERE workflow_id = ? AND version = ? AND status = 'draft'", [wf.id, open.version]);
    await this.appendEnd(open, promoted ? 'canary_promoted' : 'canary_aborted', { reason }, actor, ts);
  }

  async refuseArchive(wf: Workflow, version: number): Promise<void> {
    const open = await this.openRow(wf.id);
    if (open?.version === version) {
      throw new RewindError('CANARY_RUNNING', `v${version} of "${wf.name}" is the running canary.`, 'Abort the canary first, then archive it.', { workflow_id: wf.id, version });
    }
  }

  /** The workflow's running canary with its figures, or null. */
  async current(workflowId: string): Promise<Canary | null> {
    const row = await this.openRow(workflowId);
    return row ? this.toCanary(row) : null;
  }

  /** Every running canary by workflow id: the workflow list shows them in one query plus one per canary. */
  async allCurrent(): Promise<Map<string, Canary>> {
    const rows = await this.core.q().all<CanaryRow>(SELECT_ALL_OPEN);
    const out = new Map<string, Canary>();
    for (const row of rows) out.set(row.workflow_id, await this.toCanary(row));
    return out;
  }

  /**
   * Health per version over finished runs, newest version first: over each version's whole life from
   * the run counters (the same cost at any number of runs), or over those finished since `since` in
   * SQL over that window's index range.
   */
  async health(input: ParsedInput<'workflows:health'>): Promise<WorkflowHealth> {
    await this.workflows.get(input.workflow_id);
    const q = this.core.q();
    if (input.since === undefined) return { workflow_id: input.workflow_id, since: null, versions: await lifetimeFigures(q, input.workflow_id) };
    const since = new Date(input.since).toISOString();
    const versions = (await q.all<{ version: number }>(SELECT_COUNTED_VERSIONS, [input.workflow_id])).map((r) => Number(r.version));
    return { workflow_id: input.workflow_id, since, versions: await windowFigures(q, this.core.store.dialect, { workflowId: input.workflow_id, versions, finishedSince: since }) };
  }

  /** A canary's figures: its version's judged runs created since it started (not the draft's trial runs before). */
  private async canaryFigures(open: CanaryRow): Promise<VersionMetrics> {
    const [m] = await windowFigures(this.core.q(), this.core.store.dialect, { workflowId: open.workflow_id, versions: [open.version], createdSince: open.started_at });
    return m ?? { version: open.version, runs: 0, succeeded: 0, failed: 0, failure_rate: 0, p50_ms: null, p95_ms: null, verdicts: {} };
  }

  private async requireOpen(workflowId: string, expectedRevision: number | undefined): Promise<CanaryRow> {
    const wf = await this.workflows.get(workflowId);
    this.workflows.checkRevision(wf, expectedRevision);
    const open = await this.openRow(wf.id);
    if (!open) {
      throw new RewindError('NO_CANARY', `"${wf.name}" runs no canary.`, 'Publish a draft with a canary policy to start one; the timeline shows how earlier canaries ended.', {
        workflow_id: wf.id,
      });
    }
    return open;
  }

  /**
   * Ends a canary inside the caller's mutation: promoted, the candidate becomes active as a publish
   * would make it; aborted, the workflow rolls back from the candidate to the stable version as a
   * person's rollback does. Then the canary's own event, with the figures it was judged on.
   */
  private async end(open: CanaryRow, state: 'promoted' | 'aborted', why: Pick<Breach, 'reason'> | Breach | null, actor: string, ts: string): Promise<RollbackResult> {
    const wf = await this.workflows.get(open.workflow_id);
    const policy = JSON.parse(open.policy) as CanarySpec;
    const m = await this.canaryFigures(open);
    const reason = why?.reason ?? `healthy: ${m.runs} runs, failure rate ${pct(m.failure_rate)} (limit ${pct(policy.max_failure_rate)})`;
    await this.core.q().run(SET_STATE, [state, reason, ts, open.canary_id]);
    const result =
      state === 'promoted'
        ? await this.versions.activate(wf, wf.active_version, open.version, ts, actor, 'version_published')
        : await this.versions.activate(wf, open.version, open.stable_version, ts, actor, 'workflow_rollback');
    await this.appendEnd(open, state === 'promoted' ? 'canary_promoted' : 'canary_aborted', why ?? { reason }, actor, ts, m);
    const message =
      state === 'promoted'
        ? `Promoted the canary v${open.version} of "${wf.name}": it is the active version now (was v${wf.active_version ?? '?'}).`
        : `Aborted the canary v${open.version} of "${wf.name}" and rolled back to v${open.stable_version}: ${reason}.`;
    return { ...result, message };
  }

  private async appendEnd(
    open: CanaryRow,
    type: 'canary_promoted' | 'canary_aborted',
    why: Pick<Breach, 'reason'> | Breach,
    actor: string,
    ts: string,
    m?: VersionMetrics,
  ): Promise<void> {
    const figures = m ?? (await this.canaryFigures(open));
    await this.core.append({
      type,
      workflow_id: open.workflow_id,
      actor,
      ts,
      payload: {
        version: open.version,
        stable_version: open.stable_version,
        runs: figures.runs,
        failures: figures.failed,
        failure_rate: figures.failure_rate,
        p95_ms: figures.p95_ms,
        threshold: 'threshold' in why ? why.threshold : null,
        limit: 'limit' in why ? why.limit : null,
        observed: 'observed' in why ? why.observed : null,
        reason: why.reason,
      },
    });
  }

  private openRow(workflowId: string): Promise<CanaryRow | undefined> {
    return this.core.q().get<CanaryRow>(SELECT_OPEN, [workflowId]);
  }

  private async toCanary(row: CanaryRow): Promise<Canary> {
    const m = await this.canaryFigures(row);
    return {
      version: row.version,
      stable_version: row.stable_version,
      percent: row.percent,
      policy: JSON.parse(row.policy) as CanarySpec,
      runs: m.runs,
      failures: m.failed,
      failure_rate: m.failure_rate,
      state: row.state,
      started_at: row.started_at,
      started_by: row.started_by,
    };
  }
}

/** The first threshold the figures break, checked in the policy's order: failure rate, p95, verdict rate. */
export function firstBreach(policy: CanarySpec, m: VersionMetrics): Breach | null {
  if (m.failure_rate > policy.max_failure_rate) {
    return {
      threshold: 'max_failure_rate',
      limit: policy.max_failure_rate,
      observed: m.failure_rate,
      reason: `failure rate ${pct(m.failure_rate)} over ${m.runs} runs broke the limit of ${pct(policy.max_failure_rate)}`,
    };
  }
  if (policy.max_p95_ms !== undefined && m.p95_ms !== null && m.p95_ms > policy.max_p95_ms) {
    return { threshold: 'max_p95_ms', limit: policy.max_p95_ms, observed: m.p95_ms, reason: `p95 duration ${m.p95_ms} ms over ${m.runs} runs broke the limit of ${policy.max_p95_ms} ms` };
  }
  if (policy.verdict) {
    const { key, value, max_rate } = policy.verdict;
    const rate = (m.verdicts[key]?.[value] ?? 0) / m.runs;
    if (rate > max_rate) {
      return { threshold: 'verdict', limit: max_rate, observed: rate, reason: `${key} = ${value} in ${pct(rate)} of ${m.runs} runs broke the limit of ${pct(max_rate)}` };
    }
  }
  return null;
}

/** The verdicts a finished run's judgment nodes left in its context, by output key. */
export function verdictsOf(dsl: Dsl, context: Record<string, unknown>): Record<string, string> | null {
  const outputs = context.outputs;
  if (typeof outputs !== 'object' || outputs === null) return null;
  const found: Record<string, string> = {};
  for (const node of dsl.nodes) {
    if (node.type !== 'judgment') continue;
    const key = typeof node.params.output_key === 'string' ? node.params.output_key : 'verdict';
    const out = (outputs as Record<string, unknown>)[node.id];
    const value = typeof out === 'object' && out !== null ? (out as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'string') found[key] = value;
  }
  return Object.keys(found).length > 0 ? found : null;
}

const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
