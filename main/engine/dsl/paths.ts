import { z } from 'zod';

/*
 * Dot paths into a run context (`metrics.defect_rate`, `batches.0.size`). Segments that reach an
 * object's prototype are refused: a DSL is operator input and must not be able to pollute Object.
 */

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
const SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** Why a dot path is unusable, or null when it is fine. */
export function dotPathProblem(path: string): string | null {
  if (path === '') return 'is empty';
  for (const segment of path.split('.')) {
    if (!SEGMENT.test(segment)) return `has an empty or invalid segment in '${path}' (use letters, digits, _ $ - between dots)`;
    if (FORBIDDEN_SEGMENTS.has(segment)) return `uses the reserved segment '${segment}'`;
  }
  return null;
}

export const dotPathSchema = z.string().superRefine((path, ctx) => {
  const problem = dotPathProblem(path);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: `dot path ${problem}` });
});

/** The context key holding every node's output; nodes may read it but never write over it. */
export const OUTPUTS_KEY = 'outputs';

/**
 * Keys of the run context that belong to the engine or the server, never to a run's params or a node's
 * writes: `outputs` (every node's answer), `server` (the address a server lends its real nodes) and
 * `secret` (the namespace of `{{secret.NAME}}`, so `{{ctx.secret.X}}` can never pass for one).
 */
export const RESERVED_CONTEXT_KEYS: ReadonlyMap<string, string> = new Map([
  [OUTPUTS_KEY, 'it holds the nodes’ outputs during a run'],
  ['server', 'a server lends its own address there to http and command nodes'],
  ['secret', 'it is the namespace of {{secret.NAME}}'],
]);

export function isReservedKey(key: string): boolean {
  return RESERVED_CONTEXT_KEYS.has(key);
}

/** A dot path a node writes to: also kept away from the reserved keys (`outputs`, `server`, `secret`). */
export const writablePathSchema = dotPathSchema.superRefine((path, ctx) => {
  const head = path.split('.')[0] as string;
  if (head === OUTPUTS_KEY) ctx.addIssue({ code: 'custom', message: `'${OUTPUTS_KEY}' is reserved for node outputs; write somewhere else` });
  else if (isReservedKey(head)) ctx.addIssue({ code: 'custom', message: `'${head}' is reserved (${RESERVED_CONTEXT_KEYS.get(head)}); write somewhere else` });
});

/** The value at `path`, or undefined when any step is missing. Own properties only. */
export function getPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Writes `value` at `path` in place, creating missing objects on the way. Returns an error message
 * when a step of the path is a value that cannot hold keys (a number, a string, null).
 */
export function setPath(root: Record<string, unknown>, path: string, value: unknown): string | null {
  const segments = path.split('.');
  let current: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < segments.length; i += 1) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(segment)) return `cannot set '${path}': '${segments.slice(0, i).join('.')}' is a list and '${segment}' is not an index`;
      const index = Number(segment);
      if (last) {
        current[index] = value;
        return null;
      }
      const child = current[index];
      if (child === undefined) current[index] = {};
      else if (typeof child !== 'object' || child === null) return stepError(path, segments, i, child);
      current = current[index] as Record<string, unknown> | unknown[];
      continue;
    }
    if (last) {
      current[segment] = value;
      return null;
    }
    const child = Object.hasOwn(current, segment) ? current[segment] : undefined;
    if (child === undefined) current[segment] = {};
    else if (typeof child !== 'object' || child === null) return stepError(path, segments, i, child);
    current = current[segment] as Record<string, unknown> | unknown[];
  }
  return null;
}

function stepError(path: string, segments: string[], i: number, child: unknown): string {
  const at = segments.slice(0, i + 1).join('.');
  return `cannot set '${path}': '${at}' is ${child === null ? 'null' : `a ${typeof child}`}, not an object`;
}
