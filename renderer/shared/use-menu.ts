import { useEffect, useRef, useState, type KeyboardEvent } from 'react';

/**
 * A keyboard menu's behaviour, shared by every header menu: opening focuses the item `focusSelector`
 * finds first; arrows move between items, Esc and Tab close and give focus back to the button.
 */
export function useMenu(focusSelector = '[role="menuitem"]') {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (open) menuRef.current?.querySelector<HTMLElement>(focusSelector)?.focus();
  }, [open, focusSelector]);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
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
  return { open, setOpen, buttonRef, menuRef, close, onKeyDown };
}
