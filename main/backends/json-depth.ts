import { RewindError } from '../engine/errors.js';

/**
 * Nesting limit for every JSON value that crosses a boundary (HTTP bodies, WebSocket messages,
 * backend calls). The engine clones and serialises run params and DSL defaults recursively, so a
 * value nested thousands deep would overflow the stack there; nothing legitimate nests this far.
 */
export const MAX_JSON_DEPTH = 64;

/** Where a value first nests deeper than `max`, as a path ("params.x.0.0…"), or null when it does not. */
export function tooDeepAt(value: unknown, max = MAX_JSON_DEPTH): string[] | null {
  // Iterative on purpose: a recursive walk would hit the very stack limit it guards against.
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= max) return path;
    const entries = Array.isArray(current) ? current.map((v, i) => [String(i), v] as const) : Object.entries(current);
    for (const [key, child] of entries) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, path: [...path, key] });
    }
  }
  return null;
}

function shownPath(path: string[]): string {
  const shown = path.length > 12 ? [...path.slice(0, 6), '…', ...path.slice(-3)] : path;
  return shown.join('.') || '(top level)';
}

/** Refuses a value nested deeper than the limit with MALFORMED_REQUEST (400), naming the path. */
export function assertJsonDepth(value: unknown, what: string, max = MAX_JSON_DEPTH): void {
  const path = tooDeepAt(value, max);
  if (path === null) return;
  throw new RewindError(
    'MALFORMED_REQUEST',
    `${what} nests deeper than ${max} levels at ${shownPath(path)}.`,
    `Flatten the value: at most ${max} levels of objects and arrays inside one another.`,
    { max_depth: max, path: path.join('.') },
  );
}
