import { useEffect, useMemo, type KeyboardEvent } from 'react';
import { Dialog } from '../shared/Dialog.js';
import { usePalette } from '../store/palette-store.js';
import { useRuns } from '../store/runs-store.js';
import { buildCommands, filterCommands } from './commands.js';

const MAX_SHOWN = 60;

/** Ctrl/Cmd+K: every action by name. */
export function CommandPalette() {
  const open = usePalette((s) => s.open);
  const query = usePalette((s) => s.query);
  const activeIndex = usePalette((s) => s.activeIndex);
  const runs = useRuns((s) => s.runs);
  // The newest runs are offered too: read when the palette first opens, if the run list has not been.
  useEffect(() => {
    const r = useRuns.getState();
    if (open && !r.loaded && !r.loading) void r.load();
  }, [open]);
  // Built when the palette opens, from what is loaded at that moment (and again when the runs arrive).
  const all = useMemo(() => (open ? buildCommands(runs) : []), [open, runs]);
  const shown = useMemo(() => filterCommands(all, query).slice(0, MAX_SHOWN), [all, query]);
  if (!open) return null;

  const hide = () => usePalette.getState().hide();
  const runAt = (i: number) => {
    const c = shown[i];
    // A disabled command stays listed with its reason; Enter on it does nothing and the palette stays.
    if (!c || c.disabledReason) return;
    hide();
    c.run();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || (e.ctrlKey && e.key === 'n')) {
      e.preventDefault();
      usePalette.getState().move(1, shown.length);
    } else if (e.key === 'ArrowUp' || (e.ctrlKey && e.key === 'p')) {
      e.preventDefault();
      usePalette.getState().move(-1, shown.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      runAt(activeIndex);
    }
  };
  const activeId = shown[activeIndex] ? `cmd-${activeIndex}` : undefined;

  return (
    <Dialog title="Command palette" onClose={hide} testId="palette">
      <input
        className="input palette-input"
        role="combobox"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-activedescendant={activeId}
        aria-label="Type a command"
        placeholder="Type a command, a workflow or a run…"
        value={query}
        onChange={(e) => usePalette.getState().setQuery(e.target.value)}
        onKeyDown={onKeyDown}
        data-autofocus
        data-testid="palette-input"
      />
      <ul id="palette-list" role="listbox" aria-label="Commands" className="palette-list">
        {shown.map((c, i) => (
          <li
            key={c.id}
            id={`cmd-${i}`}
            role="option"
            aria-selected={i === activeIndex}
            aria-disabled={c.disabledReason ? true : undefined}
            aria-describedby={c.disabledReason ? `cmd-${i}-reason` : undefined}
            className={`palette-item${i === activeIndex ? ' is-active' : ''}${c.disabledReason ? ' is-disabled' : ''}`}
            onMouseDown={(e) => {
              e.preventDefault();
              runAt(i);
            }}
            data-testid="palette-item"
            data-command-id={c.id}
          >
            <span className="muted palette-group">{c.group}</span>
            <span>{c.title}</span>
            {c.disabledReason ? (
              <span id={`cmd-${i}-reason`} className="muted palette-reason" data-testid="palette-item-reason">
                {c.disabledReason}
              </span>
            ) : null}
          </li>
        ))}
        {shown.length === 0 ? <li className="muted palette-empty">No command matches.</li> : null}
      </ul>
    </Dialog>
  );
}
