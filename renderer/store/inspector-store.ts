import { create } from 'zustand';
import type { Checkpoint, Compatibility, Dsl, ReplayResult, RewindErrorData, RewindEvent, Run, VersionListItem, WaitingApproval } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { defaultResumeVersion, resumeChildren } from '../runs/resume-target.js';
import { focusWhenReady } from '../shared/focus.js';

/*
 * action: idle → busy → done | failed   (resume and replay each)
 */
export interface ResumeState {
  version: number | null;
  compat: Compatibility | null;
  compatLoading: boolean;
  busy: boolean;
  error: RewindErrorData | null;
}

export interface ReplayState {
  version: number | null;
  busy: boolean;
  error: RewindErrorData | null;
  result: ReplayResult | null;
}

/** The inspector's approval panel: the comment typed there (answering is the approval-answer store's). */
export interface ApprovalState {
  comment: string;
}

export interface InspectorState {
  runId: string | null;
  run: Run | null;
  checkpoints: Checkpoint[];
  /** The run's own events, oldest first: its start, any takeover by another replica, its end. */
  runEvents: RewindEvent[];
  /** The DSL of the version the run is pinned to: the DAG to draw. */
  dsl: Dsl | null;
  /** The workflow's versions, newest first, for the resume and replay pickers (without their DSL). */
  versions: VersionListItem[];
  /** The runs that resumed this one, newest first: a run resumed once is not offered for resume again. */
  resumedBy: Run[];
  selectedSeq: number | null;
  jsonQuery: string;
  loading: boolean;
  error: RewindErrorData | null;
  resume: ResumeState;
  replay: ReplayState;
  approval: ApprovalState;
  /** What a waiting run asks (its prompt, who asks, what it has done); null for any other run. */
  approvalRequest: WaitingApproval | null;
}

const approvalInitial: ApprovalState = { comment: '' };
const resumeInitial: ResumeState = { version: null, compat: null, compatLoading: false, busy: false, error: null };
const replayInitial: ReplayState = { version: null, busy: false, error: null, result: null };

export const inspectorInitialState: InspectorState = {
  runId: null,
  run: null,
  checkpoints: [],
  runEvents: [],
  dsl: null,
  versions: [],
  resumedBy: [],
  selectedSeq: null,
  jsonQuery: '',
  loading: false,
  error: null,
  resume: resumeInitial,
  replay: replayInitial,
  approval: approvalInitial,
  approvalRequest: null,
};

interface InspectorActions {
  open(runId: string): Promise<void>;
  close(): void;
  refresh(): Promise<void>;
  selectCheckpoint(seq: number | null): void;
  selectNode(nodeId: string): void;
  setJsonQuery(q: string): void;
  setResumeVersion(version: number): Promise<void>;
  /** `again`: resume a run that was resumed already, on purpose. */
  resumeRun(again?: boolean): Promise<Run | null>;
  clearResumeError(): void;
  setReplayVersion(version: number): void;
  replayRun(): Promise<void>;
  setApprovalComment(comment: string): void;
}

/** The runs resumed or replayed from the one inspected, newest first: far more than a run ever has. */
const CHILDREN_LIMIT = 50;

/** While a run is queued or running its checkpoints change under us: poll at this pace. */
export const POLL_MS = 500;
/**
 * A run's events: few (start, takeovers, approvals, end), so one page holds them. A server from
 * before the run filter refuses it: the inspector then shows the run without its timeline.
 */
const runEventsOf = async (run: Run): Promise<RewindEvent[]> => {
  try {
    return (await unwrap(api().events.list({ workflow_id: run.workflow_id, run_id: run.run_id, after: 0, limit: 1000 }))).events;
  } catch {
    return [];
  }
};

const isLive = (r: Run | null) => r !== null && (r.status === 'queued' || r.status === 'running' || r.status === 'waiting');

/** A waiting run's request; from a server that predates approvals:list, the run alone. */
const requestOf = async (run: Run): Promise<WaitingApproval | null> => {
  if (run.status !== 'waiting') return null;
  try {
    return (await unwrap(api().approvals.list({ run_id: run.run_id }))).approvals[0] ?? null;
  } catch {
    return { run, workflow_name: run.workflow_id, node_id: null, prompt: null, requested_at: null, timeout_ms: null, done: [], nodes_total: 0 };
  }
};

