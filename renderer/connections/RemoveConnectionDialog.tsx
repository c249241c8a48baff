import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { useConnections } from '../store/connections-store.js';
import { selectSelectedConnection } from '../store/selectors.js';
import { useUi } from '../store/ui-store.js';

/** Removing a connection asks first: a server's token is deleted from the keychain; a sandbox file stays on disk. */
export function RemoveConnectionDialog() {
  const connection = useConnections(selectSelectedConnection);
  const error = useConnections((s) => s.error);
  const close = () => useUi.getState().setConnectionDialog(null);
  if (!connection || connection.id === 'sandbox') {
    return (
      <Dialog title="Remove connection" onClose={close} returnFocus={connectionMenuButton} testId="remove-connection-dialog">
        <p>The local sandbox is always there; pick a server or an opened sandbox file to remove.</p>
      </Dialog>
    );
  }
  const remove = async () => {
    await useConnections.getState().remove(connection.id);
    if (!useConnections.getState().connections.some((c) => c.id === connection.id)) close();
  };
  return (
    <Dialog title={`Remove ${connection.name}?`} onClose={close} returnFocus={connectionMenuButton} testId="remove-connection-dialog">
      <div className="form">
        <p>
          {connection.kind === 'remote'
            ? `The console forgets ${connection.url} and deletes its token from the keychain. The server itself is not changed.`
            : `The console forgets ${connection.url}; the file stays where it is.`}
        </p>
        {error ? <ErrorNotice error={error} testId="remove-connection-error" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="button" className="btn btn-warn" onClick={() => void remove()} data-autofocus data-testid="remove-connection-confirm">
            Remove
          </button>
        </div>
      </div>
    </Dialog>
  );
}
