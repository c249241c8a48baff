import { z } from 'zod';
import { isoTime } from './entities.js';

/*
 * Incidents as records (issue 22 items 4–6): opened by the engine when the incident home's failing
 * rule fires for a workflow, and timed from the first failure through acknowledge, mitigate and
 * resolve — the MTTR the seeds promise, measured by the product. Every field comes from the
 * incident_* events, so the log alone rebuilds a record (a snapshot does).
 */

export const incidentStatusSchema = z.enum(['open', 'resolved']);
export type IncidentStatus = z.infer<typeof incidentStatusSchema>;

/** What stopped new failures: a rollback (a person's or `policy:<name>`), a pause, or a cancel no failure followed. */
export const mitigationActionSchema = z.enum(['rollback', 'pause', 'cancel']);
export type MitigationAction = z.infer<typeof mitigationActionSchema>;

/** One step of the record: who, when, and the event that says so. */
const stepSchema = z.object({ by: z.string(), at: isoTime, seq: z.number().int().positive() });

export const incidentRecordSchema = z.object({
  incident_id: z.string(),
  workflow_id: z.string(),
  workflow_name: z.string(),
  /** The version whose failures opened it. */
  version: z.number().int().positive(),
  status: incidentStatusSchema,
  /** Opened by a rehearsal's scenario: shown, but kept out of the figures (metrics, MTTR). */
  rehearsal: z.boolean(),
  opened_at: isoTime,
  opened_seq: z.number().int().positive(),
  /** The first open failure of the version that opened it: every time below counts from here. */
  first_failure_at: isoTime,
  first_run_id: z.string().nullable(),
  acknowledged: stepSchema.nullable(),
  /** `seq` is the mitigating action's event (the rollback, pause or cancel). */
  mitigated: stepSchema.extend({ action: mitigationActionSchema }).nullable(),
  resolved: stepSchema.extend({ note: z.string().nullable() }).nullable(),
  /** Seconds from the first failure; null until it happened. */
  time_to_acknowledge_s: z.number().nonnegative().nullable(),
  time_to_mitigate_s: z.number().nonnegative().nullable(),
  time_to_resolve_s: z.number().nonnegative().nullable(),
  /** The report's revision: a `PUT …/report` states it, and a stale one is refused. */
  report_revision: z.number().int().nonnegative(),
});
export type IncidentRecord = z.infer<typeof incidentRecordSchema>;

export const incidentPageSchema = z.object({
  records: z.array(incidentRecordSchema),
  /** Pass as `before` for the next (older) page; null on the last one. */
  next_before: z.number().int().nullable(),
});
export type IncidentPage = z.infer<typeof incidentPageSchema>;

/** The report's fields only people know (seed 003's root cause, prevention, lessons) and the rollback plan attached to it. */
export const incidentReportFieldsSchema = z.object({
  root_cause: z.string().max(20000).default(''),
  prevention: z.string().max(20000).default(''),
  lessons: z.string().max(20000).default(''),
  /** Seed 003's rollback plan as Markdown, attached from "Plan the rollback". */
  rollback_plan: z.string().max(50000).default(''),
});
export type IncidentReportFields = z.infer<typeof incidentReportFieldsSchema>;

export const incidentReportSchema = z.object({
  incident_id: z.string(),
  /** Seed 003's post-incident report, every field the log knows filled. */
  markdown: z.string(),
  fields: incidentReportFieldsSchema,
  revision: z.number().int().nonnegative(),
  /** Who last edited the human fields, and when (null before the first edit). */
  edited_by: z.string().nullable(),
  edited_at: isoTime.nullable(),
});
export type IncidentReport = z.infer<typeof incidentReportSchema>;

/** Seed 003's rollback plan (롤백 계획서), filled from the rollback preview and the incident. */
export const rollbackPlanSchema = z.object({
  incident_id: z.string(),
  workflow_id: z.string(),
  current_version: z.number().int().nullable(),
  target_version: z.number().int().nullable(),
  markdown: z.string(),
});
export type RollbackPlan = z.infer<typeof rollbackPlanSchema>;