export const useInspector = create<InspectorState & InspectorActions>()((set, get) => {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const stopPolling = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const schedulePoll = () => {
    stopPolling();
    if (!isLive(get().run)) return;
    timer = setTimeout(() => void get().refresh(), POLL_MS);
  };

  return {
    ...inspectorInitialState,
    async open(runId) {
      stopPolling();
      set({ ...inspectorInitialState, runId, loading: true });
      try {
        const [run, { checkpoints }] = await Promise.all([unwrap(api().runs.get({ run_id: runId })), unwrap(api().checkpoints.list({ run_id: runId }))]);
        const [version, { versions }, { runs }, runEvents, approvalRequest] = await Promise.all([
          unwrap(api().versions.get({ workflow_id: run.workflow_id, version: run.version })),
          unwrap(api().versions.list({ workflow_id: run.workflow_id, limit: 500, include_dsl: false })),
          unwrap(api().runs.list({ parent_run_id: run.run_id, limit: CHILDREN_LIMIT })),
          runEventsOf(run),
          requestOf(run),
        ]);
        if (get().runId !== runId) return;
        const last = checkpoints[checkpoints.length - 1] ?? null;
        const target = defaultResumeVersion(run, versions);
        set({
          run,
          checkpoints,
          runEvents,
          dsl: version.dsl_definition,
          versions,
          resumedBy: resumeChildren(runId, runs),
          selectedSeq: last?.seq ?? null,
          loading: false,
          resume: { ...resumeInitial, version: target },
          replay: { ...replayInitial, version: target },
          approvalRequest,
        });
        schedulePoll();
        if ((run.status === 'failed' || run.status === 'interrupted' || run.status === 'denied') && get().resumedBy.length === 0) void get().setResumeVersion(target);
      } catch (e) {
        if (get().runId === runId) set({ loading: false, error: toErrorData(e) });
      }
    },
    close() {
      stopPolling();
      set(inspectorInitialState);
    },
    async refresh() {
      const runId = get().runId;
      if (!runId) return;
      try {
        const [run, { checkpoints }] = await Promise.all([unwrap(api().runs.get({ run_id: runId })), unwrap(api().checkpoints.list({ run_id: runId }))]);
        const [{ runs }, runEvents, approvalRequest] = await Promise.all([unwrap(api().runs.list({ parent_run_id: run.run_id, limit: CHILDREN_LIMIT })), runEventsOf(run), requestOf(run)]);
        if (get().runId !== runId) return;
        const prevLast = get().checkpoints[get().checkpoints.length - 1]?.seq ?? null;
        const followLast = get().selectedSeq === null || get().selectedSeq === prevLast;
        set({
          run,
          checkpoints,
          runEvents,
          approvalRequest,
          resumedBy: resumeChildren(runId, runs),
          selectedSeq: followLast ? (checkpoints[checkpoints.length - 1]?.seq ?? null) : get().selectedSeq,
        });
        schedulePoll();
      } catch (e) {
        set({ error: toErrorData(e) });
      }
    },
    selectCheckpoint(seq) {
      set({ selectedSeq: seq });
    },
    selectNode(nodeId) {
      const cps = get().checkpoints;
      for (let i = cps.length - 1; i >= 0; i--) {
        if (cps[i]!.node_id === nodeId) {
          set({ selectedSeq: cps[i]!.seq });
          return;
        }
      }
    },
    setJsonQuery(jsonQuery) {
      set({ jsonQuery });
    },
    async setResumeVersion(version) {
      const runId = get().runId;
      if (!runId) return;
      set({ resume: { ...get().resume, version, compat: null, compatLoading: true, error: null } });
      try {
        const compat = await unwrap(api().runs.compatibility({ run_id: runId, version }));
        if (get().runId === runId && get().resume.version === version) set({ resume: { ...get().resume, compat, compatLoading: false } });
      } catch (e) {
        set({ resume: { ...get().resume, compatLoading: false, error: toErrorData(e) } });
      }
    },
    async resumeRun(again = false) {
      const { runId, resume } = get();
      if (!runId || resume.version === null) return null;
      set({ resume: { ...resume, busy: true, error: null } });
      try {
        const child = await unwrap(api().runs.resume({ run_id: runId, version: resume.version, ...(again ? { again: true } : {}) }));
        // The operator's next question is "does the child succeed?": show it at once.
        await get().open(child.run_id);
        focusWhenReady('[data-testid="inspector-title"]');
        return child;
      } catch (e) {
        const error = toErrorData(e);
        set({ resume: { ...get().resume, busy: false, error } });
        // Resumed meanwhile (another operator, another window): show that child instead of the offer.
        if (error.code === 'ALREADY_RESUMED') void get().refresh();
        return null;
      }
    },
    clearResumeError() {
      set({ resume: { ...get().resume, error: null } });
    },
    setReplayVersion(version) {
      set({ replay: { ...get().replay, version, result: null, error: null } });
    },
    setApprovalComment(comment) {
      set({ approval: { ...get().approval, comment } });
    },
    async replayRun() {
      const { runId, replay } = get();
      if (!runId || replay.version === null) return;
      set({ replay: { ...replay, busy: true, error: null, result: null } });
      try {
        const result = await unwrap(api().runs.replay({ run_id: runId, version: replay.version }));
        set({ replay: { ...get().replay, busy: false, result } });
      } catch (e) {
        set({ replay: { ...get().replay, busy: false, error: toErrorData(e) } });
      }
    },
  };
});
