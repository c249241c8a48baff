import { create } from 'zustand';
import type { ParamDeclaration, ParamType, RewindErrorData, Run } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useToasts } from '../store/toasts-store.js';
import { useWorkflows } from '../store/workflows-store.js';

/*
 * "Run now" on a workflow whose active version declares run params: a form built from the
 * declarations (type, required, default, description), then the start. The server judges the
 * values: its refusal (unknown, mistyped, missing, reserved) is shown in the form with its hint.
 * A version that declares none starts at once, as before.
 */

export type FieldValue = string | boolean;

export interface RunParamsState {
  open: boolean;
  workflowId: string | null;
  workflowName: string;
  version: number | null;
  params: Array<{ name: string; declaration: ParamDeclaration }>;
  values: Record<string, FieldValue>;
  busy: boolean;
  error: RewindErrorData | null;
}

export const runParamsInitialState: RunParamsState = { open: false, workflowId: null, workflowName: '', version: null, params: [], values: {}, busy: false, error: null };

interface RunParamsActions {
  /** Opens the form when the workflow's active version declares params; false when it declares none (start it directly). */
  askIfDeclared(workflowId: string): Promise<boolean>;
  hide(): void;
  setValue(param: string, value: FieldValue): void;
  /** Starts the run with the form's values; the run, or null when it was refused (the error shows in the form). */
  start(): Promise<Run | null>;
}

function initialValue(d: ParamDeclaration): FieldValue {
  if (d.type === 'boolean') return d.default === true;
  if (d.default === undefined) return '';
  return d.type === 'object' || d.type === 'array' ? JSON.stringify(d.default) : String(d.default);
}

/** A field's value as its type reads it; undefined when left empty (its default applies, or the server names it missing). */
export function typedParam(type: ParamType, raw: FieldValue): unknown {
  if (type === 'boolean') return raw === true;
  const text = String(raw);
  if (text.trim() === '') return undefined;
  if (type === 'string') return text;
  if (type === 'integer' || type === 'number') {
    const n = Number(text);
    // What does not read as its type goes as typed: the server's refusal names the param and the type.
    return Number.isFinite(n) ? n : text;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export const useRunParams = create<RunParamsState & RunParamsActions>()((set, get) => ({
  ...runParamsInitialState,
  async askIfDeclared(workflowId) {
    const wf = useWorkflows.getState().workflows.find((w) => w.id === workflowId);
    if (!wf || wf.active_version === null) return false;
    let declared: Record<string, ParamDeclaration>;
    try {
      declared = (await unwrap(api().versions.get({ workflow_id: workflowId, version: wf.active_version }))).dsl_definition.params ?? {};
    } catch {
      // The start itself will say what is wrong.
      return false;
    }
    const params = Object.entries(declared).map(([name, declaration]) => ({ name, declaration }));
    if (params.length === 0) return false;
    set({
      ...runParamsInitialState,
      open: true,
      workflowId,
      workflowName: wf.name,
      version: wf.active_version,
      params,
      values: Object.fromEntries(params.map((p) => [p.name, initialValue(p.declaration)])),
    });
    return true;
  },
  hide() {
    set({ open: false });
  },
  setValue(param, value) {
    set({ values: { ...get().values, [param]: value } });
  },
  async start() {
    const { workflowId, workflowName, params, values } = get();
    if (!workflowId) return null;
    const typed: Record<string, unknown> = {};
    for (const p of params) {
      const v = typedParam(p.declaration.type, values[p.name] ?? initialValue(p.declaration));
      if (v !== undefined) typed[p.name] = v;
    }
    set({ busy: true, error: null });
    try {
      const run = await unwrap(api().runs.start({ workflow_id: workflowId, params: typed, trigger: 'manual' }));
      set({ busy: false, open: false });
      useToasts.getState().push({ kind: 'success', title: `Started a run of ${workflowName} on v${run.version}`, body: run.drawn_reason ? `${run.run_id} · ${run.drawn_reason}` : run.run_id });
      return run;
    } catch (e) {
      set({ busy: false, error: toErrorData(e) });
      return null;
    }
  },
}));
