import { z } from 'zod';
import { safeName, safeText } from './names.js';
import {
  archivePageSchema,
  backfillResultSchema,
  catchupSchema,
  chainStatusSchema,
  checkpointSchema,
  compatibilitySchema,
  dslSchema,
  eventHeadSchema,
  eventPageSchema,
  faultsSchema,
  replayResultSchema,
  rollbackPreviewSchema,
  rollbackResultSchema,
  runCursor,
  runPageSchema,
  runSchema,
  runStatusSchema,
  scheduleInfoSchema,
  sourceTypeSchema,
  templateSchema,
  templateSummarySchema,
  unregisterResultSchema,
  versionDiffSchema,
  versionPageSchema,
  workflowSchema,
  workflowVersionSchema,
} from './entities.js';
import { canarySpecSchema, workflowHealthSchema } from './canary.js';
import { incidentSummarySchema } from './incidents.js';
import { incidentPageSchema, incidentRecordSchema, incidentReportSchema, rollbackPlanSchema } from './incident-records.js';
import { changesSchema } from './changes.js';
import { approvalListSchema } from './approvals.js';
import { actionResultSchema, reviewAnswerSchema, reviewListSchema, reviewSchema } from './reviews.js';
import { rehearsalRecordSchema, runbookSchema, storedRehearsalSchema, storedRunbookSchema } from './runbooks.js';
import { deliveryStateSchema, webhookCreateInputSchema, webhookDeliverySchema, webhookSchema } from './webhooks.js';

/*
 * The operations every backend serves — the in-process sandbox and a workflow server alike.
 * Each is declared once here: its channel name, its input schema and its output schema. The
 * sandbox, the server's routes, the remote client, IPC and the preload bridge all derive from this.
 */

const workflowId = z.string().min(1).max(200);
const versionNumber = z.number().int().positive();
const runId = z.string().min(1).max(200);
const reviewId = z.string().min(1).max(200);
const incidentId = z.string().min(1).max(200);
/** The workflow revision the caller based a mutation on; a stale one is refused (412). Optional, as origin clients send none. */
const expectedRevision = z.number().int().nonnegative().optional();
const params = z.record(z.string(), z.unknown());
/** A template of the catalogue, by name. */
const templateName = z.string().min(1).max(200);
/** A runbook by id or by name. */
const runbookRef = z.string().min(1).max(200);

/** A comma-separated list of event type names. */
const eventTypeList = z
  .string()
  .max(2000)
  .regex(/^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*){0,49}$/, { message: 'give event types as a comma-separated list of names, e.g. run_failed,run_interrupted' });
/** A moment: ISO 8601 with a zone (`2026-12-01T09:00:00Z`, `…+02:00`). */
const isoInstant = z.iso.datetime({ offset: true });
/**
 * A past moment a read answers as of (issue 22): an event seq, or an RFC 3339 time meaning the last
 * event at or before it. A query string carries both as text, so the seq is a string of digits here.
 */
const moment = z.union([z.string().regex(/^\d{1,15}$/), isoInstant], { error: 'a moment is an event seq (e.g. 48211) or an RFC 3339 time with a zone (e.g. 2026-12-01T03:12:05Z)' });
const asOf = z
  .union([z.string().regex(/^\d{1,15}$/), isoInstant], { error: 'as_of is an event seq (e.g. 48211) or an RFC 3339 time with a zone (e.g. 2026-12-01T03:12:05Z)' })
  .optional();
/** The seq an as-of read answered as of (absent from a read of now); the server also sends it as X-Rewind-As-Of. */
const asOfSeq = { as_of_seq: z.number().int().nonnegative().optional() };

/** The least role that may call a method on a workflow server (viewer < operator < admin). */
export type Role = 'viewer' | 'operator' | 'admin';
/**
 * The method's REST route on a workflow server. `:name` segments come from input fields of that name;
 * for GET the other fields travel as the query string, otherwise as the JSON body. `expected_revision`
 * travels as the `If-Match` header.
 */
export interface HttpRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: `/api/v1/${string}`;
  /** The success status when it is not 200 (201: the call created something). */
  status?: 201;
  /** A server started with --require-review may answer 202 with a review request instead of acting. */
  reviewable?: true;
}

const method = <I extends z.ZodType, O extends z.ZodType>(
  input: I,
  output: O,
  meta: { http: HttpRoute; role: Role; mutates: boolean; summary: string },
) => ({
  input,
  output,
  ...meta,
});

