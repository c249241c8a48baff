import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dsl } from '../../../../preload/contract/entities.js';
import { Engine } from '../../../../main/engine/engine.js';
import { RewindError } from '../../../../main/engine/errors.js';
import { rebuildFromEvents, snapshotState } from '../../../../main/engine/rebuild.js';
import { stores } from '../../../support/stores.js';

/*
 * Model-based property test (DESIGN.md invariants 1–4): random sequences of create, draft, publish,
 * roll back, archive and stale writes run against a real engine on every store and a tiny in-memory model.
 * After every step the engine's answer (applied, or refused with which code) matches the model's,
 * and the invariants hold on the database itself.
 */

type Status = 'draft' | 'active' | 'deprecated' | 'archived';
interface ModelWorkflow {
  id: string;
  versions: Status[]; // index v-1
  revision: number;
}
interface Model {
  workflows: ModelWorkflow[];
}
/** How often publish and rollback applied across the whole property run. */
const applied = { publish: 0, rollback: 0 };

interface Real {
  engine: Engine;
  seqBefore: number;
}

const dslFor = (n: number): Dsl => ({
  defaults: { n },
  nodes: [
    { id: 'a', type: 'task', params: { duration_ms: 1, output: { n } }, next: ['b'] },
    { id: 'b', type: 'transform', params: { set: { done: true } }, next: [] },
  ],
});

async function expectRefusal(fn: () => Promise<unknown>, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RewindError);
    expect((err as RewindError).code).toBe(code);
    expect((err as RewindError).hint.length).toBeGreaterThan(10);
    return;
  }
  throw new Error(`expected ${code}, but the operation applied`);
}

/** Invariants 1 and 4 on the database, plus the model's view of every version status and revision. */
async function checkInvariants(model: Model, real: Real): Promise<void> {
  const read = real.engine.store.read;
  const wfs = await read.all<{ id: string; active_version: number | null; revision: number }>('SELECT id, active_version, revision FROM workflows');
  expect(wfs.length).toBe(model.workflows.length);
  for (const m of model.workflows) {
    const row = wfs.find((w) => w.id === m.id)!;
    const statuses = (await read.all<{ status: Status }>('SELECT status FROM workflow_versions WHERE workflow_id = ? ORDER BY version', [m.id])).map((r) => r.status);
    expect(statuses).toEqual(m.versions);
    expect(row.revision).toBe(m.revision);
    const active = statuses.flatMap((s, i) => (s === 'active' ? [i + 1] : []));
    // Invariant 1: a published workflow has exactly one active version and active_version names it.
    if (m.versions.some((s) => s !== 'draft')) expect(active).toHaveLength(1);
    expect(row.active_version).toBe(active[0] ?? null);
  }
  // Invariant 4: seq is 1..n without gaps, and replaying the events rebuilds the state exactly.
  const seqs = (await read.all<{ seq: number }>('SELECT seq FROM events ORDER BY seq')).map((r) => r.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  expect(isDeepStrictEqual(rebuildFromEvents(await real.engine.events.list(0, 1_000_000)), await snapshotState(read))).toBe(true);
  expect((await real.engine.verifyChain()).ok).toBe(true);
}

/** A refused command must leave no trace (invariant 2's "all or nothing"). */
async function unchanged(real: Real): Promise<void> {
  expect(await real.engine.latestSeq()).toBe(real.seqBefore);
}

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(readonly n: number) {}
  // A few workflows with long histories find more bugs than many workflows with one version each.
  check = (m: Readonly<Model>) => m.workflows.length < 3;
  async run(model: Model, real: Real): Promise<void> {
    const wf = await real.engine.workflows.create({ name: `wf-${model.workflows.length}-${this.n}`, description: '', dsl: dslFor(this.n), source_type: 'MANUAL' }, 'prop');
    model.workflows.push({ id: wf.id, versions: ['active'], revision: 1 });
    await checkInvariants(model, real);
  }
  toString = () => `create(${this.n})`;
}

abstract class OnWorkflow implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly w: number,
    readonly v: number,
  ) {}
  check = (m: Readonly<Model>) => m.workflows.length > 0;
  protected pick(model: Model): ModelWorkflow {
    return model.workflows[this.w % model.workflows.length]!;
  }
  /**
   * Three times in four, a version in the status the command can act on (so successes are common);
   * otherwise any version, or one past the last (a missing version), to exercise the refusals.
   */
  protected target(m: ModelWorkflow, wanted?: Status): number {
    const candidates = m.versions.flatMap((s, i) => (s === wanted ? [i + 1] : []));
    if (wanted && this.v % 4 !== 0 && candidates.length > 0) return candidates[this.v % candidates.length]!;
    return (this.v % (m.versions.length + 1)) + 1;
  }
  async run(model: Model, real: Real): Promise<void> {
    real.seqBefore = await real.engine.latestSeq();
    await this.apply(this.pick(model), real);
    await checkInvariants(model, real);
  }
  abstract apply(m: ModelWorkflow, real: Real): Promise<void>;
}

class Draft extends OnWorkflow {
  async apply(m: ModelWorkflow, real: Real): Promise<void> {
    const snapshot = this.v % 2 === 0;
    await real.engine.versions.createDraft({ workflow_id: m.id, change_log: '', ...(snapshot ? {} : { dsl: dslFor(this.v) }) }, 'prop');
    m.versions.push('draft');
    m.revision += 1;
  }
  override toString = () => `draft(w${this.w}, ${this.v % 2 === 0 ? 'snapshot' : 'dsl'})`;
}

