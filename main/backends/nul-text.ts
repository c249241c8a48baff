import { RewindError } from '../engine/errors.js';

/**
 * U+0000 in text that crosses a boundary (HTTP, WebSocket, backend calls). PostgreSQL can store it in
 * neither text nor jsonb, so on that store such input failed deep in a query; it is refused up front,
 * on both stores alike, naming where it is.
 */

/** The path of the first string or object key holding U+0000, or null when there is none. */
export function nulAt(value: unknown): string[] | null {
  // Iterative, like the depth check: inputs are bounded in depth only after that check.
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return path;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const entries = Array.isArray(current) ? current.map((v, i) => [String(i), v] as const) : Object.entries(current);
    for (const [key, child] of entries) {
      if (key.includes('\u0000')) return [...path, key.replaceAll('\u0000', '\\0')];
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return null;
}

/** Refuses a value holding U+0000 anywhere with MALFORMED_REQUEST (400), naming the path. */
export function assertNoNul(value: unknown, what: string): void {
  const path = nulAt(value);
  if (path === null) return;
  const where = path.join('.') || '(top level)';
  throw new RewindError('MALFORMED_REQUEST', `${what} holds the NUL character (U+0000) at ${where}.`, 'Remove it: no text Rewind keeps may hold U+0000 (PostgreSQL cannot store it).', {
    path: path.join('.'),
  });
}
