import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { selectSelectedConnection } from '../store/selectors.js';
import { useSignIn } from '../store/sign-in-store.js';
import { useUi } from '../store/ui-store.js';

/** Signs the selected server's connection in with SSO: the person's own browser, then back here. */
export function SignInDialog() {
  const connection = useConnections(selectSelectedConnection);
  const waiting = useSignIn((s) => s.waiting !== null);
  const error = useSignIn((s) => s.error);
  const close = () => {
    useSignIn.getState().clearError();
    useUi.getState().setConnectionDialog(null);
  };
  if (!connection || connection.kind !== 'remote') {
    return (
      <Dialog title="Sign in with SSO" onClose={close} returnFocus={connectionMenuButton} testId="sign-in-dialog">
        <p>The sandbox needs no sign-in. Switch to a workflow server first.</p>
      </Dialog>
    );
  }
  const signIn = async () => {
    if (await useSignIn.getState().signIn(connection.id)) close();
  };
  return (
    <Dialog title={`Sign in to ${connection.name}`} onClose={close} returnFocus={connectionMenuButton} testId="sign-in-dialog">
      <div className="form">
        <p className="muted">
          Your browser opens at the identity provider of <span className="mono">{connection.url}</span>; once you are signed in there, this console acts as you.
          {connection.sign_in === 'token' ? ' The connection’s token is forgotten.' : ''}
        </p>
        {error ? <ErrorNotice error={error} testId="sign-in-error" /> : null}
        {waiting ? <Progress label="Waiting for you to sign in in your browser…" testId="sign-in-waiting" /> : null}
        <div className="form-actions">
          {waiting ? (
            <button type="button" className="btn" onClick={() => void useSignIn.getState().cancel()} data-testid="sign-in-cancel">
              Cancel sign-in
            </button>
          ) : (
            <button type="button" className="btn" onClick={close}>
              Close
            </button>
          )}
          <button type="button" className="btn btn-primary" disabled={waiting} onClick={() => void signIn()} data-autofocus data-testid="sign-in-start">
            Sign in with SSO
          </button>
        </div>
      </div>
    </Dialog>
  );
}
