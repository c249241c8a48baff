import { z } from 'zod';
import { canarySchema } from './canary.js';
import { safeName, safeText } from './names.js';

/*
 * The entities every placement shares (sandbox, workflow server, console). Timestamps are ISO-8601
 * strings in UTC so they survive JSON unchanged.
 */

export const isoTime = z.string();
const id = z.string().min(1).max(200);

/** A node of the workflow DSL. `next` names the nodes that run after it (a DAG). */
export const dslNodeSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'node ids are 1–64 letters, digits, _ . -'),
  /** task, judgment, transform: simulated and pure; http, command, wait, approval: real work on a server. */
  type: z.enum(['task', 'judgment', 'transform', 'http', 'command', 'wait', 'approval']),
  name: safeName(z.string().max(200)).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  next: z.array(z.string()).default([]),
});
export type DslNode = z.infer<typeof dslNodeSchema>;

/** The JSON types a declared run param may take (`integer`: a whole number). */
export const paramTypes = ['string', 'integer', 'number', 'boolean', 'object', 'array'] as const;
export type ParamType = (typeof paramTypes)[number];

/**
 * A run param the workflow accepts: its type, whether a run must give it, its default. A run's params
 * are checked against these (and against the keys of `defaults`, which count as declared with the
 * type of their value), so an unknown, mistyped or missing param is refused before the run starts.
 */
export const paramDeclarationSchema = z.strictObject({
  type: z.enum(paramTypes),
  /** A run must give it (then it has no default). */
  required: z.boolean().optional(),
  /** The value a run that does not give it starts with (or give it in `defaults`, not both). */
  default: z.unknown().optional(),
  description: z.string().max(2000).optional(),
});
export type ParamDeclaration = z.infer<typeof paramDeclarationSchema>;

/** A workflow definition: a DAG of nodes plus default run parameters, and optionally the run params it declares. */
export const dslSchema = z.strictObject({
  nodes: z.array(dslNodeSchema).min(1).max(500),
  defaults: z.record(z.string(), z.unknown()).default({}),
  params: z.record(z.string(), paramDeclarationSchema).optional(),
});
export type Dsl = z.infer<typeof dslSchema>;

export const workflowStatusSchema = z.enum(['active', 'paused', 'overridden']);
export type WorkflowStatus = z.infer<typeof workflowStatusSchema>;
export const sourceTypeSchema = z.enum(['MANUAL', 'CODE']);
export type SourceType = z.infer<typeof sourceTypeSchema>;
export const versionStatusSchema = z.enum(['draft', 'active', 'deprecated', 'archived']);
export type VersionStatus = z.infer<typeof versionStatusSchema>;

/*
 * run: queued → running → succeeded | failed | cancelled | interrupted | denied
 *                  ⇅ waiting (an approval node holds it until an operator answers)
 * (interrupted: the process died mid-run, or a crash fault was injected; resumable like failed)
 * (denied: an operator answered an approval node with deny — an outcome, not a failure: no incident
 *  counts it, no canary judges it; resuming it asks the approval again)
 */
export const runStatusSchema = z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted', 'denied']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const workflowSchema = z.object({
  id,
  name: z.string(),
  description: z.string(),
  source_type: sourceTypeSchema,
  status: workflowStatusSchema,
  schedule: z.string().nullable(),
  /** The version new runs use; null until a version is published. */
  active_version: z.number().int().nullable(),
  /** The same, under the name the origin's REST clients read (DESIGN, "Remote protocol"): always equal to active_version. */
  version: z.number().int().nullable(),
  /** Bumped on every change; the optimistic concurrency token (If-Match). */
  revision: z.number().int(),
  /** Failed or interrupted runs of the last 24 hours that no resume has followed: the console's incident badge. */
  failed_runs: z.number().int(),
  created_at: isoTime,
  updated_at: isoTime,
  /** Set once the workflow is unregistered: it has left every list; its versions, runs and events stay for the record. */
  unregistered_at: isoTime.nullable(),
  /** A CODE workflow's file, relative to the server's code folder; null for MANUAL workflows. */
  code_file: z.string().nullable(),
  /** The template (and its version) the workflow was made from; null when it was not. */
  template: z.object({ name: z.string(), version: z.number().int() }).nullable(),
  /** The canary being judged (a share of new runs draws it), or null; absent from servers that predate canaries. */
  canary: canarySchema.nullable().optional(),
});
export type Workflow = z.infer<typeof workflowSchema>;

