import { type FormEvent, useId } from 'react';
import type { ParamDeclaration } from '../../preload/contract/index.js';
import { openRun } from '../home/incident-actions.js';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { type FieldValue, useRunParams } from './run-params-store.js';

/** One field per declared run param: a checkbox for a boolean, JSON text for an object or array, else a text or number field. */
function ParamField({ name, declaration, value, first, onChange }: { name: string; declaration: ParamDeclaration; value: FieldValue; first: boolean; onChange: (v: FieldValue) => void }) {
  const helpId = useId();
  const required = declaration.required === true;
  const label = (
    <span>
      {name}
      {required ? <span aria-hidden="true"> *</span> : null} <span className="muted">({declaration.type})</span>
    </span>
  );
  const help = declaration.description ? (
    <span id={helpId} className="muted">
      {declaration.description}
    </span>
  ) : null;
  const testId = `run-param-${name}`;
  // The first field takes focus when the form opens: the operator types at once.
  const autofocus = first ? { 'data-autofocus': true } : {};
  if (declaration.type === 'boolean') {
    return (
      <label className="checkbox-field">
        <span>
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={help ? helpId : undefined} data-testid={testId} {...autofocus} /> {label}
        </span>
        {help}
      </label>
    );
  }
  const numeric = declaration.type === 'integer' || declaration.type === 'number';
  return (
    <label>
      {label}
      <input
        className="input"
        type={numeric ? 'number' : 'text'}
        step={declaration.type === 'integer' ? 1 : 'any'}
        value={String(value)}
        placeholder={declaration.type === 'object' ? '{"key": "value"}' : declaration.type === 'array' ? '["a", "b"]' : undefined}
        required={required}
        aria-required={required}
        onChange={(e) => onChange(e.target.value)}
        aria-describedby={help ? helpId : undefined}
        data-testid={testId}
        {...autofocus}
      />
      {help}
    </label>
  );
}

/** "Run now" on a workflow whose active version declares run params: fill them, then start. */
export function RunParamsDialog() {
  const open = useRunParams((s) => s.open);
  const workflowName = useRunParams((s) => s.workflowName);
  const version = useRunParams((s) => s.version);
  const params = useRunParams((s) => s.params);
  const values = useRunParams((s) => s.values);
  const busy = useRunParams((s) => s.busy);
  const error = useRunParams((s) => s.error);
  if (!open) return null;
  const { hide, setValue, start } = useRunParams.getState();

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void start().then((run) => {
      if (run) openRun(run.run_id);
    });
  };

  return (
    <Dialog title={`Run ${workflowName} (v${version ?? '—'})`} onClose={hide} testId="run-params-dialog">
      {/* The server judges the values (its refusal names the param and what to send), not the browser. */}
      <form className="form" onSubmit={onSubmit} noValidate>
        <fieldset className="form template-params" data-testid="run-params">
          <legend>Parameters</legend>
          {params.map((p, i) => (
            <ParamField key={p.name} name={p.name} declaration={p.declaration} value={values[p.name] ?? ''} first={i === 0} onChange={(v) => setValue(p.name, v)} />
          ))}
        </fieldset>
        {error ? <ErrorNotice error={error} focusOnMount testId="run-params-error" /> : null}
        {busy ? <Progress label="Starting…" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={hide}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="run-params-start">
            Start run
          </button>
        </div>
      </form>
    </Dialog>
  );
}
