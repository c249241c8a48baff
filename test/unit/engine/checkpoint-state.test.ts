import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CheckpointFormat, type CheckpointState, encodeState, foldLast, foldStates } from '../../../main/engine/checkpoint-state.js';

/*
 * The stored form of checkpoint states: a row holds what its node changed, and folding a run's rows
 * gives back every state byte for byte as the full copies stored before (mixed with such full rows,
 * as in a database that was upgraded mid-run).
 */

type Json = Record<string, unknown>;

/** The rows the run service stores for a run's states: each against the one before. */
function store(states: CheckpointState[], full: ReadonlySet<number> = new Set()): Array<{ format: CheckpointFormat; state: string }> {
  let context: Json = {};
  return states.map((state, i) => {
    if (full.has(i)) {
      context = JSON.parse(JSON.stringify(state.context)) as Json;
      return { format: 'full', state: JSON.stringify(state) };
    }
    const row = encodeState(context, state);
    context = row.context;
    return { format: row.format, state: row.text };
  });
}

const key = fc.oneof(fc.constantFrom('a', 'b', 'outputs', 'n1', 'x.y', '__proto__', 'constructor', '0', '12', 'é', ''), fc.string({ maxLength: 4 }));
const leaf = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 6 }), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 4 })),
})).v;

/** One node's change to the context: set a nested path, delete one, or replace a whole subtree. */
const edit = fc.record({ path: fc.array(key, { minLength: 1, maxLength: 3 }), value, remove: fc.boolean() });

function applyEdit(context: Json, e: { path: string[]; value: unknown; remove: boolean }): Json {
  const next = JSON.parse(JSON.stringify(context)) as Json;
  let at: Json = next;
  for (const k of e.path.slice(0, -1)) {
    const child = at[k];
    if (child === null || typeof child !== 'object' || Array.isArray(child)) Object.defineProperty(at, k, { value: {}, writable: true, enumerable: true, configurable: true });
    at = at[k] as Json;
  }
  const last = e.path[e.path.length - 1]!;
  if (e.remove) delete at[last];
  else Object.defineProperty(at, last, { value: e.value, writable: true, enumerable: true, configurable: true });
  return next;
}

const runStates = fc
  .record({
    start: fc.dictionary(key, value, { maxKeys: 5 }),
    steps: fc.array(fc.record({ edits: fc.array(edit, { maxLength: 4 }), output: value, error: fc.option(fc.string({ maxLength: 8 }), { nil: null }), withError: fc.boolean(), asOutput: fc.boolean() }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ start, steps }) => {
    let context = JSON.parse(JSON.stringify(start)) as Json;
    return steps.map((s, i) => {
      for (const e of s.edits) context = applyEdit(context, e);
      // As a node does: its output at `outputs.<id>` (stored once in the row).
      if (s.asOutput) context = applyEdit(context, { path: ['outputs', `n${i}`], value: s.output, remove: false });
      const state: CheckpointState = { output: s.output, context };
      if (s.withError) state.error = s.error;
      return state;
    });
  });

describe('checkpoint states stored as deltas', () => {
  it('folds every run of random states back to the full copies, byte for byte, also mixed with full rows', () => {
    fc.assert(
      fc.property(runStates, fc.array(fc.nat(8)), (states, fullAt) => {
        const rows = store(states, new Set(fullAt));
        const folded = foldStates(rows);
        expect(folded.map((s) => JSON.stringify(s))).toEqual(states.map((s) => JSON.stringify(s)));
        expect(JSON.stringify(foldLast(rows))).toEqual(JSON.stringify(states[states.length - 1]));
      }),
      { numRuns: 500 },
    );
  });

  it('stores only what a node changed: a run of ten growing outputs takes a fraction of its full copies', () => {
    const states: CheckpointState[] = [];
    let context: Json = { defect_rate: 0.02, outputs: {} };
    for (let i = 0; i < 10; i += 1) {
      const output = { rows: 1000 + i, blob: 'x'.repeat(500) };
      context = { ...context, [`k${i}`]: i, outputs: { ...(context.outputs as Json), [`n${i}`]: output } };
      states.push({ output, context, error: null });
    }
    const full = states.reduce((n, s) => n + JSON.stringify(s).length, 0);
    const delta = store(states).reduce((n, r) => n + r.state.length, 0);
    // Full copies grow with every node (≈ 5.5 outputs a row); a delta holds its node's output once.
    expect(delta / full).toBeLessThan(0.25);
    expect(foldStates(store(states)).map((s) => JSON.stringify(s))).toEqual(states.map((s) => JSON.stringify(s)));
  });

  it('keeps a denied approval denied: the fold gives back `denied: true` where the node was denied, and only there', () => {
    const states: CheckpointState[] = [
      { output: { rows: 3 }, context: { outputs: { extract: { rows: 3 } } }, error: null },
      { output: null, context: { outputs: { extract: { rows: 3 } } }, error: 'Denied by mina', denied: true },
    ];
    const rows = store(states);
    expect(rows.map((r) => r.format)).toEqual(['delta', 'delta']);
    expect(foldStates(rows).map((s) => JSON.stringify(s))).toEqual(states.map((s) => JSON.stringify(s)));
    expect(foldLast(rows)).toEqual(states[1]);
  });

  it('keeps a __proto__ key an own member, never the prototype', () => {
    const states: CheckpointState[] = [
      { output: null, context: JSON.parse('{"a":1}') as Json, error: null },
      { output: null, context: JSON.parse('{"a":1,"__proto__":{"polluted":true}}') as Json, error: null },
    ];
    const folded = foldStates(store(states));
    expect(JSON.stringify(folded[1])).toBe(JSON.stringify(states[1]));
    expect(Object.getPrototypeOf(folded[1]!.context)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('stores a context whose keys moved in full, so it reads back in its order', () => {
    const states: CheckpointState[] = [
      { output: 1, context: { a: 1, b: 2 }, error: null },
      { output: 2, context: { b: 2, a: 1 }, error: null },
    ];
    const rows = store(states);
    expect(rows.map((r) => r.format)).toEqual(['delta', 'full']);
    expect(foldStates(rows).map((s) => JSON.stringify(s))).toEqual(states.map((s) => JSON.stringify(s)));
  });
});