/** What an unregister did: the workflow as it was left, the runs it cancelled, the MANUAL workflow it gave control back to. */
export const unregisterResultSchema = z.object({
  workflow: workflowSchema,
  cancelled_runs: z.array(z.string()),
  /** The MANUAL workflow of the same name a CODE one overrode, active (or paused) again; null otherwise. */
  reactivated: workflowSchema.nullable(),
});
export type UnregisterResult = z.infer<typeof unregisterResultSchema>;

/** The type of a template parameter: what a value must be, and how a form edits it. */
export const templateParamTypeSchema = z.enum(['string', 'integer', 'number', 'boolean']);
export type TemplateParamType = z.infer<typeof templateParamTypeSchema>;

/** One parameter of a template (seed 002): a form field in the console, a `--param k=v` on the CLI. */
export const templateParamSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'parameter names are letters, digits and _, not starting with a digit'),
  type: templateParamTypeSchema,
  description: safeText(z.string().max(2000)).default(''),
  required: z.boolean().default(false),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
});
export type TemplateParam = z.infer<typeof templateParamSchema>;

/** A template as the catalogue lists it: what it is for and what it asks. */
export const templateSummarySchema = z.object({
  name: z.string(),
  version: z.number().int().positive(),
  title: z.string(),
  description: z.string(),
  params: z.array(templateParamSchema),
});
export type TemplateSummary = z.infer<typeof templateSummarySchema>;

/** One template with its parameterized DSL (`{{param.NAME}}` where a value goes). */
export const templateSchema = templateSummarySchema.extend({ dsl: z.record(z.string(), z.unknown()) });
export type Template = z.infer<typeof templateSchema>;

export const workflowVersionSchema = z.object({
  version_id: id,
  workflow_id: id,
  version: z.number().int().positive(),
  dsl_definition: dslSchema,
  change_log: z.string(),
  status: versionStatusSchema,
  created_by: z.string(),
  published_at: isoTime.nullable(),
  created_at: isoTime,
});
export type WorkflowVersion = z.infer<typeof workflowVersionSchema>;

/** A version as a list carries it: the DSL only when the caller asked for it (`include_dsl`). */
export const versionListItemSchema = workflowVersionSchema.extend({ dsl_definition: dslSchema.optional() });
export type VersionListItem = z.infer<typeof versionListItemSchema>;

/**
 * One page of a workflow's versions, newest first: seed 000's `{versions, total}`, plus where the next
 * page starts (null on the last one). A page stops early rather than exceed 1 MB.
 */
export const versionPageSchema = z.object({
  versions: z.array(versionListItemSchema),
  total: z.number().int(),
  next_offset: z.number().int().nullable(),
});
export type VersionPage = z.infer<typeof versionPageSchema>;

/** Faults injected into a sandbox run, for rehearsal: fail node X, crash the run at node Y. */
export const faultsSchema = z.strictObject({
  fail_node: z.string().optional(),
  crash_at_node: z.string().optional(),
});
export type Faults = z.infer<typeof faultsSchema>;

export const runKindSchema = z.enum(['start', 'resume', 'replay']);
export type RunKind = z.infer<typeof runKindSchema>;

/** What started a run: an operator (console, CLI), a schedule's tick, a backfill, a resume or replay, or a plain REST client. */
export const runTriggerSchema = z.enum(['manual', 'schedule', 'backfill', 'resume', 'replay', 'api']);
export type RunTrigger = z.infer<typeof runTriggerSchema>;

