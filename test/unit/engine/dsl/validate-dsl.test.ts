import { describe, expect, it } from 'vitest';
import { validateDsl } from '../../../../main/engine/dsl/graph.js';
import { RewindError } from '../../../../main/engine/errors.js';

function refusal(input: unknown): RewindError {
  try {
    validateDsl(input);
  } catch (err) {
    if (err instanceof RewindError) return err;
    throw err;
  }
  throw new Error('validateDsl accepted a DSL it should refuse');
}

function expectRefused(input: unknown, nodeId: string | null, path: string): RewindError {
  const err = refusal(input);
  expect(err.code).toBe('INVALID_DSL');
  expect(err.details).toEqual({ node_id: nodeId, path });
  if (nodeId !== null) expect(err.message).toContain(`'${nodeId}'`);
  expect(err.hint.length).toBeGreaterThan(10);
  return err;
}

const task = (id: string, next: string[] = [], params: Record<string, unknown> = {}) => ({ id, type: 'task', params, next });

describe('validateDsl accepts', () => {
  it('a valid DAG, applying the contract defaults', () => {
    const dsl = validateDsl({
      nodes: [
        { id: 'ingest', type: 'task', params: { duration_ms: 500, output: { defect_rate: 0.04 } }, next: ['judge'] },
        { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'ok' } },
        { id: 'shape', type: 'transform', params: { set: { 'report.title': 'x' }, copy: { verdict: 'outputs.judge.verdict' }, scale: { field: 'defect_rate', factor: 100, to: 'defect_pct' } } },
      ],
    });
    expect(dsl.defaults).toEqual({});
    expect(dsl.nodes[1]?.next).toEqual([]);
    expect(dsl.nodes[2]?.params).toEqual({ set: { 'report.title': 'x' }, copy: { verdict: 'outputs.judge.verdict' }, scale: { field: 'defect_rate', factor: 100, to: 'defect_pct' } });
  });

  it('a judgment with no rules (always its default)', () => {
    expect(() => validateDsl({ nodes: [{ id: 'j', type: 'judgment', params: { rules: [], default: 'ok' } }] })).not.toThrow();
  });
});

