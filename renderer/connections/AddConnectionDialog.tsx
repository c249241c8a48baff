import { useEffect, useState, type FormEvent } from 'react';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { useSignIn } from '../store/sign-in-store.js';
import { useUi } from '../store/ui-store.js';

/** While the URL is typed, the server is asked how people sign in (once typing pauses). */
const PROBE_AFTER_MS = 350;

/**
 * Adds a workflow server: with SSO when the server offers it (the person signs in at their identity
 * provider), or with an API token, which goes to main (the OS keychain) and never comes back.
 */
export function AddConnectionDialog() {
  const close = () => {
    useSignIn.getState().clearError();
    useUi.getState().setAddConnectionOpen(false);
  };
  const add = useConnections((s) => s.add);
  const select = useConnections((s) => s.select);
  const adding = useConnections((s) => s.adding);
  const addError = useConnections((s) => s.addError);
  const offered = useSignIn((s) => s.offered);
  const probedUrl = useSignIn((s) => s.probedUrl);
  const waiting = useSignIn((s) => s.waiting?.kind === 'add');
  const signInError = useSignIn((s) => s.error);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('http://127.0.0.1:');
  const [environment, setEnvironment] = useState<'staging' | 'production'>('staging');
  const [token, setToken] = useState('');

  useEffect(() => {
    if (!/^https?:\/\/[^/:]+(:\d+)?(\/.*)?$/.test(url) || /:$/.test(url)) return;
    const timer = setTimeout(() => void useSignIn.getState().probe(url), PROBE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [url]);
  const sso = probedUrl === url && offered?.oidc ? offered.oidc : null;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const info = await add({ name, url, environment, token });
    if (!info) return;
    close();
    await select(info.id);
  };
  const onSso = async () => {
    const info = await useSignIn.getState().addSso({ name, url, environment });
    // Browser mode has left for the provider by now; the desktop is back, signed in.
    if (!info) return;
    close();
    await select(info.id);
  };

  return (
    <Dialog title="Add a workflow server" onClose={close} testId="add-connection">
      <form className="form" onSubmit={(e) => void onSubmit(e)}>
        <label>
          Name
          <input className="input" value={name} onChange={(e) => setName(e.target.value)} required data-autofocus data-testid="add-connection-name" />
        </label>
        <label>
          URL
          <input className="input" value={url} onChange={(e) => setUrl(e.target.value)} required data-testid="add-connection-url" />
        </label>
        <label>
          Environment
          <select className="input" value={environment} onChange={(e) => setEnvironment(e.target.value === 'production' ? 'production' : 'staging')} data-testid="add-connection-env">
            <option value="staging">staging</option>
            <option value="production">production</option>
          </select>
        </label>
        {sso ? (
          <div className="sso-offer" data-testid="add-connection-sso-offer">
            <button type="button" className="btn btn-primary" disabled={waiting || name.trim() === ''} onClick={() => void onSso()} data-testid="add-connection-sso">
              Sign in with SSO
            </button>
            <span className="muted">
              through <span className="mono">{sso.issuer}</span>; or use an API token below
            </span>
          </div>
        ) : null}
        <label>
          {sso ? 'API token (automation)' : 'Token'}
          <input className="input" type="password" value={token} onChange={(e) => setToken(e.target.value)} required={!sso} autoComplete="off" data-testid="add-connection-token" />
        </label>
        {addError ? <ErrorNotice error={addError} testId="add-connection-error" /> : null}
        {signInError ? <ErrorNotice error={signInError} testId="add-connection-sso-error" /> : null}
        {adding ? <Progress label="Connecting…" /> : null}
        {waiting ? (
          <div className="sso-waiting">
            <Progress label="Waiting for you to sign in in your browser…" testId="add-connection-sso-waiting" />
            <button type="button" className="btn" onClick={() => void useSignIn.getState().cancel()} data-testid="add-connection-sso-cancel">
              Cancel sign-in
            </button>
          </div>
        ) : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className={sso ? 'btn' : 'btn btn-primary'} disabled={adding || waiting || (sso !== null && token === '')} data-testid="add-connection-submit">
            {sso ? 'Add with token' : 'Add and switch'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