/** An ISO-8601 time (2026-09-01, or with a time and zone). */
const isoDateOrTime = z.string().max(40).refine((t) => /^\d{4}-\d{2}-\d{2}/.test(t) && Number.isFinite(Date.parse(t)), { message: 'must be an ISO date or time, e.g. 2026-09-01 or 2026-09-01T00:00:00Z' });
/** A workflow read, with the seq it was answered as of when the read named one. */
const workflowAsOfSchema = workflowSchema.extend(asOfSeq);

const BACKFILL_LIMIT_ERROR = 'max_concurrent must be a whole number from 1 to 1000 (runs of this backfill in flight at once)';

export const backendMethods = {
  'workflows:list': method(
    z.strictObject({ query: z.string().max(200).optional(), as_of: asOf }),
    z.object({ workflows: z.array(workflowSchema), total: z.number().int(), ...asOfSeq }),
    { http: { method: 'GET', path: '/api/v1/workflows' }, role: 'viewer', mutates: false, summary: 'List workflows, optionally filtered by a name search.' },
  ),
  'workflows:get': method(z.strictObject({ workflow_id: workflowId, as_of: asOf }), workflowAsOfSchema, {
    http: { method: 'GET', path: '/api/v1/workflows/:workflow_id' }, role: 'viewer', mutates: false,
    summary: 'Read one workflow with its active version and revision.',
  }),
  'workflows:create': method(
    z.strictObject({
      name: safeName(z.string().trim().min(1).max(200)),
      description: safeText(z.string().max(5000)).default(''),
      dsl: dslSchema.optional(),
      schedule: z.string().max(200).nullable().optional(),
      source_type: sourceTypeSchema.default('MANUAL'),
      change_log: safeText(z.string().max(5000)).optional(),
    }),
    workflowSchema,
    { http: { method: 'POST', path: '/api/v1/workflows' }, role: 'admin', mutates: true, summary: 'Create a workflow; with a DSL, version 1 is published at once.' },
  ),
  'workflows:clone': method(
    z.strictObject({ workflow_id: workflowId, name: safeName(z.string().trim().min(1).max(200)).optional() }),
    workflowSchema,
    { http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/clone' }, role: 'admin', mutates: true, summary: "Clone: the active definition becomes a new workflow's version 1." },
  ),
  'workflows:pause': method(
    z.strictObject({ workflow_id: workflowId, expected_revision: expectedRevision }),
    workflowSchema,
    { http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/pause' }, role: 'operator', mutates: true, summary: 'Pause: no new runs start.' },
  ),
  'workflows:unpause': method(
    z.strictObject({ workflow_id: workflowId, expected_revision: expectedRevision }),
    workflowSchema,
    { http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/unpause' }, role: 'operator', mutates: true, summary: 'Unpause; refused for a MANUAL workflow a CODE one overrides.' },
  ),
  'workflows:setSchedule': method(
    z.strictObject({
      workflow_id: workflowId,
      schedule: z.string().max(200).nullable(),
      /** Ticks missed while nothing ran the schedule (downtime): skip them, run the newest once, or run each. Absent: unchanged (skip at first). */
      catchup: catchupSchema.optional(),
      /** At most this many runs of the workflow in flight; a tick beyond waits for one to end. null: no limit. Absent: unchanged. */
      max_concurrent: z.number().int().positive().max(1000).nullable().optional(),
      expected_revision: expectedRevision,
    }),
    workflowSchema,
    {
      http: { method: 'PUT', path: '/api/v1/workflows/:workflow_id/schedule' },
      role: 'admin',
      mutates: true,
      summary: 'Set or clear the cron schedule (five fields, or six with leading seconds, or a @macro), its catch-up policy and concurrency limit.',
    },
  ),
  'schedules:get': method(z.strictObject({ workflow_id: workflowId }), scheduleInfoSchema, {
    http: { method: 'GET', path: '/api/v1/workflows/:workflow_id/schedule' },
    role: 'viewer',
    mutates: false,
    summary: "A workflow's schedule: its next three fire times, catch-up policy, limit, and the last tick fired.",
  }),
  'schedules:backfill': method(
    z.strictObject({
      workflow_id: workflowId,
      /** The range's start, inclusive (ISO date or time). */
      from: z.string().min(1).max(64),
      /** The range's end, exclusive. */
      to: z.string().min(1).max(64),
      dry_run: z.boolean().default(false),
      /** More than 1000 ticks are refused unless this allows them (at most 100000). */
      max_ticks: z.number().int().positive().max(100_000).optional(),
      /**
       * At most this many of the backfill's runs in flight: every tick is claimed now, the first N start,
       * each of the others when one of its runs ends. Absent: all start at once.
       */
      max_concurrent: z
        .number({ error: BACKFILL_LIMIT_ERROR })
        .int({ error: BACKFILL_LIMIT_ERROR })
        .min(1, { error: 'max_concurrent must be at least 1: a backfill needs one run in flight to make progress' })
        .max(1000, { error: 'max_concurrent must be at most 1000; leave it out to start every run at once' })
        .optional(),
    }),
    backfillResultSchema,
    {
      http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/backfill' },
      role: 'operator',
      mutates: true,
      summary:
        'A run (trigger "backfill") for each tick of the schedule in [from, to) that has none; `dry_run` lists the ticks and starts nothing; `max_concurrent` (1–1000) starts that many at once, the rest as they end.',
    },
  ),
  'workflows:unregister': method(
    z.strictObject({ workflow_id: workflowId, cancel_running: z.boolean().default(false), expected_revision: expectedRevision }),
    unregisterResultSchema,
    {
      http: { method: 'DELETE', path: '/api/v1/workflows/:workflow_id' },
      role: 'admin',
      mutates: true,
      summary: 'Unregister: the workflow leaves every list (its versions, runs and events stay); refused while runs are in flight unless cancel_running. A CODE one gives control back to the MANUAL one it overrode.',
    },
  ),
  'templates:list': method(z.strictObject({}), z.object({ templates: z.array(templateSummarySchema) }), {
    http: { method: 'GET', path: '/api/v1/templates' },
    role: 'viewer',
    mutates: false,
    summary: 'The workflow templates (seed 002), each with its parameter schema.',
  }),
  'templates:get': method(z.strictObject({ template: templateName }), templateSchema, {
    http: { method: 'GET', path: '/api/v1/templates/:template' },
    role: 'viewer',
    mutates: false,
    summary: 'One template with its parameterized DSL.',
  }),
  'templates:instantiate': method(
    z.strictObject({
      template: templateName,
      /** The new workflow's name. */
      name: safeName(z.string().trim().min(1).max(200)),
      description: safeText(z.string().max(5000)).optional(),
      params: params.default({}),
    }),
    workflowSchema,
    {
      http: { method: 'POST', path: '/api/v1/templates/:template/workflows' },
      role: 'admin',
      mutates: true,
      summary: 'Create a workflow from a template and its parameter values; it records the template and its version.',
    },
  ),
  'versions:list': method(
    z.strictObject({
      workflow_id: workflowId,
      offset: z.number().int().nonnegative().default(0),
      limit: z.number().int().positive().max(100000).default(100000),
      /**
       * Whether each item carries its DSL. The origin clients read it, so absent means true; the
       * console always asks with false and fetches a DSL when a version is opened or diffed.
       */
      include_dsl: z.boolean().optional(),
      as_of: asOf,
    }),
    versionPageSchema.extend(asOfSeq),
    {
      http: { method: 'GET', path: '/api/v1/workflows/:workflow_id/versions' },
      role: 'viewer',
      mutates: false,
      summary: 'Versions of a workflow, newest first, in pages of at most 1 MB (next_offset says where the next page starts).',
    },
  ),
  'versions:get': method(z.strictObject({ workflow_id: workflowId, version: versionNumber }), workflowVersionSchema, {
    http: { method: 'GET', path: '/api/v1/workflows/:workflow_id/versions/:version' }, role: 'viewer', mutates: false,
    summary: 'One version with its DSL.',
  }),
  'versions:createDraft': method(
    z.strictObject({
      workflow_id: workflowId,
      dsl: dslSchema.optional(),
      change_log: safeText(z.string().max(5000)).default(''),
      expected_revision: expectedRevision,
    }),
    workflowVersionSchema,
    { http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/versions' }, role: 'admin', mutates: true, summary: 'New draft from a DSL, or a snapshot of the active definition.' },
  ),
  'versions:publish': method(
    z.strictObject({
      workflow_id: workflowId,
      version: versionNumber,
      expected_revision: expectedRevision,
      /** Publish as a canary: the stable version stays active and a share of new runs draws this one. */
      canary: canarySpecSchema.optional(),
    }),
    actionResultSchema,
    {
      http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/versions/:version/publish', reviewable: true },
      role: 'admin',
      mutates: true,
      summary:
        'Publish a draft: it becomes active, the old active is deprecated. With `canary`, it takes a share of new runs under a policy that rolls it back by itself. On a server started with --require-review publish, a review request instead (202).',
    },
  ),
  'versions:rollback': method(
    z.strictObject({ workflow_id: workflowId, version: versionNumber, expected_revision: expectedRevision }),
    actionResultSchema,
    {
      http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/versions/:version/rollback', reviewable: true },
      role: 'operator',
      mutates: true,
      summary: 'Roll back to an earlier published version (on a server that reviews rollbacks, a review request: 202).',
    },
  ),
  'versions:archive': method(
    z.strictObject({ workflow_id: workflowId, version: versionNumber, expected_revision: expectedRevision }),
    workflowVersionSchema,
    { http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/versions/:version/archive' }, role: 'admin', mutates: true, summary: 'Archive a version that is not active.' },
  ),
  'versions:diff': method(
    z.strictObject({ workflow_id: workflowId, from: versionNumber, to: versionNumber }),
    versionDiffSchema,
    { http: { method: 'GET', path: '/api/v1/workflows/:workflow_id/versions/:from/diff/:to' }, role: 'viewer', mutates: false, summary: 'Structural DSL diff between two versions.' },
  ),
  'versions:rollbackPreview': method(
    z.strictObject({ workflow_id: workflowId, version: versionNumber }),
    rollbackPreviewSchema,
    { http: { method: 'GET', path: '/api/v1/workflows/:workflow_id/versions/:version/rollback-preview' }, role: 'viewer', mutates: false, summary: 'What a rollback would do now: diff, in-flight runs, resumable runs.' },
  ),
  'runs:start': method(
    z.strictObject({
      workflow_id: workflowId,
      version: versionNumber.optional(),
      params: params.default({}),
      seed: z.number().int().optional(),
      faults: faultsSchema.default({}),
      wait: z.boolean().default(false),
      /** Who asks: an operator through Rewind (manual) or another REST client (api, what the server assumes when absent). */
      trigger: z.enum(['manual', 'api']).optional(),
    }),
    runSchema,
    { http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/runs' }, role: 'operator', mutates: true, summary: 'Start a run on the active (or a given) version; `wait` answers once it ends.' },
  ),
  'runs:list': method(
    z.strictObject({
      workflow_id: workflowId.optional(),
      status: runStatusSchema.optional(),
      /** The runs resumed or replayed from this one: the run inspector's "resumed as", without reading the workflow's runs. */
      parent_run_id: runId.optional(),
      /** Skips this many runs: kept for older clients; its cost grows with the offset, so page with `after` instead. */
      offset: z.number().int().nonnegative().default(0),
      limit: z.number().int().positive().max(10000).default(500),
      /** A `next_cursor` from an earlier answer: the runs after it in the list (older), newest first. */
      after: runCursor.optional(),
      /** A `prev_cursor` from an earlier answer: the `limit` runs just before it in the list (newer), newest first. */
      before: runCursor.optional(),
      as_of: asOf,
    }),
    runPageSchema.extend(asOfSeq),
    {
      http: { method: 'GET', path: '/api/v1/runs' },
      role: 'viewer',
      mutates: false,
      summary: 'Runs, newest first, filtered by workflow, status and parent run; page with the after/before cursors (keyset, index-backed at any depth).',
    },
  ),
  'runs:get': method(z.strictObject({ run_id: runId, as_of: asOf }), runSchema.extend(asOfSeq), { http: { method: 'GET', path: '/api/v1/runs/:run_id' }, role: 'viewer', mutates: false, summary: 'One run.' }),
  'runs:compatibility': method(
    z.strictObject({ run_id: runId, version: versionNumber }),
    compatibilitySchema,
    { http: { method: 'GET', path: '/api/v1/runs/:run_id/compatibility/:version' }, role: 'viewer', mutates: false, summary: "Can this run's checkpoints continue under that version?" },
  ),
  'runs:resume': method(
    z.strictObject({
      run_id: runId,
      version: versionNumber.optional(),
      faults: faultsSchema.default({}),
      wait: z.boolean().default(false),
      /** A run resumes once (a second resume is refused with ALREADY_RESUMED); true resumes it again on purpose. Absent: false. */
      again: z.boolean().optional(),
    }),
    runSchema,
    { http: { method: 'POST', path: '/api/v1/runs/:run_id/resume' }, role: 'operator', mutates: true, summary: 'Resume a failed or interrupted run after its last good checkpoint, as a child run.' },
  ),
  'runs:replay': method(
    z.strictObject({ run_id: runId, version: versionNumber }),
    replayResultSchema,
    { http: { method: 'POST', path: '/api/v1/runs/:run_id/replay' }, role: 'operator', mutates: true, summary: "Re-run a finished run's input under another version and diff the outcomes." },
  ),
  'runs:cancel': method(z.strictObject({ run_id: runId }), runSchema, {
    http: { method: 'POST', path: '/api/v1/runs/:run_id/cancel' }, role: 'operator', mutates: true,
    summary: 'Cancel a queued or running run.',
  }),
  'runs:approve': method(
    z.strictObject({ run_id: runId, decision: z.enum(['approve', 'deny']), comment: safeText(z.string().max(2000)).optional() }),
    runSchema,
    {
      http: { method: 'POST', path: '/api/v1/runs/:run_id/approve' },
      role: 'operator',
      mutates: true,
      summary:
        'Answer the approval a waiting run asks for: approve lets it continue; deny ends it `denied` (an outcome, not a failure), logged as approval_denied.',
    },
  ),
  'approvals:list': method(
    z.strictObject({
      workflow_id: workflowId.optional(),
      run_id: runId.optional(),
      limit: z.number().int().positive().max(1000).default(100),
    }),
    approvalListSchema,
    {
      http: { method: 'GET', path: '/api/v1/approvals' },
      role: 'viewer',
      mutates: false,
      summary: 'Runs waiting at an approval node, oldest request first, each with its prompt, who asks (run, version, trigger) and what it has done so far.',
    },
  ),
  'checkpoints:list': method(z.strictObject({ run_id: runId }), z.object({ checkpoints: z.array(checkpointSchema) }), {
    http: { method: 'GET', path: '/api/v1/runs/:run_id/checkpoints' }, role: 'viewer', mutates: false,
    summary: 'Every checkpoint of a run, in order.',
  }),
  'checkpoints:get': method(z.strictObject({ run_id: runId, seq: z.number().int().positive() }), checkpointSchema, {
    http: { method: 'GET', path: '/api/v1/runs/:run_id/checkpoints/:seq' }, role: 'viewer', mutates: false,
    summary: 'One checkpoint with its state.',
  }),
  'runs:archive': method(
    z.strictObject({
      /** Runs that ended before this time (ISO) … */
      before: isoDateOrTime,
      /** … and at or after this one, when given. */
      after: isoDateOrTime.optional(),
      /** Where the previous page ended (its `next_cursor`). */
      cursor: z.string().max(300).optional(),
      limit: z.number().int().positive().max(500).default(50),
    }),
    archivePageSchema,
    {
      http: { method: 'GET', path: '/api/v1/archive/runs' },
      role: 'viewer',
      mutates: false,
      summary: 'A page of finished runs not pruned yet that ended in a time range, with their checkpoints and the workflows and versions they ran: what `rewind archive` exports before retention prunes them.',
    },
  ),
  'events:list': method(
    z.strictObject({
      /** Only events after this seq, oldest first: the catch-up's and the origin clients' cursor. */
      after: z.number().int().nonnegative().default(0),
      /**
       * Only events before this seq, newest first: the audit log's keyset cursor as it pages back from
       * the head (pass the head's seq + 1 for the newest page, then each answer's `next_before`).
       */
      before: z.number().int().positive().optional(),
      limit: z.number().int().positive().max(10000).default(1000),
      workflow_id: workflowId.optional(),
      /** One run's events (its start, takeovers, end): the run inspector's timeline. Give workflow_id too, so the index serves it. */
      run_id: runId.optional(),
      /** Events of any of these types, comma-separated (`run_failed,run_interrupted`). */
      type: eventTypeList.optional(),
      /** Events this actor caused (exactly as recorded: a person, a token's name, `scheduler`, `policy:canary`…). */
      actor: z.string().min(1).max(200).optional(),
      /** Events recorded at or after this time (ISO 8601). */
      since: isoInstant.optional(),
      /** Events recorded before this time (ISO 8601). */
      until: isoInstant.optional(),
    }),
    eventPageSchema,
    {
      http: { method: 'GET', path: '/api/v1/events' },
      role: 'viewer',
      mutates: false,
      summary:
        'A page of the event log: after a seq oldest first, or before a seq newest first; filtered by workflow, run, type, actor and time. Each answer says where the next page starts (next_after or next_before; null: no more).',
    },
  ),
  'events:head': method(z.strictObject({}), eventHeadSchema, {
    http: { method: 'GET', path: '/api/v1/events/head' },
    role: 'viewer',
    mutates: false,
    summary: "The log's last seq and hash (where a live view starts, what a snapshot and a console check it still extends), and whether the chain verified when the log was opened.",
  }),
  'events:verify': method(z.strictObject({}), chainStatusSchema, {
    http: { method: 'GET', path: '/api/v1/events/verify' }, role: 'viewer', mutates: false,
    summary: "Verify the event log's hash chain; reports the first broken link.",
  }),
  'runbooks:list': method(z.strictObject({}), z.object({ runbooks: z.array(storedRunbookSchema) }), {
    http: { method: 'GET', path: '/api/v1/runbooks' },
    role: 'viewer',
    mutates: false,
    summary: "The connection's runbooks.",
  }),
  'runbooks:get': method(z.strictObject({ runbook: runbookRef }), storedRunbookSchema, {
    http: { method: 'GET', path: '/api/v1/runbooks/:runbook' },
    role: 'viewer',
    mutates: false,
    summary: 'One runbook, by id or name.',
  }),
  'runbooks:save': method(z.strictObject({ runbook: runbookSchema }), storedRunbookSchema, {
    http: { method: 'PUT', path: '/api/v1/runbooks' },
    role: 'admin',
    mutates: true,
    summary: 'Create a runbook, or replace the one of the same name.',
  }),
  'runbooks:import': method(
    z.strictObject({ text: z.string().max(1_000_000), format: z.enum(['yaml', 'json']) }),
    storedRunbookSchema,
    {
      http: { method: 'POST', path: '/api/v1/runbooks/import' },
      role: 'admin',
      mutates: true,
      summary: 'Import a YAML or JSON runbook; a bad file is refused with the step and field at fault.',
    },
  ),
  'runbooks:export': method(
    z.strictObject({ runbook: runbookRef, format: z.enum(['yaml', 'json']).default('yaml') }),
    z.object({ text: z.string(), format: z.enum(['yaml', 'json']) }),
    { http: { method: 'GET', path: '/api/v1/runbooks/:runbook/export' }, role: 'viewer', mutates: false, summary: 'A runbook as YAML or JSON.' },
  ),
  'runbooks:delete': method(z.strictObject({ runbook: runbookRef }), z.object({ deleted: z.boolean() }), {
    http: { method: 'DELETE', path: '/api/v1/runbooks/:runbook' },
    role: 'admin',
    mutates: true,
    summary: 'Delete a runbook and its rehearsal history.',
  }),
  'rehearsals:list': method(
    z.strictObject({ runbook: runbookRef, limit: z.number().int().positive().max(1000).default(100) }),
    z.object({ rehearsals: z.array(storedRehearsalSchema) }),
    { http: { method: 'GET', path: '/api/v1/runbooks/:runbook/rehearsals' }, role: 'viewer', mutates: false, summary: "A runbook's rehearsals, newest first." },
  ),
  'rehearsals:get': method(z.strictObject({ rehearsal_id: z.string().min(1).max(200) }), storedRehearsalSchema, {
    http: { method: 'GET', path: '/api/v1/rehearsals/:rehearsal_id' },
    role: 'viewer',
    mutates: false,
    summary: 'One rehearsal with its step timings.',
  }),
  'rehearsals:record': method(z.strictObject({ runbook: runbookRef, record: rehearsalRecordSchema }), storedRehearsalSchema, {
    http: { method: 'POST', path: '/api/v1/runbooks/:runbook/rehearsals' },
    role: 'operator',
    mutates: true,
    summary: 'Keep the record of a finished rehearsal or live execution.',
  }),
  'rehearsals:report': method(z.strictObject({ rehearsal_id: z.string().min(1).max(200) }), z.object({ markdown: z.string() }), {
    http: { method: 'GET', path: '/api/v1/rehearsals/:rehearsal_id/report' },
    role: 'viewer',
    mutates: false,
    summary: "A rehearsal's post-incident report (seed 003's template), as Markdown.",
  }),
  'canary:promote': method(
    z.strictObject({ workflow_id: workflowId, expected_revision: expectedRevision }),
    actionResultSchema,
    {
      http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/canary/promote', reviewable: true },
      role: 'operator',
      mutates: true,
      summary: 'Promote the running canary: it becomes the active version, the stable one is deprecated. On a server started with --require-review promote, a review request instead (202).',
    },
  ),
  'canary:abort': method(
    z.strictObject({ workflow_id: workflowId, reason: safeText(z.string().max(500)).optional(), expected_revision: expectedRevision }),
    rollbackResultSchema,
    {
      http: { method: 'POST', path: '/api/v1/workflows/:workflow_id/canary/abort' },
      role: 'operator',
      mutates: true,
      summary: 'Abort the running canary: the workflow rolls back to the stable version and no new run draws the canary.',
    },
  ),
  'workflows:health': method(
    z.strictObject({ workflow_id: workflowId, since: z.iso.datetime({ offset: true }).optional() }),
    workflowHealthSchema,
    {
      http: { method: 'GET', path: '/api/v1/workflows/:workflow_id/health' },
      role: 'viewer',
      mutates: false,
      summary: 'Health per version over finished runs (since a time, or all): runs, failures, failure rate, p50/p95 duration, verdicts.',
    },
  ),
  'changes:list': method(
    z.strictObject({ from: moment, to: moment, workflow_id: workflowId.optional() }),
    changesSchema,
    {
      http: { method: 'GET', path: '/api/v1/changes' },
      role: 'viewer',
      mutates: false,
      summary: 'What changed between two moments (each a seq or an RFC 3339 time), per workflow: active version before and after, publishes, rollbacks, pauses, schedule and canary changes, runs started, failed and succeeded.',
    },
  ),
  'incidents:summary': method(z.strictObject({ as_of: asOf }), incidentSummarySchema.extend(asOfSeq), {
    http: { method: 'GET', path: '/api/v1/incidents' },
    role: 'viewer',
    mutates: false,
    summary: 'What is wrong now, worst first: failing workflows with their bad and last good versions, recent rollbacks.',
  }),
  'incidents:records': method(
    z.strictObject({
      status: z.enum(['open', 'resolved', 'all']).default('all'),
      workflow_id: workflowId.optional(),
      /** The `next_before` of the previous page: records opened before that event. */
      before: z.number().int().positive().optional(),
      limit: z.number().int().positive().max(500).default(50),
    }),
    incidentPageSchema,
    {
      http: { method: 'GET', path: '/api/v1/incidents/records' },
      role: 'viewer',
      mutates: false,
      summary: 'Incident records, newest first (paged with `before`): opened when the home’s failing rule fired, with who acknowledged, mitigated and resolved them and the times from the first failure.',
    },
  ),
  'incidents:record': method(z.strictObject({ incident_id: incidentId }), incidentRecordSchema, {
    http: { method: 'GET', path: '/api/v1/incidents/records/:incident_id' },
    role: 'viewer',
    mutates: false,
    summary: 'One incident record with its times.',
  }),
  'incidents:acknowledge': method(z.strictObject({ incident_id: incidentId }), incidentRecordSchema, {
    http: { method: 'POST', path: '/api/v1/incidents/records/:incident_id/acknowledge' },
    role: 'operator',
    mutates: true,
    summary: "A person's \"I'm on it\" (incident_acknowledged). Acknowledged already: the record is answered unchanged, naming who did.",
  }),
  'incidents:resolve': method(z.strictObject({ incident_id: incidentId, note: safeText(z.string().max(2000)).optional() }), incidentRecordSchema, {
    http: { method: 'POST', path: '/api/v1/incidents/records/:incident_id/resolve' },
    role: 'operator',
    mutates: true,
    summary: 'A person closes the incident (incident_resolved with their note); one resolved already is refused (INCIDENT_RESOLVED).',
  }),
  'incidents:report': method(z.strictObject({ incident_id: incidentId }), incidentReportSchema, {
    http: { method: 'GET', path: '/api/v1/incidents/records/:incident_id/report' },
    role: 'viewer',
    mutates: false,
    summary: "The incident's post-incident report (seed 003's template) as Markdown, every field the log knows filled, with the fields people wrote.",
  }),
  'incidents:saveReport': method(
    z.strictObject({
      incident_id: incidentId,
      root_cause: safeText(z.string().max(20000)).optional(),
      prevention: safeText(z.string().max(20000)).optional(),
      lessons: safeText(z.string().max(20000)).optional(),
      rollback_plan: safeText(z.string().max(50000)).optional(),
      /** The report revision the edit was based on (`If-Match`): a stale one is refused (412 with the current report). */
      expected_revision: z.number().int().nonnegative(),
    }),
    incidentReportSchema,
    {
      http: { method: 'PUT', path: '/api/v1/incidents/records/:incident_id/report' },
      role: 'operator',
      mutates: true,
      summary: "Save the report's human fields (root cause, prevention, lessons) and the attached rollback plan; fields left out keep their text (incident_report_saved).",
    },
  ),
  'incidents:rollbackPlan': method(z.strictObject({ incident_id: incidentId, to_version: z.number().int().positive().optional() }), rollbackPlanSchema, {
    http: { method: 'GET', path: '/api/v1/incidents/records/:incident_id/rollback-plan' },
    role: 'viewer',
    mutates: false,
    summary: "Seed 003's rollback plan for the incident, filled from the rollback preview (runs in flight, checkpoint compatibility, resumable runs): to the last good version unless `to_version` names another.",
  }),
  'webhooks:create': method(webhookCreateInputSchema, webhookSchema, {
    http: { method: 'POST', path: '/api/v1/webhooks', status: 201 },
    role: 'admin',
    mutates: true,
    summary: 'Add a webhook: matching events are POSTed to the URL, signed with the secret (which is never returned).',
  }),
  'webhooks:list': method(z.strictObject({}), z.object({ webhooks: z.array(webhookSchema) }), {
    http: { method: 'GET', path: '/api/v1/webhooks' },
    role: 'admin',
    mutates: false,
    summary: 'The live webhooks, with their pending and dead-lettered delivery counts.',
  }),
  'webhooks:delete': method(z.strictObject({ webhook_id: z.string().min(1).max(200) }), z.object({ id: z.string(), deleted: z.boolean(), cancelled: z.number().int() }), {
    http: { method: 'DELETE', path: '/api/v1/webhooks/:webhook_id' },
    role: 'admin',
    mutates: true,
    summary: 'Delete a webhook; its pending deliveries are cancelled, its delivery log is kept.',
  }),
  'webhooks:deliveries': method(
    z.strictObject({
      webhook_id: z.string().min(1).max(200),
      state: deliveryStateSchema.optional(),
      limit: z.number().int().positive().max(1000).default(100),
    }),
    z.object({ deliveries: z.array(webhookDeliverySchema) }),
    {
      http: { method: 'GET', path: '/api/v1/webhooks/:webhook_id/deliveries' },
      role: 'admin',
      mutates: false,
      summary: "A webhook's deliveries, newest first: state, attempts, the receiver's last status and why it failed.",
    },
  ),
  'reviews:list': method(
    z.strictObject({
      /** pending: those waiting for an answer (expired ones drop out); all: every request, newest first. */
      status: z.enum(['pending', 'all']).default('pending'),
      limit: z.number().int().positive().max(1000).default(100),
    }),
    reviewListSchema,
    {
      http: { method: 'GET', path: '/api/v1/reviews' },
      role: 'viewer',
      mutates: false,
      summary: 'Review requests (--require-review): the pending ones, oldest first, or all of them, newest first, each with who asked, what and until when.',
    },
  ),
  'reviews:get': method(z.strictObject({ review_id: reviewId }), reviewSchema, {
    http: { method: 'GET', path: '/api/v1/reviews/:review_id' },
    role: 'viewer',
    mutates: false,
    summary: 'One review request and its answer.',
  }),
  'reviews:approve': method(z.strictObject({ review_id: reviewId, note: safeText(z.string().max(2000)).optional() }), reviewAnswerSchema, {
    http: { method: 'POST', path: '/api/v1/reviews/:review_id/approve' },
    role: 'operator',
    mutates: true,
    summary:
      "Approve a pending review request: the action runs now as the requester's, the approver recorded (review_answered). Needs the role the action needs, and another person than the requester (SELF_REVIEW).",
  }),
  'reviews:decline': method(z.strictObject({ review_id: reviewId, note: safeText(z.string().max(2000)).optional() }), reviewAnswerSchema, {
    http: { method: 'POST', path: '/api/v1/reviews/:review_id/decline' },
    role: 'operator',
    mutates: true,
    summary: 'Decline a pending review request: nothing happens to the workflow (review_answered). The requester may decline, i.e. withdraw, their own.',
  }),
} as const;

export type BackendMethods = typeof backendMethods;
export type BackendMethod = keyof BackendMethods;
/** What a caller passes (defaults optional). */
export type MethodInput<M extends BackendMethod> = z.input<BackendMethods[M]['input']>;
/** What a handler receives after parsing (defaults applied). */
export type ParsedInput<M extends BackendMethod> = z.output<BackendMethods[M]['input']>;
export type MethodOutput<M extends BackendMethod> = z.output<BackendMethods[M]['output']>;
export const backendMethodNames = Object.keys(backendMethods) as BackendMethod[];
