import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { type BackendMethod, type MethodInput, type MethodOutput, type ParsedInput, backendMethods } from '../../preload/contract/backend-methods.js';
import type { Dsl, RewindEvent, RollbackResult, Run, Workflow } from '../../preload/contract/entities.js';
import type { ReviewAction } from '../../preload/contract/reviews.js';
import { DEFAULT_REVIEW_EXPIRY_MS, type PerformAction } from '../engine/reviews.js';
import { seedDemo } from '../engine/demo/seed.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { RewindError } from '../engine/errors.js';
import { FAILURE_WINDOW_HOURS, incidentSummary } from '../engine/incidents.js';
import { listApprovals } from '../engine/approvals.js';
import { changesBetween } from '../engine/as-of/changes.js';
import { incidentSummaryAsOf } from '../engine/as-of/incidents-as-of.js';
import { resolveMoment } from '../engine/as-of/moment.js';
import { getRunAsOf, listRunsAsOf } from '../engine/as-of/runs-as-of.js';
import { getWorkflowAsOf, listVersionsAsOf, listWorkflowsAsOf } from '../engine/as-of/state-as-of.js';
import type { RealNodeLimits } from '../engine/executor/real-node.js';
import type { SecretSource } from '../engine/executor/secrets.js';
import { parseInput } from '../engine/validate.js';
import { CodeFolder, type CodeFolderOptions } from '../code/code-folder.js';
import { TemplateCatalogue } from '../templates/catalogue.js';
import { SecretBox } from '../engine/webhooks/secret-box.js';
import { WebhookService } from '../engine/webhooks/service.js';
import { assertJsonDepth } from './json-depth.js';
import { assertNoNul } from './nul-text.js';
import { recordRefusal } from './refusal-audit.js';
import { listVersionPage } from './version-pages.js';
import type { Backend, CallContext, SubscribeOptions } from './backend.js';
import { refuseCommands } from './command-policy.js';
import type { Handler } from './handler.js';
import { runbookHandlers, seedSampleRunbooks } from './runbook-handlers.js';
import { ARCHIVE_META_SQL, type ArchiveMeta, parseArchiveMeta } from '../snapshots/sandbox-file.js';
import { incidentHandlers } from './incident-handlers.js';

export interface SandboxOptions {
  path: string;
  /** Who the operator is, for the audit log when a call names no actor. */
  actor?: string;
  timeScale?: number;
  /** Seed the demo workflows when the database is empty. */
  demo?: boolean;
  /**
   * Keep accepting changes over a chain that was broken at open (a server started with
   * --allow-broken-chain). Otherwise such a sandbox opens read-only: nothing is appended over the damage.
   */
  allowBrokenChain?: boolean;
  /** http and command nodes run for real instead of answering their `sandbox` stand-in (a workflow server; a live sandbox). */
  liveExecution?: boolean;
  /** False refuses DSLs holding command nodes (COMMANDS_DISABLED) and fails any that still run. Default true. */
  allowCommands?: boolean;
  /**
   * Whether a live engine runs the command nodes it accepts (default: `allowCommands`). A live sandbox
   * still drafts and rehearses command DSLs, and runs them only when its operator allowed it.
   */
  runCommands?: boolean;
  /** Where `{{secret.NAME}}` is read (REWIND_SECRET_NAME in this process's environment by default). */
  secrets?: SecretSource;
  limits?: Partial<RealNodeLimits>;
  /** What a server lends its real nodes' templates once it listens (see EngineOptions.serverContext). */
  serverContext?: Promise<Record<string, unknown>>;
  /** A server's engine: take over the runs of runners whose lease expired (see EngineOptions.takeover). */
  takeover?: boolean;
  leaseMs?: number;
  replicaId?: string;
  /**
   * A folder of workflow files kept in line with the CODE workflows while the sandbox is open (the
   * server's --code-dir): read at open (a folder that cannot be used refuses the open), then watched.
   */
  codeDir?: string;
  /** Where the code folder's report goes (each rescan, each refused file). */
  codeLog?: CodeFolderOptions['log'];
  /** Fire schedules while it is open (a server; the console's own sandbox), not in a one-shot CLI command. */
  runSchedules?: boolean;
  /** The key webhook secrets are sealed with (a workflow server's; see main/server/webhook-key.ts). None: adding a webhook is refused. */
  webhookKey?: Buffer;
  /** Prune in the background (a server's --retain-runs; see EngineOptions.retention). */
  retention?: EngineOptions['retention'];
  /** Walk the whole hash chain in the background while open (a server, the console's sandboxes; see EngineOptions). */
  backgroundVerify?: EngineOptions['backgroundVerify'];
  /** Loopback and private addresses may receive webhooks (the server's --allow-private-webhooks). */
  allowPrivateWebhooks?: boolean;
  /** A server's --require-review (a sandbox has one person, so none). */
  review?: ReviewPolicy;
}

