import { describe, expect, it } from 'vitest';
import type { Dsl } from '../../../../preload/contract/entities.js';
import { topologicalOrder } from '../../../../main/engine/dsl/graph.js';
import { RewindError } from '../../../../main/engine/errors.js';

const dsl = (...nodes: Array<[string, string[]]>): Dsl => ({ nodes: nodes.map(([id, next]) => ({ id, type: 'task', params: {}, next })), defaults: {} });

describe('topologicalOrder', () => {
  it('puts each node after every node that names it', () => {
    // Listed backwards: the order must come from the edges, not the list.
    expect(topologicalOrder(dsl(['c', []], ['b', ['c']], ['a', ['b']]))).toEqual(['a', 'b', 'c']);
  });

  it('breaks ties by order of appearance in nodes', () => {
    expect(topologicalOrder(dsl(['z', []], ['y', []], ['x', []]))).toEqual(['z', 'y', 'x']);
    // root fans out to q then p; p is listed before q, so p goes first.
    expect(topologicalOrder(dsl(['root', ['q', 'p']], ['p', ['join']], ['q', ['join']], ['join', []]))).toEqual(['root', 'p', 'q', 'join']);
  });

  it('runs a node freed later before a later-listed one already ready, when listed earlier', () => {
    // After a: b (pos 1) and d (pos 3) are ready; b runs, freeing c (pos 2), which beats d.
    expect(topologicalOrder(dsl(['a', ['b', 'd']], ['b', ['c']], ['c', []], ['d', []]))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('waits for every parent of a join', () => {
    expect(topologicalOrder(dsl(['a', ['join']], ['join', []], ['b', ['join']]))).toEqual(['a', 'b', 'join']);
  });

  it('is the same on every call', () => {
    const d = dsl(['a', ['c', 'b']], ['b', ['d']], ['c', ['d']], ['d', []], ['e', []]);
    expect(topologicalOrder(d)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(topologicalOrder(d)).toEqual(topologicalOrder(structuredClone(d)));
  });

  it('refuses a cycle it is handed unvalidated', () => {
    expect(() => topologicalOrder(dsl(['a', ['b']], ['b', ['a']]))).toThrow(RewindError);
    expect(() => topologicalOrder(dsl(['a', ['b']], ['b', ['a']]))).toThrow(/a → b → a/);
  });
});
