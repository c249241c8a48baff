import { useUi } from '../store/ui-store.js';
import { VIEWS } from './views.js';
import { useMenu } from '../shared/use-menu.js';

/** The views as one menu, for windows too narrow for the header's tabs: arrows move, Enter picks, Esc closes. */
export function ViewMenu() {
  const view = useUi((s) => s.view);
  const { open, setOpen, buttonRef, menuRef, close, onKeyDown } = useMenu('[aria-current="page"], [role="menuitem"]');
  const current = VIEWS.find((v) => v.id === view)?.title ?? 'Views';

  return (
    <div className="menu-anchor view-menu">
      <button ref={buttonRef} type="button" className="btn btn-ghost" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="view-menu">
        {current} ▾
      </button>
      {open ? (
        <ul ref={menuRef} className="menu" role="menu" aria-label="Views" onKeyDown={onKeyDown} onBlur={(e) => !e.currentTarget.contains(e.relatedTarget as Node | null) && close(false)}>
          {VIEWS.map((v) => (
            <li key={v.id} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                className="menu-item"
                aria-current={v.id === view ? 'page' : undefined}
                onClick={() => {
                  close(true);
                  useUi.getState().setView(v.id);
                }}
                data-testid={`view-menu-${v.id}`}
              >
                {v.title}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