type Handlers = { [M in BackendMethod]: Handler<M> };

/** A server's --require-review: which actions become review requests, and how long one waits for an answer. */
export interface ReviewPolicy {
  actions: ReadonlySet<ReviewAction>;
  expiryMs: number;
}

/** The incident home lists at most this many dead letters; the delivery log (`rewind webhooks deliveries`) has them all. */
const DEAD_LETTERS_SHOWN = 50;

function handlers(engine: Engine, allowCommands: boolean, templates: TemplateCatalogue, webhooks: WebhookService, review: ReviewPolicy | null): Handlers {
  const { workflows, versions, runs, canaries, schedules } = engine;
  const waitIf = (wait: boolean) => async (run: Run) => (wait ? runs.wait(run.run_id) : run);
  const commands = (dsl: Dsl | undefined, what: string) => {
    if (!allowCommands) refuseCommands(dsl, what);
  };
  // Every workflow read carries its running canary (null without one), whichever method answers it.
  const withCanary = async (wf: Workflow): Promise<Workflow> => ({ ...wf, canary: await canaries.current(wf.id) });
  const activeDsl = async (workflowId: string) => {
    const wf = await workflows.get(workflowId);
    return wf.active_version === null ? undefined : (await versions.get(wf.id, wf.active_version)).dsl_definition;
  };
  /** The reviewed actions themselves: what runs at once without review, and on approval with it. */
  const act = {
    publish: async (i: ParsedInput<'versions:publish'>, a: string): Promise<RollbackResult> => {
      commands((await versions.get(i.workflow_id, i.version)).dsl_definition, `Publishing v${i.version}`);
      const { canary } = i;
      return canary ? canaries.start({ ...i, canary }, a) : versions.publish(i, a);
    },
    // A version published while commands were allowed must not start running them on a server that now refuses them
    // (the target is read and checked inside the rollback's unit of work).
    rollback: (i: ParsedInput<'versions:rollback'>, a: string): Promise<RollbackResult> =>
      versions.rollback(i, a, allowCommands ? undefined : (target) => commands(target.dsl_definition, `Rolling back to v${i.version}`)),
    promote: (i: ParsedInput<'canary:promote'>, a: string): Promise<RollbackResult> => canaries.promote(i, a),
  };
  // A request's input was parsed when it was asked; it is parsed again as the method's, so it is acted on exactly as then.
  const perform: PerformAction = (action, input, actor) => {
    if (action === 'publish') return act.publish(backendMethods['versions:publish'].input.parse(input), actor);
    if (action === 'rollback') return act.rollback(backendMethods['versions:rollback'].input.parse(input), actor);
    return act.promote(backendMethods['canary:promote'].input.parse(input), actor);
  };
  const reviewed = (action: ReviewAction) => review?.actions.has(action) === true;
  const askReview = (action: ReviewAction, workflowId: string, input: Record<string, unknown>, expected: number | undefined, canaryPercent: number | null, actor: string) =>
    engine.reviews.request({ action, workflow_id: workflowId, input, expected_revision: expected, canary_percent: canaryPercent }, actor, review?.expiryMs ?? DEFAULT_REVIEW_EXPIRY_MS, perform);
  // An as-of read (issue 22) answers from the log and the tables as they stood at that moment.
  const moment = (asOf: string) => resolveMoment(engine.store.read, asOf, engine.now());
  return {
    'workflows:list': {
      apply: async (i) => {
        if (i.as_of !== undefined) {
          const m = await moment(i.as_of);
          const then = await listWorkflowsAsOf(engine.store.read, m, i.query);
          return { workflows: then, total: then.length, as_of_seq: m.seq };
        }
        const list = await workflows.list(i.query);
        const open = await canaries.allCurrent();
        return { workflows: list.map((w) => ({ ...w, canary: open.get(w.id) ?? null })), total: list.length };
      },
    },
    'workflows:get': {
      apply: async (i) => {
        if (i.as_of === undefined) return withCanary(await workflows.get(i.workflow_id));
        const m = await moment(i.as_of);
        return { ...(await getWorkflowAsOf(engine.store.read, m, i.workflow_id)), as_of_seq: m.seq };
      },
    },
    'workflows:create': {
      apply: async (i, a) => {
        commands(i.dsl, 'Creating the workflow');
        return withCanary(await workflows.create(i, a));
      },
    },
    'workflows:clone': {
      apply: async (i, a) => {
        commands(await activeDsl(i.workflow_id), 'Cloning the workflow');
        return withCanary(await workflows.clone(i, a));
      },
    },
    'workflows:pause': { apply: async (i, a) => withCanary(await workflows.pause(i, a)) },
    'workflows:unpause': { apply: async (i, a) => withCanary(await workflows.unpause(i, a)) },
    'workflows:setSchedule': { apply: async (i, a) => withCanary(await schedules.set(i, a)) },
    'workflows:unregister': { apply: (i, a) => engine.unregister(i, a) },
    'templates:list': { apply: async () => ({ templates: templates.list() }) },
    'templates:get': { apply: async (i) => templates.get(i.template) },
    'templates:instantiate': {
      apply: async (i, a) => {
        const { template, dsl, values } = templates.instantiate(i.template, i.params);
        commands(dsl, 'Creating the workflow from the template');
        const shown = Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
        return workflows.create(
          {
            name: i.name,
            description: i.description ?? template.description,
            dsl,
            source_type: 'MANUAL',
            change_log: `From template ${template.name} v${template.version}${shown ? ` (${shown})` : ''}`,
          },
          a,
          { name: template.name, version: template.version },
        );
      },
    },
    'schedules:get': { apply: (i) => schedules.info(i.workflow_id) },
    'schedules:backfill': { apply: (i, a) => schedules.backfill(i, a) },
    'versions:list': {
      apply: async (i) => {
        if (i.as_of === undefined) return listVersionPage((page) => versions.list(page), i);
        const m = await moment(i.as_of);
        return { ...(await listVersionPage((page) => listVersionsAsOf(engine.store.read, m, page.workflow_id, page.offset, page.limit), i)), as_of_seq: m.seq };
      },
    },
    'versions:get': { apply: (i) => versions.get(i.workflow_id, i.version) },
    'versions:createDraft': {
      apply: async (i, a) => {
        commands(i.dsl ?? (await activeDsl(i.workflow_id)), 'Drafting the version');
        return versions.createDraft(i, a);
      },
    },
    'versions:publish': {
      apply: (i, a) =>
        reviewed('publish') ? askReview('publish', i.workflow_id, i, i.expected_revision, i.canary?.percent ?? null, a) : act.publish(i, a),
    },
    'versions:rollback': {
      apply: (i, a) => (reviewed('rollback') ? askReview('rollback', i.workflow_id, i, i.expected_revision, null, a) : act.rollback(i, a)),
    },
    'versions:archive': { apply: (i, a) => versions.archive(i, a) },
    'versions:diff': { apply: (i) => versions.diff(i) },
    'versions:rollbackPreview': { apply: (i) => runs.rollbackPreview(i.workflow_id, i.version) },
    'runs:start': { apply: (i, a) => runs.start(i, a), finish: (run: Run, i) => waitIf(i.wait)(run) },
    'runs:list': {
      apply: async (i) => {
        if (i.as_of === undefined) return runs.list(i);
        const m = await moment(i.as_of);
        return { ...(await listRunsAsOf(engine.store.read, m, i)), as_of_seq: m.seq };
      },
    },
    'runs:get': {
      apply: async (i) => {
        if (i.as_of === undefined) return runs.get(i.run_id);
        const m = await moment(i.as_of);
        return { ...(await getRunAsOf(engine.store.read, m, i.run_id)), as_of_seq: m.seq };
      },
    },
    'runs:compatibility': { apply: (i) => runs.compatibility(i.run_id, i.version) },
    'runs:resume': { apply: (i, a) => runs.resume(i, a), finish: (run: Run, i) => waitIf(i.wait)(run) },
    'runs:replay': { apply: (i, a) => runs.startReplay(i, a), finish: async (run: Run) => runs.replayResult(await runs.waitUntilEndedOrWaiting(run.run_id)) },
    'runs:cancel': { apply: (i, a) => runs.cancel(i.run_id, a) },
    'runs:approve': { apply: (i, a) => runs.approve(i, a) },
    'approvals:list': { apply: (i) => listApprovals(engine, i) },
    'checkpoints:list': { apply: async (i) => ({ checkpoints: await runs.checkpoints(i.run_id) }) },
    'runs:archive': { apply: (i) => engine.archivePage(i) },
    'checkpoints:get': { apply: (i) => runs.checkpoint(i.run_id, i.seq) },
    'events:list': {
      apply: (i) =>
        engine.events.page({
          after: i.after,
          before: i.before,
          limit: i.limit,
          workflowId: i.workflow_id,
          runId: i.run_id,
          types: i.type?.split(','),
          actor: i.actor,
          since: i.since,
          until: i.until,
        }),
    },
    'events:head': { apply: async () => {
      return { ...(await engine.events.head()), chain: engine.chain, server_id: await engine.serverId() };
    } },
    'events:verify': { apply: () => engine.verifyChain() },
    'canary:promote': { apply: (i, a) => (reviewed('promote') ? askReview('promote', i.workflow_id, i, i.expected_revision, null, a) : act.promote(i, a)) },
    'canary:abort': { apply: (i, a) => canaries.abort(i, a) },
    'workflows:health': { apply: (i) => canaries.health(i) },
    'changes:list': { apply: (i) => changesBetween(engine.store.read, i, engine.now()) },
    'incidents:summary': {
      apply: async (i) => {
        if (i.as_of !== undefined) {
          const m = await moment(i.as_of);
          const summary = await incidentSummaryAsOf(engine.store.read, m, engine.now());
          const since = new Date(new Date(summary.generated_at).getTime() - FAILURE_WINDOW_HOURS * 3_600_000).toISOString();
          const deadLetters = m.ts === null ? [] : await webhooks.deadLetters(since, DEAD_LETTERS_SHOWN, m.ts);
          return { ...summary, dead_letters: deadLetters, as_of_seq: m.seq };
        }
        const now = new Date(engine.now());
        const summary = await incidentSummary(engine.store.read, now);
        const running = [];
        for (const [id, c] of await canaries.allCurrent()) running.push({ ...c, workflow_id: id, workflow_name: (await workflows.get(id)).name });
        const since = new Date(now.getTime() - FAILURE_WINDOW_HOURS * 3_600_000).toISOString();
        return { ...summary, canaries: running.sort((a, b) => (a.started_at < b.started_at ? 1 : -1)), dead_letters: await webhooks.deadLetters(since, DEAD_LETTERS_SHOWN) };
      },
    },
    'webhooks:create': { apply: (i, a) => webhooks.create(i, a) },
    'webhooks:list': { apply: async () => ({ webhooks: await webhooks.list() }) },
    'webhooks:delete': { apply: (i, a) => webhooks.remove(i.webhook_id, a) },
    'webhooks:deliveries': { apply: async (i) => ({ deliveries: await webhooks.deliveries(i.webhook_id, i.state, i.limit) }) },
    'reviews:list': { apply: (i) => engine.reviews.list(i.status, i.limit) },
    'reviews:get': { apply: (i) => engine.reviews.get(i.review_id) },
    'reviews:approve': { apply: (i, a) => engine.reviews.answer(i.review_id, 'approved', a, i.note, perform) },
    'reviews:decline': { apply: (i, a) => engine.reviews.answer(i.review_id, 'declined', a, i.note, perform) },
    ...runbookHandlers(engine),
    ...incidentHandlers(engine),
  };
}