export const runSchema = z.object({
  run_id: id,
  workflow_id: id,
  /** The version the run is pinned to; publishing or rolling back never changes it. */
  version: z.number().int().positive(),
  status: runStatusSchema,
  kind: runKindSchema,
  params: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  faults: faultsSchema,
  parent_run_id: z.string().nullable(),
  /** For a resumed run: the parent's checkpoint seq it continued after. */
  resumed_from_seq: z.number().int().nullable(),
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  error: z.string().nullable(),
  /** The node that failed or where the run was interrupted. */
  failed_node: z.string().nullable(),
  created_by: z.string(),
  created_at: isoTime,
  /** Why the run got its version: named by the caller, the active version, or a canary draw (with the share). */
  drawn_reason: z.string().nullable().optional(),
  /** Its judgment nodes' verdicts at the end, by output key (`{verdict: "warning"}`): health per version counts them. */
  verdicts: z.record(z.string(), z.string()).nullable().optional(),
  trigger: runTriggerSchema,
  /** The schedule tick a scheduled or backfill run stands for (UTC, ISO); null for the others. */
  logical_date: isoTime.nullable(),
  /**
   * Set when retention removed the run's checkpoints (`--retain-runs`): the run row, its status,
   * version, times and error stay; resume and replay are refused (RUN_PRUNED). Null otherwise; absent
   * from servers that predate retention.
   */
  pruned_at: isoTime.nullable().optional(),
  /** The retention window it was pruned after, as a person reads it ("90 days"): "checkpoints removed after 90 days". */
  pruned_after: z.string().nullable().optional(),
});
export type Run = z.infer<typeof runSchema>;

/** Where a page of the runs list ends: opaque to clients, handed back as `after` or `before`. */
export const runCursor = z.string().min(1).max(300);

/**
 * A page of the runs list. `total` counts every run the filter matches (kept by counters, so it costs
 * nothing at any size). `has_more`: more runs lie beyond this page in the direction read (older, or
 * newer when paging with `before`). `next_cursor` reads the older runs after this page (as `after`;
 * null at the end); `prev_cursor` the newer ones before it (as `before`; how a view asks for what
 * started since). Servers before cursors send only `runs` and `total`.
 */
export const runPageSchema = z.object({
  runs: z.array(runSchema),
  total: z.number().int(),
  has_more: z.boolean().optional(),
  next_cursor: runCursor.nullable().optional(),
  prev_cursor: runCursor.nullable().optional(),
});
export type RunPage = z.infer<typeof runPageSchema>;

export const checkpointSchema = z.object({
  run_id: id,
  seq: z.number().int().positive(),
  node_id: z.string(),
  /** succeeded: the node's output is in state; failed: state holds the error; restored: carried over from the parent run on resume. */
  status: z.enum(['succeeded', 'failed', 'restored']),
  /** `{output, context}`: the node's output and the run context after it. */
  state: z.unknown(),
  created_at: isoTime,
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

/**
 * One page of an archive export (`rewind archive --before DATE --out FILE`): finished runs whose
 * checkpoints are still there, oldest end first, each with its checkpoints (the states as every reader
 * sees them), and the workflows and versions they ran (unregistered ones too), so an archive reads
 * without the server. `next_cursor` continues after the page's last run; null on the last page.
 */
export const archivePageSchema = z.object({
  runs: z.array(z.object({ run: runSchema, checkpoints: z.array(checkpointSchema) })),
  workflows: z.array(workflowSchema),
  versions: z.array(workflowVersionSchema),
  next_cursor: z.string().nullable(),
});
export type ArchivePage = z.infer<typeof archivePageSchema>;

/** One row of the append-only, hash-chained event log: the audit log and the live stream at once. */
export const rewindEventSchema = z.object({
  seq: z.number().int().positive(),
  ts: isoTime,
  type: z.string(),
  workflow_id: z.string().nullable(),
  run_id: z.string().nullable(),
  actor: z.string(),
  payload: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});
export type RewindEvent = z.infer<typeof rewindEventSchema>;

/**
 * A page of the event log (`events:list`), with where the next one starts. Servers before these
 * cursors send `events` alone: a client then reads a short page as the last.
 */
export const eventPageSchema = z.object({
  events: z.array(rewindEventSchema),
  /** Newest-first pages (asked with `before`): the `before` of the next, older page; null when nothing older matches. */
  next_before: z.number().int().nullable().optional(),
  /** Oldest-first pages: the `after` of the next page; null when this one reached the head. */
  next_after: z.number().int().nullable().optional(),
});
export type EventPage = z.infer<typeof eventPageSchema>;

/** Structural diff between two DSLs. */
export const dslDiffSchema = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(
    z.object({
      node_id: z.string(),
      changes: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })),
    }),
  ),
  defaults_changed: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })),
  /** Declared run params that changed (`order_id.type`); absent from servers before declared params. */
  params_changed: z.array(z.object({ path: z.string(), before: z.unknown(), after: z.unknown() })).optional(),
  identical: z.boolean(),
});
export type DslDiff = z.infer<typeof dslDiffSchema>;

