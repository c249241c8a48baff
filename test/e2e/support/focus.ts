import { expect, type Page } from '@playwright/test';

/*
 * Focus never left on <body>: one helper for every spec. `watchFocus` installs, before the console
 * loads, a frame-by-frame watcher in the page that records each time focus stays on the page itself
 * for FRAMES frames after the operator had focused something (a keyboard action, a dialog closing, a
 * view changing); a mouse press on a blank part of the page, which puts focus there on purpose, is not
 * counted until the next key or focus. `expectNoFocusDrops` fails the test with every drop and the
 * last action before it; `expectFocusKept` checks one moment: after the action's outcome is visible
 * and the page has drawn a few frames, focus is on an element.
 */

/** A drop is focus on <body> for this many consecutive frames (the console moves it within a few). */
const FRAMES = 20;

interface Drop {
  after: string;
  at: number;
}

declare global {
  interface Window {
    __rewindFocusDrops?: Drop[];
    __rewindLastAction?: string;
  }
}

function install(frames: number): void {
  const drops: Drop[] = [];
  window.__rewindFocusDrops = drops;
  window.__rewindLastAction = 'load';
  const describe = (el: EventTarget | null): string => {
    if (!(el instanceof HTMLElement)) return 'page';
    const id = el.closest('[data-testid]')?.getAttribute('data-testid');
    return id ?? el.tagName.toLowerCase();
  };
  let armed = false;
  let blankPointer = false;
  let onBody = 0;
  let recorded = false;
  document.addEventListener(
    'focusin',
    (e) => {
      armed = true;
      blankPointer = false;
      window.__rewindLastAction = `focus on ${describe(e.target)}`;
    },
    true,
  );
  document.addEventListener(
    'keydown',
    (e) => {
      blankPointer = false;
      window.__rewindLastAction = `${e.key} on ${describe(e.target)}`;
    },
    true,
  );
  document.addEventListener(
    'mousedown',
    (e) => {
      const target = e.target instanceof Element ? e.target : null;
      blankPointer = !target?.closest('button, a[href], input, select, textarea, [tabindex], [role="option"]');
      window.__rewindLastAction = `click on ${describe(e.target)}`;
    },
    true,
  );
  const tick = () => {
    const a = document.activeElement;
    const idle = !a || a === document.body || a === document.documentElement;
    if (idle && armed && !blankPointer) {
      onBody++;
      if (onBody >= frames && !recorded) {
        drops.push({ after: window.__rewindLastAction ?? '?', at: performance.now() });
        recorded = true;
      }
    } else {
      onBody = 0;
      recorded = false;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

/** Call before `page.goto`: every page load of the test is watched. */
export async function watchFocus(page: Page): Promise<void> {
  await page.addInitScript(install, FRAMES);
}

/** Fails with each drop so far (the action after which focus stayed on <body>). */
export async function expectNoFocusDrops(page: Page): Promise<void> {
  const drops = await page.evaluate(() => (window.__rewindFocusDrops ?? []).map((d) => d.after));
  expect(drops, 'focus was left on <body> after these actions').toEqual([]);
}

/** What has focus, or "body" when nothing does. */
export async function focusedElement(page: Page): Promise<string> {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body || a === document.documentElement) return 'body';
    return a.getAttribute('data-testid') ?? `${a.tagName.toLowerCase()}${a.textContent ? ` “${a.textContent.trim().slice(0, 40)}”` : ''}`;
  });
}

/** After an action whose outcome the caller has already seen: a few frames later, focus is on an element. */
export async function expectFocusKept(page: Page, after: string): Promise<string> {
  await page.evaluate(
    (n) =>
      new Promise<void>((resolve) => {
        let left = n;
        const step = () => (--left <= 0 ? resolve() : requestAnimationFrame(step));
        requestAnimationFrame(step);
      }),
    FRAMES,
  );
  const focused = await focusedElement(page);
  expect(focused, `focus after ${after}`).not.toBe('body');
  return focused;
}