const SELECT_IDEMPOTENCY_KEY = 'SELECT method, request_hash, response FROM idempotency_keys WHERE key = ?';
const INSERT_IDEMPOTENCY_KEY = 'INSERT INTO idempotency_keys (key, method, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)';

/**
 * The engine in-process behind the `Backend` interface, over either store: the local sandbox (a
 * SQLite file), and what the workflow server serves (SQLite or PostgreSQL).
 */
export class EngineBackend implements Backend {
  readonly kind = 'sandbox' as const;
  readonly engine: Engine;
  private readonly handlers: Handlers;
  /** Who the operator is here: the audit-log actor of calls that name none (the console shows it as the connection's actor). */
  readonly defaultActor: string;

  /** Whether the chain is known broken (at open, or found since) so changes are refused (see `SandboxOptions.allowBrokenChain`). */
  get readOnly(): boolean {
    return this.archive !== null || (!this.engine.chain.ok && !this.allowBrokenChain);
  }

  private readonly allowBrokenChain: boolean;

  /** The SQLite file behind it, when there is one: named in the read-only error's hint. */
  private readonly location: string | undefined;

  /** Webhooks over this engine; they seal secrets only when the backend was given a webhook key. */
  readonly webhooks: WebhookService;

  /** Set for a sandbox file made from a run archive: it is read, never changed. */
  readonly archive: ArchiveMeta | null;