describe('validateDsl refuses, naming the node and field', () => {
  it('a value that is not a DSL', () => {
    expectRefused(null, null, '');
    expectRefused({ nodes: [] }, null, 'nodes');
    expectRefused({ nodes: [task('a')], extra: true }, null, '');
  });

  it('a node of an unknown type', () => {
    const err = expectRefused({ nodes: [task('a'), { id: 'b', type: 'job' }] }, 'b', 'nodes.1.type');
    expect(err.message).toContain('field type');
  });

  it('an unknown key on a node', () => {
    const err = expectRefused({ nodes: [{ id: 'a', type: 'task', nxt: ['b'] }] }, 'a', 'nodes.0');
    expect(err.message).toContain('nxt');
  });

  it('an id with characters outside the allowed set', () => {
    expectRefused({ nodes: [task('has space')] }, 'has space', 'nodes.0.id');
  });

  it('a node whose id is missing, by its position', () => {
    const err = expectRefused({ nodes: [task('a'), { type: 'task' }] }, null, 'nodes.1.id');
    expect(err.message).toContain('Node #2');
  });

  it('a duplicate node id', () => {
    const err = expectRefused({ nodes: [task('a', ['b']), task('b'), task('a')] }, 'a', 'nodes.2.id');
    expect(err.message).toContain('used twice');
  });

  it('a next that names no node', () => {
    const err = expectRefused({ nodes: [task('a', ['b', 'ghost']), task('b')] }, 'a', 'nodes.0.next.1');
    expect(err.message).toContain("'ghost'");
    expect(err.hint).toContain('a, b');
  });

  it('a next that names the same node twice', () => {
    expectRefused({ nodes: [task('a', ['b', 'b']), task('b')] }, 'a', 'nodes.0.next.1');
  });

  it('a node that names itself in next', () => {
    const err = expectRefused({ nodes: [task('a', ['a'])] }, 'a', 'nodes.0.next.0');
    expect(err.message).toContain('cycle');
  });

  it('a cycle, naming every node on it', () => {
    const err = expectRefused(
      { nodes: [task('start', ['a']), task('a', ['b']), task('b', ['c']), task('c', ['a', 'end']), task('end')] },
      'c',
      'nodes.3.next.0',
    );
    expect(err.message).toContain('a → b → c → a');
  });

  it('a misspelt task param', () => {
    const err = expectRefused({ nodes: [task('a', [], { failure_rat: 0.2 })] }, 'a', 'nodes.0.params');
    expect(err.message).toContain('failure_rat');
    expect(err.hint).toContain('failure_rate');
  });

  it('task params out of range', () => {
    expectRefused({ nodes: [task('a', [], { failure_rate: 1.5 })] }, 'a', 'nodes.0.params.failure_rate');
    expectRefused({ nodes: [task('a', [], { duration_ms: -1 })] }, 'a', 'nodes.0.params.duration_ms');
  });

  it('a task output that would overwrite the outputs key', () => {
    expectRefused({ nodes: [task('a', [], { output: { outputs: {} } })] }, 'a', 'nodes.0.params.output.outputs');
  });

  it('a fail_if with an unknown operator or a prototype path', () => {
    expectRefused({ nodes: [task('a', [], { fail_if: { field: 'x', op: '=>', value: 1 } })] }, 'a', 'nodes.0.params.fail_if.op');
    const err = expectRefused({ nodes: [task('a', [], { fail_if: { field: '__proto__.x', op: '==', value: 1 } })] }, 'a', 'nodes.0.params.fail_if.field');
    expect(err.message).toContain('__proto__');
  });

  it('a judgment without a default, or with a malformed rule', () => {
    const judgment = (params: Record<string, unknown>) => ({ nodes: [task('t', ['j']), { id: 'j', type: 'judgment', params }] });
    expectRefused(judgment({ rules: [] }), 'j', 'nodes.1.params.default');
    expectRefused(judgment({ rules: [{ field: 'x', op: '~', value: 1, outcome: 'w' }], default: 'ok' }), 'j', 'nodes.1.params.rules.0.op');
    expectRefused(judgment({ rules: [{ field: 'x', op: '>', value: 1 }], default: 'ok' }), 'j', 'nodes.1.params.rules.0.outcome');
    expectRefused(judgment({ rules: [{ field: 'x', op: '==', value: 1, outcome: 'w', weight: 2 }], default: 'ok' }), 'j', 'nodes.1.params.rules.0');
  });

  it("a judgment ordering rule with a non-numeric value", () => {
    const err = expectRefused(
      { nodes: [{ id: 'j', type: 'judgment', params: { rules: [{ field: 'x', op: '>', value: 'high', outcome: 'w' }], default: 'ok' } }] },
      'j',
      'nodes.0.params.rules.0.value',
    );
    expect(err.message).toContain('compares numbers');
  });

  it('a judgment output_key that collides with its own output fields', () => {
    expectRefused({ nodes: [{ id: 'j', type: 'judgment', params: { rules: [], default: 'ok', output_key: 'observed' } }] }, 'j', 'nodes.0.params.output_key');
  });

  it('transform writes to the reserved outputs key or to malformed paths', () => {
    const err = expectRefused({ nodes: [{ id: 'x', type: 'transform', params: { set: { 'outputs.a': 1 } } }] }, 'x', 'nodes.0.params.set.outputs.a');
    expect(err.message).toContain("key 'outputs.a'");
    expectRefused({ nodes: [{ id: 'x', type: 'transform', params: { copy: { 'a..b': 'c' } } }] }, 'x', 'nodes.0.params.copy.a..b');
    expectRefused({ nodes: [{ id: 'x', type: 'transform', params: { copy: { a: '' } } }] }, 'x', 'nodes.0.params.copy.a');
    expectRefused({ nodes: [{ id: 'x', type: 'transform', params: { scale: { field: 'a' } } }] }, 'x', 'nodes.0.params.scale.factor');
    expectRefused({ nodes: [{ id: 'x', type: 'transform', params: { scale: { field: 'a', factor: 2, to: 'outputs' } } }] }, 'x', 'nodes.0.params.scale.to');
    expectRefused({ nodes: [{ id: 'x', type: 'transform', params: { rename: {} } }] }, 'x', 'nodes.0.params');
  });

  it('defaults that use the reserved outputs key', () => {
    expectRefused({ nodes: [task('a')], defaults: { outputs: {} } }, null, 'defaults.outputs');
  });
});
