import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { ConnectionInfo } from '../../preload/contract/index.js';
import { useUi, type ConnectionDialog } from '../store/ui-store.js';

interface Item {
  id: ConnectionDialog;
  title: string;
}

/** The connection's less frequent actions, in a keyboard menu: arrows move, Enter picks, Esc closes. */
export function ConnectionMenu({ connection }: { connection: ConnectionInfo | null }) {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);
  const items: Item[] = [
    ...(connection?.kind === 'remote'
      ? [
          { id: 'snapshot' as const, title: 'Snapshot this server…' },
          { id: 'token' as const, title: 'Replace token…' },
        ]
      : []),
    { id: 'openSandbox', title: 'Open sandbox file…' },
    ...(connection?.id === 'sandbox' ? [{ id: 'resetSandbox' as const, title: 'Reset sandbox to the demo…' }] : []),
    ...(connection && connection.id !== 'sandbox' ? [{ id: 'remove' as const, title: 'Remove connection…' }] : []),
  ];

  useEffect(() => {
    if (open) menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  };
  const pick = (id: ConnectionDialog) => {
    close(false);
    useUi.getState().setConnectionDialog(id);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const all = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      close(true);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      all[(i + 1) % all.length]?.focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      all[(i - 1 + all.length) % all.length]?.focus();
    }
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