  constructor(
    engine: Engine,
    actor: string,
    options: {
      allowBrokenChain?: boolean;
      location?: string;
      allowCommands?: boolean;
      templates?: TemplateCatalogue;
      webhookKey?: Buffer;
      allowPrivateWebhooks?: boolean;
      archive?: ArchiveMeta | null;
      review?: ReviewPolicy;
    } = {},
  ) {
    this.engine = engine;
    this.archive = options.archive ?? null;
    this.allowBrokenChain = options.allowBrokenChain === true;
    this.location = options.location;
    this.webhooks = new WebhookService(engine, options.webhookKey ? new SecretBox(options.webhookKey) : null, options.allowPrivateWebhooks ?? false);
    this.handlers = handlers(engine, options.allowCommands ?? true, options.templates ?? new TemplateCatalogue(), this.webhooks, options.review ?? null);
    if (options.review && options.review.actions.size > 0) this.sweepReviews(options.review.expiryMs);
    this.defaultActor = actor;
  }

  async call<M extends BackendMethod>(method: M, input: MethodInput<M>, ctx: CallContext = {}): Promise<MethodOutput<M>> {
    const spec = backendMethods[method];
    if (!spec) throw new RewindError('NOT_FOUND', `Unknown method "${String(method)}".`, 'Update Rewind; this backend does not know that operation.');
    assertJsonDepth(input, `The input of ${method}`);
    assertNoNul(input, `The input of ${method}`);
    const parsed = parseInput(spec.input, input, method) as ParsedInput<M>;
    if (spec.mutates && this.readOnly) throw this.archive ? archiveReadOnlyError(this.archive) : readOnlyError(this.engine, this.location);
    const handler = this.handlers[method] as Handler<M>;
    const actor = ctx.actor ?? this.defaultActor;
    try {
      const applied = spec.mutates && ctx.idempotencyKey ? await this.applyOnce(method, parsed, handler, actor, ctx.idempotencyKey) : await handler.apply(parsed, actor);
      const output = handler.finish ? await handler.finish(applied as never, parsed) : applied;
      return output as MethodOutput<M>;
    } catch (err) {
      // Input that did not parse was thrown above: only refusals of well-formed mutations are audited.
      await recordRefusal(this.engine, { method, input: parsed as Record<string, unknown>, actor, error: err });
      throw err;
    }
  }