export const versionDiffSchema = z.object({
  workflow_id: id,
  from: workflowVersionSchema,
  to: workflowVersionSchema,
  diff: dslDiffSchema,
});
export type VersionDiff = z.infer<typeof versionDiffSchema>;

/** Whether a run's checkpoints can continue under a version: every completed node id must exist there. */
export const compatibilitySchema = z.object({
  run_id: id,
  version: z.number().int(),
  compatible: z.boolean(),
  completed_nodes: z.array(z.string()),
  missing_nodes: z.array(z.string()),
  /** The parent checkpoint seq a resume would continue after (null when nothing completed). */
  resume_after_seq: z.number().int().nullable(),
  reason: z.string(),
});
export type Compatibility = z.infer<typeof compatibilitySchema>;

/**
 * The target version's record, so a rollback onto a version that failed before is made with eyes
 * open: its finished runs and failure rate, and `bad` when that rate is above the threshold (seed
 * 003's 20 %) or a canary of it was aborted — then the console warns and asks for the version too.
 */
export const targetHealthSchema = z.object({
  runs: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  failure_rate: z.number(),
  threshold: z.number(),
  bad: z.boolean(),
  /** Why it is bad, in a sentence; null when it is not. */
  reason: z.string().nullable(),
});
export type TargetHealth = z.infer<typeof targetHealthSchema>;

/** "What happens if I roll back now?" */
export const rollbackPreviewSchema = z.object({
  workflow_id: id,
  workflow_name: z.string(),
  from_version: z.number().int().nullable(),
  to_version: z.number().int(),
  revision: z.number().int(),
  /** Null when the rollback would be refused; then `refusal` says why. */
  diff: dslDiffSchema.nullable(),
  refusal: z.object({ code: z.string(), message: z.string(), hint: z.string() }).nullable(),
  /** Queued or running runs on other versions: they finish on their pinned version unless cancelled. */
  in_flight: z.array(runSchema),
  /**
   * Failed or interrupted runs of the incident window (the last 24 hours, as the incident home counts
   * them) that no resume has followed, and whether each can resume under the target version. Runs an
   * aborted canary drew are left out: they were its experiment, not work to finish on another version.
   */
  resumable: z.array(z.object({ run: runSchema, compatibility: compatibilitySchema })),
  /** The target's record (absent from servers that predate it). */
  target_health: targetHealthSchema.optional(),
});
export type RollbackPreview = z.infer<typeof rollbackPreviewSchema>;

export const nodeOutcomeSchema = z.object({
  node_id: z.string(),
  before: z.object({ status: z.string(), output: z.unknown() }).nullable(),
  after: z.object({ status: z.string(), output: z.unknown() }).nullable(),
  changed: z.boolean(),
});
export type NodeOutcome = z.infer<typeof nodeOutcomeSchema>;

