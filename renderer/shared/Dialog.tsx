import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { focusIsIdle, focusIsParked } from './focus.js';

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal: Esc closes it, Tab stays inside, focus returns to where it was — or, when that element is
 * gone (the palette that opened it), to `returnFocus`'s pick: the row the dialog acted on.
 */
export function Dialog({
  title,
  onClose,
  children,
  testId,
  wide = false,
  returnFocus,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
  wide?: boolean;
  returnFocus?: () => HTMLElement | null;
}) {
  const returnFocusRef = useRef(returnFocus);
  useEffect(() => {
    returnFocusRef.current = returnFocus;
  });
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const first = ref.current?.querySelector<HTMLElement>('[data-autofocus]') ?? ref.current?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? ref.current)?.focus();
    return () => {
      // After the close has rendered: the row acted on may have been re-drawn by then.
      requestAnimationFrame(() => {
        // Another dialog opened in its place (the palette running a command) keeps its focus.
        if (!focusIsIdle()) return;
        if (before?.isConnected && before !== document.body) return before.focus();
        // The row acted on may be re-drawn or re-enabled a few frames later (its data reloading after the
        // action): wait for it while focus is nowhere or parked on the heading, never taking it from a choice.
        const attempt = (left: number) => {
          if (!focusIsParked()) return;
          const target = returnFocusRef.current?.() ?? null;
          if (target) return target.focus();
          if (left > 0) requestAnimationFrame(() => attempt(left - 1));
        };
        attempt(120);
      });
    };
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className={wide ? 'dialog dialog-wide' : 'dialog'}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={testId}
      >
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="btn btn-ghost" onClick={onClose} aria-label="Close" data-testid={testId ? `${testId}-close` : undefined}>
            ✕
          </button>
        </header>
        <div className="dialog-body">{children}</div>
      </div>
    </div>
  );
}
