import { useShallow } from 'zustand/react/shallow';
import { useConnections } from '../store/connections-store.js';
import { environmentMismatch, selectSelectedConnection, shownEnvironment } from '../store/selectors.js';
import { useUi } from '../store/ui-store.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { ConnectionMenu } from './ConnectionMenu.js';

/** Which server the console talks to, its live state, and production marked so it cannot be missed. */
export function ConnectionSwitcher() {
  const connections = useConnections(useShallow((s) => s.connections));
  const selected = useConnections(selectSelectedConnection);
  const select = useConnections((s) => s.select);
  const openAdd = useUi((s) => s.setAddConnectionOpen);

  return (
    <div className="conn-switcher" data-testid="connection-switcher">
      <span className="conn-swatch" aria-hidden="true" />
      <label className="sr-only" htmlFor="connection-select">
        Connection
      </label>
      <select
        id="connection-select"
        className="input conn-select"
        value={selected?.id ?? ''}
        onChange={(e) => void select(e.target.value)}
        data-testid="connection-select"
      >
        {selected ? null : <option value="">No connection</option>}
        {connections.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name} ({shownEnvironment(c)}, {c.state})
          </option>
        ))}
      </select>
      {selected ? (
        <>
          {selected.snapshot ? <StatusBadge status="snapshot" label="SNAPSHOT" testId="connection-snapshot" /> : null}
          {shownEnvironment(selected) === 'production' ? <StatusBadge status="production" label="PRODUCTION" testId="connection-production" /> : null}
          {selected.kind === 'remote' && shownEnvironment(selected) !== 'production' && selected.server_environment ? (
            <span className="muted" data-testid="connection-environment">
              {selected.server_environment}
            </span>
          ) : null}
          {environmentMismatch(selected) ? (
            <span
              className="notice-warn"
              title={`Added as ${selected.environment}; the server says it serves ${selected.server_environment ?? '?'}. The server's word is shown.`}
              data-testid="connection-env-mismatch"
            >
              added as {selected.environment}
            </span>
          ) : null}
          <StatusBadge status={selected.state} testId="connection-state" />
          {selected.sign_in === 'oidc' && selected.actor && selected.role ? (
            // Signed in as a person: who, and what their groups let them do here.
            <span className="conn-identity" title={`Signed in to ${selected.name} as ${selected.actor}`} data-testid="connection-identity">
              <span className="conn-person">{selected.actor}</span> ·{' '}
              <span className="badge conn-role" data-status={selected.role} data-testid="connection-role">
                {selected.role}
              </span>
            </span>
          ) : selected.role ? (
            <span className="badge conn-role" data-status={selected.role} title={`Your role on ${selected.name}`} data-testid="connection-role">
              {selected.role}
            </span>
          ) : null}
        </>
      ) : null}
      <button type="button" className="btn btn-ghost" onClick={() => openAdd(true)} data-testid="connection-add">
        + Server
      </button>
      <ConnectionMenu connection={selected} />
    </div>
  );
}