class Publish extends OnWorkflow {
  async apply(m: ModelWorkflow, real: Real): Promise<void> {
    const v = this.target(m, 'draft');
    const status = m.versions[v - 1];
    const call = () => real.engine.versions.publish({ workflow_id: m.id, version: v }, 'prop');
    if (status === undefined) return (await expectRefusal(call, 'VERSION_NOT_FOUND'), await unchanged(real));
    if (status !== 'draft') return (await expectRefusal(call, 'VERSION_NOT_DRAFT'), await unchanged(real));
    await call();
    applied.publish += 1;
    m.versions = m.versions.map((s) => (s === 'active' ? 'deprecated' : s));
    m.versions[v - 1] = 'active';
    m.revision += 1;
  }
  override toString = () => `publish(w${this.w}, #${this.v})`;
}

class Rollback extends OnWorkflow {
  async apply(m: ModelWorkflow, real: Real): Promise<void> {
    const v = this.target(m, 'deprecated');
    const status = m.versions[v - 1];
    const call = () => real.engine.versions.rollback({ workflow_id: m.id, version: v }, 'prop');
    const refusal = { draft: 'ROLLBACK_VERSION_DRAFT', archived: 'ROLLBACK_VERSION_ARCHIVED', active: 'ROLLBACK_ALREADY_ACTIVE' } as const;
    if (status === undefined) return (await expectRefusal(call, 'ROLLBACK_VERSION_MISSING'), await unchanged(real));
    if (status !== 'deprecated') return (await expectRefusal(call, refusal[status]), await unchanged(real));
    const result = await call();
    applied.rollback += 1;
    expect(result.from_version).toBe(m.versions.indexOf('active') + 1);
    expect(result.seq).toBe(await real.engine.latestSeq());
    m.versions = m.versions.map((s) => (s === 'active' ? 'deprecated' : s));
    m.versions[v - 1] = 'active';
    m.revision += 1;
  }
  override toString = () => `rollback(w${this.w}, #${this.v})`;
}

class Archive extends OnWorkflow {
  async apply(m: ModelWorkflow, real: Real): Promise<void> {
    const v = this.target(m, 'deprecated');
    const status = m.versions[v - 1];
    const call = () => real.engine.versions.archive({ workflow_id: m.id, version: v }, 'prop');
    if (status === undefined) return (await expectRefusal(call, 'VERSION_NOT_FOUND'), await unchanged(real));
    if (status === 'active') return (await expectRefusal(call, 'ARCHIVE_ACTIVE_VERSION'), await unchanged(real));
    await call();
    if (status !== 'archived') {
      m.versions[v - 1] = 'archived';
      m.revision += 1;
    } else await unchanged(real);
  }
  override toString = () => `archive(w${this.w}, #${this.v})`;
}

/** Another operator's write based on an old revision: refused with the current one, nothing applied. */
class StaleRollback extends OnWorkflow {
  async apply(m: ModelWorkflow, real: Real): Promise<void> {
    const stale = m.revision - 1 - (this.v % 3);
    try {
      await real.engine.versions.rollback({ workflow_id: m.id, version: this.target(m), expected_revision: stale }, 'prop');
    } catch (err) {
      expect((err as RewindError).code).toBe('STALE_REVISION');
      expect((err as RewindError).details?.current_revision).toBe(m.revision);
      await unchanged(real);
      return;
    }
    throw new Error('a stale revision was applied');
  }
  override toString = () => `staleRollback(w${this.w})`;
}

/*
 * Runs per store: on PostgreSQL each run pays a CREATE DATABASE, its migrations and a few hundred
 * round trips (seconds each here), so it takes fewer, with the same floor of applied writes per run.
 */
const RUNS = { sqlite: 100, postgres: 30 } as const;

describe.each(stores)('versions: model-based property ($kind)', (factory) => {
  afterAll(() => factory.dispose());
  let counter = 0;
  const numRuns = RUNS[factory.kind];

  it('random create/draft/publish/rollback/archive/stale sequences keep invariants 1–4', async () => {
    const idx = fc.nat({ max: 50 });
    const commands = fc.commands(
      [
        fc.nat({ max: 1000 }).map((n) => new Create(n)),
        fc.tuple(idx, idx).map(([w, v]) => new Draft(w, v)),
        fc.tuple(idx, idx).map(([w, v]) => new Publish(w, v)),
        fc.tuple(idx, idx).map(([w, v]) => new Rollback(w, v)),
        fc.tuple(idx, idx).map(([w, v]) => new Archive(w, v)),
        fc.tuple(idx, idx).map(([w, v]) => new StaleRollback(w, v)),
      ],
      { maxCommands: 60, size: 'max' },
    );
    const before = { ...applied };
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        counter += 1;
        const engine = await Engine.open({ store: await factory.open(`m${counter}`) });
        try {
          await fc.asyncModelRun(() => ({ model: { workflows: [] }, real: { engine, seqBefore: 0 } }), cmds);
        } finally {
          await engine.close();
        }
      }),
      { numRuns },
    );
    // The property only means something if the happy paths ran often, not just the refusals.
    const publishes = applied.publish - before.publish;
    const rollbacks = applied.rollback - before.rollback;
    console.log(`model-based (${factory.kind}, ${numRuns} runs): ${publishes} publishes and ${rollbacks} rollbacks applied`);
    expect(publishes).toBeGreaterThan(numRuns * 0.3);
    expect(rollbacks).toBeGreaterThan(numRuns * 0.1);
  }, 600_000);
});
