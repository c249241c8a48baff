import { useState, type FormEvent } from 'react';
import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { useUi } from '../store/ui-store.js';

/** Opens any sandbox file (a rehearsal copy, a snapshot) or run archive (read-only) as a connection and switches to it. */
export function OpenSandboxDialog() {
  const busy = useConnections((s) => s.dialogBusy);
  const error = useConnections((s) => s.dialogError);
  const sandboxPath = useConnections((s) => s.connections.find((c) => c.kind === 'sandbox')?.url ?? '');
  const [path, setPath] = useState(() => sandboxPath.replace(/[^/\\]*$/, ''));
  const close = () => {
    useConnections.getState().clearDialogError();
    useUi.getState().setConnectionDialog(null);
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (await useConnections.getState().openSandbox(path.trim())) close();
  };

  return (
    <Dialog title="Open a sandbox file" onClose={close} returnFocus={connectionMenuButton} testId="open-sandbox-dialog">
      <form className="form" onSubmit={(e) => void onSubmit(e)}>
        <label>
          Path of the sandbox file (.db) or run archive (.ndjson.gz)
          <input className="input mono" value={path} onChange={(e) => setPath(e.target.value)} required spellCheck={false} data-autofocus data-testid="open-sandbox-path" />
        </label>
        {error ? <ErrorNotice error={error} testId="open-sandbox-error" /> : null}
        {busy ? <Progress label="Opening…" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || path.trim() === ''} data-testid="open-sandbox-submit">
            Open and switch
          </button>
        </div>
      </form>
    </Dialog>
  );
}
