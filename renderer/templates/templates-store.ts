import { create } from 'zustand';
import type { RewindErrorData, TemplateParam, TemplateSummary, Workflow } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { useToasts } from '../store/toasts-store.js';
import { useUi } from '../store/ui-store.js';
import { useWorkflows } from '../store/workflows-store.js';

/*
 * "New workflow from template" (seed 002): the catalogue of the selected connection, the form's
 * values as typed (strings, and booleans for checkboxes), and the create call. The server judges the
 * values: its refusal names each parameter at fault, shown as it is.
 */

export type FieldValue = string | boolean;

export interface TemplatesState {
  open: boolean;
  templates: TemplateSummary[];
  loading: boolean;
  chosen: string | null;
  name: string;
  values: Record<string, FieldValue>;
  busy: boolean;
  error: RewindErrorData | null;
}

export const templatesInitialState: TemplatesState = { open: false, templates: [], loading: false, chosen: null, name: '', values: {}, busy: false, error: null };

interface TemplatesActions {
  show(): Promise<void>;
  hide(): void;
  choose(name: string): void;
  setName(name: string): void;
  setValue(param: string, value: FieldValue): void;
  create(): Promise<Workflow | null>;
}

/** A form field's starting value: the default, as the field shows it. */
function initialValue(p: TemplateParam): FieldValue {
  if (p.type === 'boolean') return p.default === true;
  return p.default === undefined ? '' : String(p.default);
}

/** The typed value of a field, or undefined when left empty (the default applies, or the server says it is required). */
export function typedValue(p: TemplateParam, raw: FieldValue): unknown {
  if (p.type === 'boolean') return raw === true;
  const text = String(raw);
  if (text.trim() === '') return undefined;
  if (p.type === 'string') return text;
  const n = Number(text);
  // What does not read as a number goes as typed: the server's refusal names the parameter.
  return Number.isFinite(n) ? n : text;
}

export const useTemplates = create<TemplatesState & TemplatesActions>()((set, get) => ({
  ...templatesInitialState,
  async show() {
    set({ ...templatesInitialState, open: true, loading: true });
    try {
      const { templates } = await unwrap(api().templates.list({}));
      set({ templates, loading: false });
      if (templates[0]) get().choose(templates[0].name);
    } catch (e) {
      set({ loading: false, error: toErrorData(e) });
    }
  },
  hide() {
    set({ open: false });
  },
  choose(name) {
    const t = get().templates.find((x) => x.name === name);
    if (!t) return;
    set({ chosen: name, values: Object.fromEntries(t.params.map((p) => [p.name, initialValue(p)])), error: null });
  },
  setName(name) {
    set({ name });
  },
  setValue(param, value) {
    set({ values: { ...get().values, [param]: value } });
  },
  async create() {
    const { chosen, templates, values, name } = get();
    const t = templates.find((x) => x.name === chosen);
    if (!t) return null;
    const params: Record<string, unknown> = {};
    for (const p of t.params) {
      const v = typedValue(p, values[p.name] ?? initialValue(p));
      if (v !== undefined) params[p.name] = v;
    }
    set({ busy: true, error: null });
    try {
      const wf = await unwrap(api().templates.instantiate({ template: t.name, name, params }));
      set({ busy: false, open: false });
      await useWorkflows.getState().load();
      useWorkflows.getState().select(wf.id);
      useUi.getState().setView('workflows');
      useToasts.getState().push({ kind: 'success', title: `Created ${wf.name}`, body: `From template ${t.title} v${t.version}; v${wf.active_version ?? 1} is active.` });
      return wf;
    } catch (e) {
      set({ busy: false, error: toErrorData(e) });
      return null;
    }
  },
}));
