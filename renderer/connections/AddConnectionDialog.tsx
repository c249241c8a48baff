import { useState, type FormEvent } from 'react';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { useUi } from '../store/ui-store.js';

/** Adds a workflow server; the token goes to main (the OS keychain) and never comes back. */
export function AddConnectionDialog() {
  const close = () => useUi.getState().setAddConnectionOpen(false);
  const add = useConnections((s) => s.add);
  const select = useConnections((s) => s.select);
  const adding = useConnections((s) => s.adding);
  const addError = useConnections((s) => s.addError);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('http://127.0.0.1:');
  const [environment, setEnvironment] = useState<'staging' | 'production'>('staging');
  const [token, setToken] = useState('');

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const info = await add({ name, url, environment, token });
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
        <label>
          Token
          <input className="input" type="password" value={token} onChange={(e) => setToken(e.target.value)} required autoComplete="off" data-testid="add-connection-token" />
        </label>
        {addError ? <ErrorNotice error={addError} testId="add-connection-error" /> : null}
        {adding ? <Progress label="Connecting…" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={adding} data-testid="add-connection-submit">
            Add and switch
          </button>
        </div>
      </form>
    </Dialog>
  );
}
