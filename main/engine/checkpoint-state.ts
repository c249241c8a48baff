/*
 * How a checkpoint's state is stored. Every reader (the API, the console, a resume, a takeover, a
 * snapshot) sees `{output, context, error}`: the node's output and the whole run context after it.
 * Stored so, each checkpoint repeated every earlier node's output (81 % of a server's bytes), so a
 * row now holds only what its node changed, and the state is rebuilt by folding the run's rows in
 * seq order — at most one row per node of the run (and one per node restored from a resumed parent).
 *
 * Each row says how it is stored (`checkpoints.format`): 'full' rows hold the state itself — every row
 * written before migration 0150, the rows a snapshot copies and a failed run's kept last checkpoint;
 * they are read as they are, never rewritten. 'delta' rows hold a `Delta` against the context of the
 * row before (an empty object before the first row). A run may mix both: a full row starts the fold again.
 */

/** A checkpoint's state as every reader sees it. `error` is absent on rows written before it existed. */
export interface CheckpointState {
  output: unknown;
  context: Record<string, unknown>;
  error?: string | null;
  /** An approval node an operator denied: the run ends denied, not failed (kept for a takeover). */
  denied?: true;
}

export type CheckpointFormat = 'full' | 'delta';

type Json = Record<string, unknown>;
type Path = string[];
/** A path set to a value; a path alone is set to the node's output (stored once, in `o`). */
type Change = [Path, unknown] | [Path];

/** A delta row, with one-letter keys: it is the bulk of a server's bytes. */
interface Delta {
  /** The node's output. */
  o?: unknown;
  /** Its error: null when it succeeded; absent when the state it encodes had no `error` key. */
  e?: string | null;
  /** Present (1) when an operator denied the node (an approval): the state's `denied: true`. */
  d?: 1;
  /** Paths of the context the node set, in the order the context holds them. */
  s?: Change[];
  /** Paths it removed. */
  u?: Path[];
}

/**
 * The stored row of a state after `previous` (the context of the run's row before; `{}` for the
 * first), and the context to diff the next row against. A context whose top-level keys moved (which
 * no node does) is stored in full, so the fold reads it back in the same order.
 */
export function encodeState(previous: Json, state: CheckpointState): { format: CheckpointFormat; text: string; context: Json } {
  const context = asObject(normalise(state.context));
  const output = normalise(state.output);
  if (!keepsOrder(previous, context)) return { format: 'full', text: JSON.stringify(state), context };
  const sets: Change[] = [];
  const unsets: Path[] = [];
  diff(previous, context, [], sets, unsets);
  // The node's output usually sits at `outputs.<node>` (and a real node's at its output key): store it once.
  const referable = output !== null && typeof output === 'object';
  const s = referable ? sets.map((c): Change => (c.length === 2 && deepEqual(c[1], output) ? [c[0]] : c)) : sets;
  const delta: Delta = { o: output };
  if (state.error !== undefined) delta.e = state.error;
  if (state.denied) delta.d = 1;
  if (s.length) delta.s = s;
  if (unsets.length) delta.u = unsets;
  return { format: 'delta', text: JSON.stringify(delta), context };
}

/** The context a run's next row is diffed against, from the state of its last checkpoint (none: an empty one). */
export function contextOf(state: unknown): Json {
  const context = state !== null && typeof state === 'object' ? (state as { context?: unknown }).context : undefined;
  return asObject(normalise(context));
}

/** The states of a run's rows, read in seq order from its first row. */
export function foldStates(rows: ReadonlyArray<{ format: CheckpointFormat; state: string }>): CheckpointState[] {
  const states: CheckpointState[] = [];
  let context: Json = {};
  for (const row of rows) {
    if (row.format === 'full') {
      const state = JSON.parse(row.state) as CheckpointState;
      context = contextOf(state);
      states.push(state);
    } else {
      const delta = JSON.parse(row.state) as Delta;
      apply(context, delta);
      states.push(stateOf(delta, normalise(context) as Json));
    }
  }
  return states;
}

/** The state of the last of a run's rows (seq order, from its first row): a fold that copies the context once. */
export function foldLast(rows: ReadonlyArray<{ format: CheckpointFormat; state: string }>): CheckpointState | null {
  let context: Json = {};
  let last: { format: CheckpointFormat; state: string; delta?: Delta } | null = null;
  for (const row of rows) {
    if (row.format === 'full') {
      context = contextOf(JSON.parse(row.state));
      last = row;
    } else {
      const delta = JSON.parse(row.state) as Delta;
      apply(context, delta);
      last = { ...row, delta };
    }
  }
  if (!last) return null;
  return last.delta ? stateOf(last.delta, context) : (JSON.parse(last.state) as CheckpointState);
}

function stateOf(delta: Delta, context: Json): CheckpointState {
  const state: CheckpointState = { output: delta.o, context };
  if ('e' in delta) state.error = delta.e ?? null;
  if (delta.d) state.denied = true;
  return state;
}

function apply(context: Json, delta: Delta): void {
  for (const change of delta.s ?? []) setAt(context, change[0], normalise(change.length === 2 ? change[1] : delta.o));
  for (const path of delta.u ?? []) {
    const parent = parentOf(context, path);
    if (parent) delete parent[path[path.length - 1]!];
  }
}

function diff(before: Json, after: Json, at: Path, sets: Change[], unsets: Path[]): void {
  for (const key of Object.keys(after)) {
    const a = after[key];
    const path = [...at, key];
    if (!Object.hasOwn(before, key)) sets.push([path, a]);
    else if (isObject(before[key]) && isObject(a) && keepsOrder(before[key] as Json, a as Json)) diff(before[key] as Json, a as Json, path, sets, unsets);
    else if (!deepEqual(before[key], a)) sets.push([path, a]);
  }
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) unsets.push([...at, key]);
}

/** Whether folding `after`'s changes into `before` gives its keys in its order: kept keys in place, new ones at the end. */
function keepsOrder(before: Json, after: Json): boolean {
  const keys = Object.keys(after);
  const folded = [...Object.keys(before).filter((k) => Object.hasOwn(after, k)), ...keys.filter((k) => !Object.hasOwn(before, k))];
  return folded.every((k, i) => keys[i] === k);
}

/** Sets an own property (also one named `__proto__`, which a plain assignment would take as the prototype). */
function setAt(root: Json, path: Path, value: unknown): void {
  const parent = parentOf(root, path);
  if (!parent) return;
  Object.defineProperty(parent, path[path.length - 1]!, { value, writable: true, enumerable: true, configurable: true });
}

function parentOf(root: Json, path: Path): Json | null {
  let at: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!isObject(at) || !Object.hasOwn(at as Json, key)) return null;
    at = (at as Json)[key];
  }
  return isObject(at) ? (at as Json) : null;
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function asObject(v: unknown): Json {
  return isObject(v) ? (v as Json) : {};
}

/** A value as its JSON text reads back (what a full row held): undefined members dropped, a copy of the caller's. */
function normalise(v: unknown): unknown {
  const text = JSON.stringify(v);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  // Same members in another order are a change: the folded context must read back byte for byte.
  return ka.length === kb.length && ka.every((k, i) => kb[i] === k && deepEqual((a as Json)[k], (b as Json)[k]));
}
