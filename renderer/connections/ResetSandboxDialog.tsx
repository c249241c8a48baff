import { useEffect } from 'react';
import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useSandboxReset } from '../store/sandbox-reset-store.js';
import { useUi } from '../store/ui-store.js';

/** "Reset sandbox to the demo": shows what is lost before asking, and where the old file is kept. */
export function ResetSandboxDialog() {
  const preview = useSandboxReset((s) => s.preview);
  const loading = useSandboxReset((s) => s.loading);
  const busy = useSandboxReset((s) => s.busy);
  const error = useSandboxReset((s) => s.error);
  useEffect(() => {
    void useSandboxReset.getState().loadPreview();
  }, []);
  const close = () => {
    useSandboxReset.getState().clear();
    useUi.getState().setConnectionDialog(null);
  };
  const confirm = async () => {
    if (await useSandboxReset.getState().reset()) close();
  };

  return (
    <Dialog title="Reset sandbox to the demo" onClose={close} returnFocus={connectionMenuButton} testId="reset-sandbox-dialog">
      {loading ? <Progress label="Reading the sandbox…" /> : null}
      {preview ? (
        <div className="form">
          <p>The local sandbox goes back to the demo workflows and runbooks. Everything in it now is replaced:</p>
          <ul data-testid="reset-sandbox-preview">
            <li>{preview.workflows} workflows with {preview.versions} versions</li>
            <li>{preview.runs} runs</li>
            <li>{preview.events} audit-log events</li>
            <li>
              {preview.runbooks} runbooks and {preview.rehearsals} rehearsal records
            </li>
          </ul>
          <p className="muted">
            A copy of the current sandbox is kept as <span className="mono">{preview.kept_as}</span> (replacing the copy of any earlier reset); open it with “Open sandbox file…”.
          </p>
          {busy ? <Progress label="Resetting…" /> : null}
          <div className="form-actions">
            <button type="button" className="btn" onClick={close}>
              Cancel
            </button>
            <button type="button" className="btn btn-warn" disabled={busy} onClick={() => void confirm()} data-autofocus data-testid="reset-sandbox-confirm">
              Reset to the demo
            </button>
          </div>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} testId="reset-sandbox-error" /> : null}
    </Dialog>
  );
}
