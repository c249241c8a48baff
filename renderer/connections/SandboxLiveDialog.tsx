import { useEffect, useRef, useState, type FormEvent } from 'react';
import { secretNamePattern, type SandboxSettings } from '../../preload/contract/index.js';
import { Dialog } from '../shared/Dialog.js';
import { connectionMenuButton } from './menu-focus.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useConnections } from '../store/connections-store.js';
import { useSandboxLive } from '../store/sandbox-live-store.js';
import { selectSelectedConnection } from '../store/selectors.js';
import { useUi } from '../store/ui-store.js';

/**
 * A sandbox's live execution and its secrets. Off, http and command nodes answer their `sandbox`
 * stand-in; on, they run for real (commands only when allowed too). Secret values go to main (the
 * OS keychain) and never come back: the list shows names only, and a delete asks first.
 */
export function SandboxLiveDialog() {
  const connection = useConnections(selectSelectedConnection);
  const settings = useSandboxLive((s) => s.settings);
  const secrets = useSandboxLive((s) => s.secrets);
  const loading = useSandboxLive((s) => s.loading);
  const busy = useSandboxLive((s) => s.busy);
  const error = useSandboxLive((s) => s.error);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const connectionId = connection?.kind === 'sandbox' ? connection.id : null;

  useEffect(() => {
    if (connectionId !== null) void useSandboxLive.getState().load(connectionId);
  }, [connectionId]);

  const close = () => {
    useSandboxLive.getState().clear();
    useUi.getState().setConnectionDialog(null);
  };
  if (!connection || connectionId === null) {
    return (
      <Dialog title="Live execution and secrets" onClose={close} returnFocus={connectionMenuButton} testId="sandbox-live-dialog">
        <p>A workflow server always runs its real nodes, with the secrets of its own environment. Switch to a sandbox first.</p>
      </Dialog>
    );
  }

  const nameOk = secretNamePattern.test(name);
  const onSaveSecret = async (e: FormEvent) => {
    e.preventDefault();
    if (await useSandboxLive.getState().setSecret(name, value)) {
      setName('');
      setValue('');
    }
  };
  const onDelete = async (secret: string) => {
    if (await useSandboxLive.getState().deleteSecret(secret)) setConfirmDelete(null);
  };

  return (
    <Dialog title={`Live execution and secrets — ${connection.name}`} onClose={close} returnFocus={connectionMenuButton} testId="sandbox-live-dialog" wide>
      {loading ? <Progress label="Reading the sandbox settings…" /> : null}
      {settings && secrets ? (
        <div className="form">
          {/* Keyed by what main holds: the checkboxes start from it again after each apply. */}
          <LiveSettings key={`${settings.live_execution}:${settings.allow_commands}`} settings={settings} busy={busy} />

          <fieldset className="form template-params">
            <legend>Secrets</legend>
            <p className="muted">
              <span className="mono">{'{{secret.NAME}}'}</span> reads these first, then <span className="mono">REWIND_SECRET_NAME</span> from the console’s environment.{' '}
              {secrets.persistent ? 'Values are kept in the OS keychain and never shown again.' : 'Browser mode keeps values in memory for this session only; they are never shown again.'}
            </p>
            {secrets.keychain.length === 0 ? <p className="muted">No secrets kept for this sandbox.</p> : null}
            <ul className="sandbox-secrets" data-testid="sandbox-secrets">
              {secrets.keychain.map((secret) => (
                <li key={secret} data-testid={`sandbox-secret-${secret}`}>
                  <span className="mono">{secret}</span>{' '}
                  {confirmDelete === secret ? (
                    <>
                      <span role="alert">Delete {secret}? Workflows reading it fail until it is set again.</span>{' '}
                      <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => void onDelete(secret)} autoFocus data-testid={`sandbox-secret-confirm-${secret}`}>
                        Delete
                      </button>{' '}
                      <button type="button" className="btn btn-small" onClick={() => setConfirmDelete(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <button type="button" className="btn btn-small btn-ghost" aria-label={`Delete secret ${secret}`} onClick={() => setConfirmDelete(secret)} data-testid={`sandbox-secret-delete-${secret}`}>
                      Delete…
                    </button>
                  )}
                </li>
              ))}
            </ul>
            {secrets.environment.length > 0 ? (
              <p className="muted" data-testid="sandbox-secrets-environment">
                From the environment: {secrets.environment.join(', ')}
              </p>
            ) : null}
            <form className="form" onSubmit={(e) => void onSaveSecret(e)}>
              <label>
                Name
                <input className="input mono" value={name} onChange={(e) => setName(e.target.value.toUpperCase())} placeholder="API_TOKEN" autoComplete="off" spellCheck={false} aria-invalid={name !== '' && !nameOk} data-testid="sandbox-secret-name" />
              </label>
              {name !== '' && !nameOk ? <span className="muted">Upper-case letters, digits and _, starting with a letter.</span> : null}
              <label>
                Value
                <input className="input" type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" data-testid="sandbox-secret-value" />
              </label>
              <div className="form-actions">
                <button type="submit" className="btn btn-primary" disabled={busy || !nameOk || value === ''} data-testid="sandbox-secret-save">
                  {secrets.keychain.includes(name) ? 'Replace secret' : 'Save secret'}
                </button>
              </div>
            </form>
          </fieldset>
          {busy ? <Progress label="Saving…" /> : null}
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} testId="sandbox-live-error" /> : null}
      <div className="form-actions">
        <button type="button" className="btn" onClick={close}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

/** The live execution checkboxes, started from the applied settings; Apply sends them to main. */
function LiveSettings({ settings, busy }: { settings: SandboxSettings; busy: boolean }) {
  const [live, setLive] = useState(settings.live_execution);
  const [commands, setCommands] = useState(settings.allow_commands);
  const changed = settings.live_execution !== live || settings.allow_commands !== (live && commands);
  const toggle = useRef<HTMLInputElement>(null);
  // Mounted once the settings are read (after the dialog placed focus on Close) and again after each
  // Apply (whose button, focused, went with the old mount): focus belongs on the toggle, unless the
  // operator is already typing in a field.
  useEffect(() => {
    const active = document.activeElement;
    if (!(active instanceof HTMLInputElement) || active.type === 'checkbox') toggle.current?.focus();
  }, []);
  return (
    <fieldset className="form template-params" aria-describedby="sandbox-live-help">
      <legend>Live execution</legend>
      <label className="checkbox-field">
        <span>
          <input ref={toggle} type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} data-testid="sandbox-live-toggle" /> Run http nodes for real
        </span>
      </label>
      <label className="checkbox-field">
        <span>
          <input type="checkbox" checked={live && commands} disabled={!live} onChange={(e) => setCommands(e.target.checked)} data-testid="sandbox-commands-toggle" /> Also run command nodes (programs on this machine)
        </span>
      </label>
      <p id="sandbox-live-help" className="muted">
        Off, http and command nodes answer their <span className="mono">sandbox</span> stand-in and touch nothing. Applying reopens the sandbox: runs in progress there are interrupted.
      </p>
      <div className="form-actions">
        <button type="button" className={live ? 'btn btn-warn' : 'btn btn-primary'} disabled={busy || !changed} onClick={() => void useSandboxLive.getState().applySettings(live, commands)} data-testid="sandbox-live-apply">
          {live ? 'Apply: run for real' : 'Apply: stay offline'}
        </button>
      </div>
    </fieldset>
  );
}
