import { type FormEvent, useId } from 'react';
import type { TemplateParam } from '../../preload/contract/index.js';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { type FieldValue, useTemplates } from './templates-store.js';

/** One form field per template parameter, built from its schema: type, required, default, description. */
function ParamField({ param, value, onChange }: { param: TemplateParam; value: FieldValue; onChange: (v: FieldValue) => void }) {
  const helpId = useId();
  const label = (
    <span>
      {param.name}
      {param.required ? <span aria-hidden="true"> *</span> : null} <span className="muted">({param.type})</span>
    </span>
  );
  const help = param.description ? (
    <span id={helpId} className="muted">
      {param.description}
    </span>
  ) : null;
  if (param.type === 'boolean') {
    return (
      <label className="checkbox-field">
        <span>
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={help ? helpId : undefined} data-testid={`template-param-${param.name}`} />{' '}
          {label}
        </span>
        {help}
      </label>
    );
  }
  return (
    <label>
      {label}
      <input
        className="input"
        type={param.type === 'string' ? 'text' : 'number'}
        step={param.type === 'integer' ? 1 : 'any'}
        value={String(value)}
        required={param.required}
        aria-required={param.required}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={help ? helpId : undefined}
        data-testid={`template-param-${param.name}`}
      />
      {help}
    </label>
  );
}

/** "New workflow from template": pick a template, name the workflow, fill its parameters, create. */
export function NewFromTemplateDialog() {
  const open = useTemplates((s) => s.open);
  const templates = useTemplates((s) => s.templates);
  const chosen = useTemplates((s) => s.chosen);
  const name = useTemplates((s) => s.name);
  const values = useTemplates((s) => s.values);
  const loading = useTemplates((s) => s.loading);
  const busy = useTemplates((s) => s.busy);
  const error = useTemplates((s) => s.error);
  if (!open) return null;
  const { hide, choose, setName, setValue, create } = useTemplates.getState();
  const template = templates.find((t) => t.name === chosen) ?? null;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void create();
  };

  return (
    <Dialog title="New workflow from template" onClose={hide} testId="template-dialog" wide>
      {loading ? <Progress label="Loading templates…" /> : null}
      {!loading && templates.length === 0 && !error ? <p className="muted">This connection offers no templates.</p> : null}
      {template ? (
        // The server judges the values (its refusal names every parameter at fault), not the browser.
        <form className="form" onSubmit={onSubmit} noValidate>
          <label>
            Template
            <select className="input" value={template.name} onChange={(e) => choose(e.target.value)} data-testid="template-select">
              {templates.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.title} (v{t.version})
                </option>
              ))}
            </select>
          </label>
          <p className="muted" data-testid="template-description">
            {template.description}
          </p>
          <label>
            Workflow name
            <input className="input" value={name} onChange={(e) => setName(e.target.value)} required data-autofocus data-testid="template-workflow-name" />
          </label>
          <fieldset className="form template-params" data-testid="template-params">
            <legend>Parameters</legend>
            {template.params.map((p) => (
              <ParamField key={`${template.name}:${p.name}`} param={p} value={values[p.name] ?? ''} onChange={(v) => setValue(p.name, v)} />
            ))}
          </fieldset>
          {error ? <ErrorNotice error={error} testId="template-error" /> : null}
          {busy ? <Progress label="Creating…" /> : null}
          <div className="form-actions">
            <button type="button" className="btn" onClick={hide}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy} data-testid="template-create">
              Create workflow
            </button>
          </div>
        </form>
      ) : error ? (
        <ErrorNotice error={error} testId="template-error" />
      ) : null}
    </Dialog>
  );
}
