import { create } from 'zustand';
import type { IncidentRecord, IncidentReport, IncidentReportFields, RewindErrorData, RollbackPlan } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { downloadText } from '../shared/download.js';

/*
 * Incident records beside the home's summary: the open record of each failing workflow (what the
 * card shows: who is on it, the times so far), the report being read or edited, and the rollback
 * plan. A server that predates records answers an error; the cards then simply show no record.
 */

type HumanFields = Pick<IncidentReportFields, 'root_cause' | 'prevention' | 'lessons'>;

export interface IncidentRecordsState {
  /** Open records by workflow id (one open incident per workflow). */
  open: Record<string, IncidentRecord>;
  acknowledging: string | null;
  actionError: { incidentId: string; error: RewindErrorData } | null;
  /** The report dialog. */
  reportId: string | null;
  report: IncidentReport | null;
  draft: HumanFields | null;
  reportLoading: boolean;
  reportSaving: boolean;
  reportError: RewindErrorData | null;
  reportSaved: { path: string | null } | null;
  /** The rollback plan dialog. */
  plan: RollbackPlan | null;
  planLoading: string | null;
  planError: RewindErrorData | null;
  planAttached: boolean;
}

export const incidentRecordsInitialState: IncidentRecordsState = {
  open: {},
  acknowledging: null,
  actionError: null,
  reportId: null,
  report: null,
  draft: null,
  reportLoading: false,
  reportSaving: false,
  reportError: null,
  reportSaved: null,
  plan: null,
  planLoading: null,
  planError: null,
  planAttached: false,
};

interface IncidentRecordsActions {
  load(): Promise<void>;
  acknowledge(incidentId: string): Promise<void>;
  openReport(incidentId: string): Promise<void>;
  closeReport(): void;
  edit(field: keyof HumanFields, text: string): void;
  /** Saves the human fields over the revision read; a stale one is refused and shown, the draft kept. */
  saveFields(): Promise<void>;
  exportReport(fileName: string): Promise<void>;
  openPlan(incidentId: string): Promise<void>;
  closePlan(): void;
  /** Attaches the plan to the incident's report (a report save over its current revision). */
  attachPlan(): Promise<void>;
}

const humanFields = (r: IncidentReport): HumanFields => ({ root_cause: r.fields.root_cause, prevention: r.fields.prevention, lessons: r.fields.lessons });

export const useIncidentRecords = create<IncidentRecordsState & IncidentRecordsActions>()((set, get) => ({
  ...incidentRecordsInitialState,
  async load() {
    try {
      const { records } = await unwrap(api().incidents.records({ status: 'open', limit: 500 }));
      set({ open: Object.fromEntries(records.map((r) => [r.workflow_id, r])) });
    } catch {
      set({ open: {} });
    }
  },
  async acknowledge(incidentId) {
    set({ acknowledging: incidentId, actionError: null });
    try {
      const record = await unwrap(api().incidents.acknowledge({ incident_id: incidentId }));
      set((s) => ({ acknowledging: null, open: { ...s.open, [record.workflow_id]: record } }));
    } catch (e) {
      set({ acknowledging: null, actionError: { incidentId, error: toErrorData(e) } });
    }
  },
  async openReport(incidentId) {
    set({ reportId: incidentId, report: null, draft: null, reportLoading: true, reportError: null, reportSaved: null });
    try {
      const report = await unwrap(api().incidents.report({ incident_id: incidentId }));
      if (get().reportId === incidentId) set({ report, draft: humanFields(report), reportLoading: false });
    } catch (e) {
      if (get().reportId === incidentId) set({ reportLoading: false, reportError: toErrorData(e) });
    }
  },
  closeReport() {
    set({ reportId: null, report: null, draft: null, reportLoading: false, reportSaving: false, reportError: null, reportSaved: null });
  },
  edit(field, text) {
    const draft = get().draft;
    if (draft) set({ draft: { ...draft, [field]: text } });
  },
  async saveFields() {
    const { report, draft } = get();
    if (!report || !draft) return;
    set({ reportSaving: true, reportError: null });
    try {
      const saved = await unwrap(api().incidents.saveReport({ incident_id: report.incident_id, ...draft, expected_revision: report.revision }));
      set({ report: saved, draft: humanFields(saved), reportSaving: false });
    } catch (e) {
      set({ reportSaving: false, reportError: toErrorData(e) });
    }
  },
  async exportReport(fileName) {
    const markdown = get().report?.markdown;
    if (markdown === undefined) return;
    set({ reportSaved: null, reportError: null });
    try {
      const result = await unwrap(api().files.saveText({ file_name: fileName, text: markdown }));
      // Browser mode has no save dialog: the page saves it as a download.
      if (result.download) downloadText(fileName, markdown, 'text/markdown');
      if (result.saved || result.download) set({ reportSaved: { path: result.path } });
    } catch (e) {
      set({ reportError: toErrorData(e) });
    }
  },
  async openPlan(incidentId) {
    set({ plan: null, planLoading: incidentId, planError: null, planAttached: false });
    try {
      const plan = await unwrap(api().incidents.rollbackPlan({ incident_id: incidentId }));
      if (get().planLoading === incidentId) set({ plan, planLoading: null });
    } catch (e) {
      if (get().planLoading === incidentId) set({ planLoading: null, planError: toErrorData(e) });
    }
  },
  closePlan() {
    set({ plan: null, planLoading: null, planError: null, planAttached: false });
  },
  async attachPlan() {
    const plan = get().plan;
    if (!plan) return;
    set({ planError: null });
    try {
      const current = await unwrap(api().incidents.report({ incident_id: plan.incident_id }));
      await unwrap(api().incidents.saveReport({ incident_id: plan.incident_id, rollback_plan: plan.markdown, expected_revision: current.revision }));
      set({ planAttached: true });
    } catch (e) {
      set({ planError: toErrorData(e) });
    }
  },
}));