  /** Applies a mutation at most once per key: the record commits in the same transaction as the change. */
  private applyOnce<M extends BackendMethod>(method: M, input: ParsedInput<M>, handler: Handler<M>, actor: string, key: string): Promise<unknown> {
    const requestHash = createHash('sha256').update(JSON.stringify([method, input])).digest('hex');
    return this.engine.mutate(async () => {
      const prior = await this.engine.q().get<{ method: string; request_hash: string; response: string }>(SELECT_IDEMPOTENCY_KEY, [key]);
      if (prior) {
        if (prior.method !== method || prior.request_hash !== requestHash) {
          throw new RewindError('IDEMPOTENCY_CONFLICT', 'This idempotency key was already used for a different request.', 'Use a new key for a new request; reuse a key only to retry the same one.');
        }
        return JSON.parse(prior.response) as unknown;
      }
      const applied = await handler.apply(input, actor);
      await this.engine.q().run(INSERT_IDEMPOTENCY_KEY, [key, method, requestHash, JSON.stringify(applied), new Date().toISOString()]);
      return applied;
    });
  }

  subscribe(options: SubscribeOptions): () => void {
    let last = options.after;
    let closed = false;
    const deliver = (e: RewindEvent) => {
      if (closed || e.seq <= last) return;
      last = e.seq;
      options.onEvent(e);
    };
    // The live listener is set up before the backlog is read: what is published meanwhile waits in
    // `held`, and seq dedupes the overlap, so no event falls between the two nor arrives twice.
    let held: RewindEvent[] | null = [];
    const off = this.engine.onEvent((e) => (held ? held.push(e) : deliver(e)));
    const backlog = async () => {
      for (;;) {
        const page = await this.engine.events.list(last, 5000);
        page.forEach(deliver);
        if (page.length < 5000) break;
      }
      const pending = held ?? [];
      held = null;
      pending.forEach(deliver);
      if (!closed) options.onState?.('live');
    };
    backlog().catch((err: unknown) => {
      off();
      if (!closed) options.onState?.('closed', err instanceof Error ? err.message : String(err));
    });
    return () => {
      closed = true;
      off();
      options.onState?.('closed');
    };
  }

