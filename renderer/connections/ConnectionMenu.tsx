import type { ConnectionInfo } from '../../preload/contract/index.js';
import { useUi, type ConnectionDialog } from '../store/ui-store.js';
import { useMenu } from '../shared/use-menu.js';

interface Item {
  id: ConnectionDialog;
  title: string;
}

/** The connection's less frequent actions, in a keyboard menu: arrows move, Enter picks, Esc closes. */
export function ConnectionMenu({ connection }: { connection: ConnectionInfo | null }) {
  const { open, setOpen, buttonRef, menuRef, close, onKeyDown } = useMenu();
  const items: Item[] = [
    ...(connection?.kind === 'remote'
      ? [
          { id: 'snapshot' as const, title: 'Snapshot this server…' },
          { id: 'token' as const, title: 'Replace token…' },
        ]
      : []),
    ...(connection?.kind === 'sandbox' ? [{ id: 'sandboxLive' as const, title: 'Live execution and secrets…' }] : []),
    { id: 'openSandbox', title: 'Open sandbox file…' },
    ...(connection?.id === 'sandbox' ? [{ id: 'resetSandbox' as const, title: 'Reset sandbox to the demo…' }] : []),
    ...(connection && connection.id !== 'sandbox' ? [{ id: 'remove' as const, title: 'Remove connection…' }] : []),
  ];

  const pick = (id: ConnectionDialog) => {
    close(false);
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
