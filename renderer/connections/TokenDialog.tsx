import { useState, type FormEvent } from 'react';
import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { selectSelectedConnection } from '../store/selectors.js';
import { useUi } from '../store/ui-store.js';

/** Replaces a server's token; it goes to main (the OS keychain) and never comes back. */
export function TokenDialog() {
  const connection = useConnections(selectSelectedConnection);
  const busy = useConnections((s) => s.dialogBusy);
  const error = useConnections((s) => s.dialogError);
  const [token, setToken] = useState('');
  const close = () => {
    useConnections.getState().clearDialogError();
    useUi.getState().setConnectionDialog(null);
  };
  if (!connection || connection.kind !== 'remote') {
    return (
      <Dialog title="Replace token" onClose={close} returnFocus={connectionMenuButton} testId="token-dialog">
        <p>The sandbox needs no token. Switch to a workflow server first.</p>
      </Dialog>
    );
  }

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (await useConnections.getState().setToken(connection.id, token)) close();
  };

  return (
    <Dialog title={`Replace the token of ${connection.name}`} onClose={close} returnFocus={connectionMenuButton} testId="token-dialog">
      <form className="form" onSubmit={(e) => void onSubmit(e)}>
        <p className="muted">
          For <span className="mono">{connection.url}</span>. The old token is forgotten; the console reconnects with the new one.
        </p>
        <label>
          New token
          <input className="input" type="password" value={token} onChange={(e) => setToken(e.target.value)} required autoComplete="off" data-autofocus data-testid="token-input" />
        </label>
        {error ? <ErrorNotice error={error} testId="token-error" /> : null}
        {busy ? <Progress label="Checking the token…" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || token === ''} data-testid="token-submit">
            Replace token
          </button>
        </div>
      </form>
    </Dialog>
  );
}