  /**
   * Records expiries as they fall due (a request is shown expired at once either way; this writes
   * its `review_expired` even when nobody looks). Every replica sweeps; the first records each one.
   */
  private sweepReviews(expiryMs: number): void {
    const timer = setInterval(() => void this.engine.reviews.expireDue().catch(() => undefined), Math.min(30_000, Math.max(1000, Math.floor(expiryMs / 4))));
    timer.unref();
    this.closers.push(() => clearInterval(timer));
  }

  private readonly closers: Array<() => void> = [];

  /** Runs `fn` when the backend closes, before the engine does (a code folder's watcher). */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.splice(0)) fn();
    await this.engine.close();
  }
}

/** Keeps a code folder in line with the backend's CODE workflows until it closes; a folder that cannot be used closes it and throws. */
export async function attachCodeFolder(backend: EngineBackend, options: CodeFolderOptions): Promise<CodeFolder> {
  let folder: CodeFolder;
  try {
    folder = await CodeFolder.open(backend.engine, options);
  } catch (err) {
    await backend.close();
    throw err;
  }
  backend.onClose(() => folder.close());
  return folder;
}

/** The engine backend over a SQLite file: the local sandbox (seeded with the demo when asked and empty). */
export async function openSandbox(options: SandboxOptions): Promise<EngineBackend> {
  const allowCommands = options.allowCommands ?? true;
  const engine = await Engine.open({
    path: options.path,
    timeScale: options.timeScale ?? 0,
    liveExecution: options.liveExecution ?? false,
    allowCommands: options.runCommands ?? allowCommands,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.serverContext ? { serverContext: options.serverContext } : {}),
    ...(options.takeover ? { takeover: true } : {}),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.replicaId === undefined ? {} : { replicaId: options.replicaId }),
    runSchedules: options.runSchedules ?? false,
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.backgroundVerify ? { backgroundVerify: options.backgroundVerify } : {}),
  });
  const actor = options.actor ?? safeUsername();
  if (options.demo && (await engine.latestSeq()) === 0) {
    await seedDemo(engine, actor);
    await seedSampleRunbooks(engine, actor);
  }
  const archive = parseArchiveMeta(await engine.store.read.all<{ key: string; value: string }>(ARCHIVE_META_SQL));
  const backend = new EngineBackend(engine, actor, {
    allowBrokenChain: options.allowBrokenChain ?? false,
    location: options.path,
    allowCommands,
    archive,
    ...(options.webhookKey ? { webhookKey: options.webhookKey } : {}),
    ...(options.allowPrivateWebhooks ? { allowPrivateWebhooks: true } : {}),
    ...(options.review ? { review: options.review } : {}),
  });
  if (options.codeDir !== undefined) await attachCodeFolder(backend, { dir: options.codeDir, allowCommands, ...(options.codeLog ? { log: options.codeLog } : {}) });
  return backend;
}

function readOnlyError(engine: Engine, location: string | undefined): RewindError {
  const { first_broken_seq: seq, reason } = engine.chain;
  const where = location ?? 'the database';
  return new RewindError(
    'READ_ONLY',
    `Changes are refused: the audit chain of ${where} is broken at event ${seq ?? '?'} (${reason ?? 'unknown reason'}).`,
    `No change is accepted over a tampered log. Read it as it is, restore ${where} from a backup (check it with \`rewind verify --db ${location ?? 'FILE'}\`), or serve it with --allow-broken-chain to accept changes anyway.`,
    { first_broken_seq: seq, reason },
  );
}

function archiveReadOnlyError(archive: ArchiveMeta): RewindError {
  return new RewindError(
    'READ_ONLY',
    `This is an archive of ${archive.server} (runs that ended before ${archive.before.slice(0, 10)}), opened read-only.`,
    'An archive is for reading what retention pruned on the server; act on the server itself, or rehearse in a sandbox.',
    { archive: archive.source },
  );
}

function safeUsername(): string {
  try {
    return userInfo().username || 'operator';
  } catch {
    return 'operator';
  }
}
