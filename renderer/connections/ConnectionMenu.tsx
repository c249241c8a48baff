import type { ConnectionInfo } from '../../preload/contract/index.js';
import { useUi, type ConnectionDialog } from '../store/ui-store.js';
import { useMenu } from '../shared/use-menu.js';
import { useSignIn } from '../store/sign-in-store.js';

interface Item {
  /** A dialog to open, or sign-out (done at once). */
  id: ConnectionDialog | 'signOut';
  title: string;
}

/** The connection's less frequent actions, in a keyboard menu: arrows move, Enter picks, Esc closes. */
export function ConnectionMenu({ connection }: { connection: ConnectionInfo | null }) {
  const { open, setOpen, buttonRef, menuRef, close, onKeyDown } = useMenu();
  const items: Item[] = [
    ...(connection?.kind === 'remote'
      ? [
          { id: 'snapshot' as const, title: 'Snapshot this server…' },
          ...(connection.sign_in === 'oidc'
            ? [
                { id: 'signIn' as const, title: connection.has_token ? 'Sign in again with SSO…' : 'Sign in with SSO…' },
                ...(connection.has_token ? [{ id: 'signOut' as const, title: 'Sign out' }] : []),
                { id: 'token' as const, title: 'Use an API token instead…' },
              ]
            : [
                { id: 'token' as const, title: 'Replace token…' },
                { id: 'signIn' as const, title: 'Sign in with SSO instead…' },
              ]),
        ]
      : []),
    ...(connection?.kind === 'sandbox' ? [{ id: 'sandboxLive' as const, title: 'Live execution and secrets…' }] : []),
    { id: 'openSandbox', title: 'Open sandbox file…' },
    ...(connection?.id === 'sandbox' ? [{ id: 'resetSandbox' as const, title: 'Reset sandbox to the demo…' }] : []),
    ...(connection && connection.id !== 'sandbox' ? [{ id: 'remove' as const, title: 'Remove connection…' }] : []),
  ];

  const pick = (id: Item['id']) => {
    close(false);
    // Signing out asks nothing: nothing is lost but the sign-in, and signing in again is one step.
    if (id === 'signOut') {
      if (connection) void useSignIn.getState().signOut(connection.id);
      return;
    }
    useUi.getState().setConnectionDialog(id);
  };

  return (
    <div className="menu-anchor">
      <button
        ref={buttonRef}
        type="button"
        className="btn btn-ghost"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label="Connection actions"
        onClick={() => setOpen(!open)}
        data-testid="connection-menu"
      >
        ⋯
      </button>
      {open ? (
        <ul ref={menuRef} className="menu" role="menu" aria-label="Connection actions" onKeyDown={onKeyDown} onBlur={(e) => !e.currentTarget.contains(e.relatedTarget as Node | null) && close(false)}>
          {items.map((item) => (
            <li key={item.id} role="none">
              <button type="button" role="menuitem" tabIndex={-1} className="menu-item" onClick={() => pick(item.id)} data-testid={`connection-menu-${item.id}`}>
                {item.title}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
