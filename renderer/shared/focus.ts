/*
 * Focus where the next step is, once it exists: an action often renders its next control a few
 * frames later (after a load), so the request waits for the element, up to `frames` frames.
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
  attempt(frames);
}

/** Whether focus is nowhere in particular (the page itself), so moving it takes nothing from the operator. */
export function focusIsIdle(): boolean {
  const a = document.activeElement;
  return !a || a === document.body || a === document.documentElement;
}
