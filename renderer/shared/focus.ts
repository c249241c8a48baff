/*
 * Focus where the next step is, once it exists: an action often renders its next control a few
 * frames later (after a load), so the request waits for the element, up to `frames` frames. The first
 * try is after the next frame, once the action's own re-render (a button going busy) has happened.
 */
export function focusWhenReady(selector: string, frames = 120): void {
  const attempt = (left: number) => {
    const el = document.querySelector<HTMLElement>(selector);
    if (el && !(el as HTMLButtonElement).disabled) {
      el.focus();
      return;
    }
    if (left > 0) requestAnimationFrame(() => attempt(left - 1));
  };
  requestAnimationFrame(() => attempt(frames));
}

/** Whether focus is nowhere in particular (the page itself), so moving it takes nothing from the operator. */
export function focusIsIdle(): boolean {
  const a = document.activeElement;
  return !a || a === document.body || a === document.documentElement;
}

/** Idle, or parked on a view's heading by the safety net below: either way the next step may take it. */
export function focusIsParked(): boolean {
  return focusIsIdle() || (document.activeElement as HTMLElement | null)?.dataset.viewHeading !== undefined;
}

const INTERACTIVE = 'button, a[href], input, select, textarea, [tabindex], [role="option"], [role="menuitem"]';

/** Where focus goes when an action left it nowhere: into the open dialog, else the heading of the view on screen. */
export function fallbackFocusTarget(): HTMLElement | null {
  const dialogs = document.querySelectorAll<HTMLElement>('[role="dialog"][aria-modal="true"]');
  const dialog = dialogs[dialogs.length - 1];
  if (dialog) return dialog.querySelector<HTMLElement>('button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled])') ?? dialog;
  return document.querySelector<HTMLElement>('#main [data-view-heading]');
}

/*
 * The safety net under every action: when a re-render takes the focused control away (a panel
 * replaced, a button disabled, a toast gone) and nothing claimed the focus two frames later, the
 * heading of the view (or the open dialog) takes it, so the next Tab starts from where the operator
 * is rather than from the top of the page. It acts only once the operator has focused something, and
 * never after a press on a blank part of the page (that puts focus there on purpose).
 */
export function keepFocusOffBody(): () => void {
  let engaged = false;
  let blankPointer = false;
  let scheduled = false;
  const settle = () => {
    scheduled = false;
    if (!engaged || blankPointer || !focusIsIdle()) return;
    fallbackFocusTarget()?.focus({ preventScroll: true });
  };
  const check = () => {
    if (scheduled || !engaged || !focusIsIdle()) return;
    scheduled = true;
    requestAnimationFrame(() => requestAnimationFrame(settle));
  };
  const onFocusIn = () => {
    engaged = true;
    blankPointer = false;
  };
  const onKeyDown = () => {
    blankPointer = false;
    check();
  };
  const onPointerDown = (e: PointerEvent) => {
    blankPointer = !(e.target instanceof Element && e.target.closest(INTERACTIVE));
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled', 'hidden'] });
  document.addEventListener('focusin', onFocusIn, true);
  document.addEventListener('focusout', check, true);
  document.addEventListener('keydown', onKeyDown, true);
  document.addEventListener('pointerdown', onPointerDown, true);
  return () => {
    observer.disconnect();
    document.removeEventListener('focusin', onFocusIn, true);
    document.removeEventListener('focusout', check, true);
    document.removeEventListener('keydown', onKeyDown, true);
    document.removeEventListener('pointerdown', onPointerDown, true);
  };
}
