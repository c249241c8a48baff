import { useRef, type ChangeEvent, type KeyboardEvent } from 'react';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { downloadText, fileSafe } from '../shared/download.js';
import { guessFormat, useRunbooks, type RunbookFormat } from '../store/runbooks-store.js';
import { faultLocation } from './plan.js';

/** Download a stored runbook as YAML or JSON. */
export async function exportRunbook(id: string, name: string, format: RunbookFormat): Promise<void> {
  const text = await useRunbooks.getState().exportText(id, format);
  if (text !== null) downloadText(`${fileSafe(name)}.${format === 'yaml' ? 'yaml' : 'json'}`, text, format === 'yaml' ? 'application/yaml' : 'application/json');
}

/** YAML or JSON text, validated by the connection on save; a refusal names the step and field at fault. */
export function RunbookEditor() {
  const editor = useRunbooks((s) => s.editor);
  const runbooks = useRunbooks((s) => s.runbooks);
  const fileRef = useRef<HTMLInputElement>(null);
  const editing = runbooks.find((r) => r.id === editor.runbookId) ?? null;
  const fault = editor.error?.code === 'INVALID_RUNBOOK' ? faultLocation(editor.error) : null;

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    const text = await file.text();
    useRunbooks.getState().editNew(text, guessFormat(file.name, text));
    await useRunbooks.getState().importText();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Ctrl/Cmd+Enter or Ctrl/Cmd+S saves without leaving the keyboard.
    if ((e.ctrlKey || e.metaKey) && (e.key === 'Enter' || e.key.toLowerCase() === 's')) {
      e.preventDefault();
      void useRunbooks.getState().importText();
    }
  };

  return (
    <section className="runbook-editor" aria-label="Runbook editor" data-testid="runbook-editor">
      <div className="editor-toolbar">
        <strong>{editing ? `Editing ${editing.name}` : 'New runbook'}</strong>
        <label className="inline-label">
          Format
          <select
            className="input"
            value={editor.format}
            onChange={(e) => useRunbooks.getState().setFormat(e.target.value === 'json' ? 'json' : 'yaml')}
            data-testid="runbook-format"
          >
            <option value="yaml">YAML</option>
            <option value="json">JSON</option>
          </select>
        </label>
        <span className="topbar-spacer" />
        <input ref={fileRef} type="file" accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml" className="sr-only" tabIndex={-1} aria-label="Runbook file to import (YAML or JSON)" onChange={(e) => void onFile(e)} data-testid="runbook-file" />
        <button type="button" className="btn" onClick={() => fileRef.current?.click()} data-testid="runbook-import-file">
          Import file…
        </button>
        {editing ? (
          <>
            <button type="button" className="btn" onClick={() => void exportRunbook(editing.id, editing.name, 'yaml')} data-testid="runbook-export-yaml">
              Export YAML
            </button>
            <button type="button" className="btn" onClick={() => void exportRunbook(editing.id, editing.name, 'json')} data-testid="runbook-export-json">
              Export JSON
            </button>
          </>
        ) : null}
        <button type="button" className="btn btn-primary" disabled={editor.importing || editor.text.trim() === ''} onClick={() => void useRunbooks.getState().importText()} data-testid="runbook-import" aria-keyshortcuts="Control+Enter Control+S">
          Validate and save
        </button>
      </div>
      {editor.error ? (
        <div className="runbook-fault">
          {fault && (fault.step !== null || fault.field !== null) ? (
            <p className="fault-location" data-testid="runbook-error-location">
              At fault:{' '}
              {fault.step !== null ? (
                <strong data-testid="runbook-error-step">step {fault.step}</strong>
              ) : null}
              {fault.step !== null && fault.field !== null ? ' · ' : null}
              {fault.field !== null ? (
                <>
                  field <code data-testid="runbook-error-field">{fault.field}</code>
                </>
              ) : null}
            </p>
          ) : null}
          <ErrorNotice error={editor.error} testId="runbook-error" />
        </div>
      ) : null}
      {editor.saved ? (
        <p className="muted" role="status" data-testid="runbook-saved">
          Saved “{editor.saved}”.
        </p>
      ) : null}
      <label className="sr-only" htmlFor="runbook-text">
        Runbook text
      </label>
      <textarea
        id="runbook-text"
        className="input runbook-text mono"
        value={editor.text}
        onChange={(e) => useRunbooks.getState().setText(e.target.value)}
        onKeyDown={onKeyDown}
        spellCheck={false}
        autoComplete="off"
        placeholder="Paste a runbook in YAML or JSON, or import a file."
        aria-invalid={editor.error ? true : undefined}
        data-testid="runbook-text"
      />
    </section>
  );
}