export const replayResultSchema = z.object({
  original: runSchema,
  replay: runSchema,
  outcomes: z.array(nodeOutcomeSchema),
  changed: z.number().int(),
});
export type ReplayResult = z.infer<typeof replayResultSchema>;

export const rollbackResultSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  workflow_id: id,
  version: z.number().int(),
  from_version: z.number().int().nullable(),
  seq: z.number().int(),
  revision: z.number().int(),
});
export type RollbackResult = z.infer<typeof rollbackResultSchema>;

export const chainStatusSchema = z.object({
  ok: z.boolean(),
  length: z.number().int(),
  head_hash: z.string(),
  first_broken_seq: z.number().int().nullable(),
  reason: z.string().nullable(),
});
export type ChainStatus = z.infer<typeof chainStatusSchema>;

/**
 * The chain as the server knows it now: verified at open (the events after its stored verified
 * head), as each event arrived, and by whole-chain walks (in the background, and on verify).
 * `verified_seq`: how far this server has walked the whole chain from the first event (it follows
 * the head once a walk has ended); absent from servers before it was added.
 */
export const chainKnownSchema = z.object({
  ok: z.boolean(),
  first_broken_seq: z.number().int().nullable(),
  reason: z.string().nullable(),
  verified_seq: z.number().int().nonnegative().optional(),
});

/**
 * The log's last link, and the chain as the server knows it: a console shows a red banner when
 * `chain.ok` is false, and remembers (seq, hash) to notice a log that lost its newest events.
 */
export const eventHeadSchema = z.object({
  seq: z.number().int().nonnegative(),
  hash: z.string(),
  chain: chainKnownSchema,
  /**
   * Whose log this is: the database's stable id, the same on every replica of a server (a snapshot
   * or another sandbox has its own). A console notifies once per server by it, however many of its
   * connections reach that server. Absent from servers that predate it.
   */
  server_id: z.string().optional(),
});
export type EventHead = z.infer<typeof eventHeadSchema>;

/** What a schedule does with ticks missed while nothing ran it: drop them, run the newest once, or run each. */
export const catchupSchema = z.enum(['skip', 'latest', 'all']);
export type Catchup = z.infer<typeof catchupSchema>;

/** A workflow's schedule as the scheduler sees it: the console shows its next fire times. */
export const scheduleInfoSchema = z.object({
  workflow_id: id,
  schedule: z.string().nullable(),
  catchup: catchupSchema,
  /** In-flight runs of the workflow beyond which a tick waits; null: no limit. */
  max_concurrent: z.number().int().nullable(),
  /** The next three fire times (UTC, ISO); empty without a schedule. */
  next: z.array(isoTime),
  /** Whether ticks fire now (false while the workflow is paused or overridden, or has no published version). */
  firing: z.boolean(),
  /** The newest tick claimed by a run (scheduled or backfilled), with its run. */
  last_fired: z.object({ logical_date: isoTime, run_id: z.string().nullable(), trigger: z.enum(['schedule', 'backfill']) }).nullable(),
});
export type ScheduleInfo = z.infer<typeof scheduleInfoSchema>;

/**
 * A backfill's answer: every tick of the schedule in [from, to); with `dry_run` nothing starts, else
 * `runs` holds the run started for each tick that had none (`already_run` lists those that had one).
 * Under `max_concurrent`, `runs` are the ones started now and `pending` the ticks claimed for this
 * backfill whose runs start as its earlier ones end (each once, whichever process ends a run).
 */
export const backfillResultSchema = z.object({
  workflow_id: id,
  dry_run: z.boolean(),
  ticks: z.array(isoTime),
  already_run: z.array(isoTime),
  runs: z.array(runSchema),
  /** Ticks claimed, their runs not started yet (only with `max_concurrent`); a server from before it sends none. */
  pending: z.array(isoTime).default([]),
  /** The backfill's limit on runs in flight; null: none. */
  max_concurrent: z.number().int().nullable().default(null),
});
export type BackfillResult = z.infer<typeof backfillResultSchema>;
