import { describe, expect, it } from 'vitest';
import type { Dsl } from '../../../../preload/contract/entities.js';
import { diffDsl } from '../../../../main/engine/dsl/diff.js';

const base = (): Dsl => ({
  nodes: [
    { id: 'ingest', type: 'task', params: { duration_ms: 500, output: { defect_rate: 0.04 } }, next: ['judge'] },
    {
      id: 'judge',
      type: 'judgment',
      name: 'Quality gate',
      params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'ok' },
      next: [],
    },
  ],
  defaults: { region: 'eu', limits: { cpu: 2 } },
});

describe('diffDsl', () => {
  it('reports identical DSLs as identical', () => {
    expect(diffDsl(base(), base())).toEqual({ added: [], removed: [], changed: [], defaults_changed: [], params_changed: [], identical: true });
  });

  it('ignores a reordering of the node list', () => {
    const b = base();
    b.nodes.reverse();
    expect(diffDsl(base(), b).identical).toBe(true);
  });

  it('names nodes added and removed by id', () => {
    const b = base();
    b.nodes = b.nodes.filter((n) => n.id !== 'ingest');
    b.nodes.push({ id: 'notify', type: 'task', params: {}, next: [] });
    const d = diffDsl(base(), b);
    expect(d.added).toEqual(['notify']);
    expect(d.removed).toEqual(['ingest']);
    expect(d.changed).toEqual([]);
    expect(d.identical).toBe(false);
  });

  it('gives deep param paths with before and after', () => {
    const b = base();
    const judge = b.nodes[1];
    if (judge === undefined) throw new Error('fixture');
    judge.params = { rules: [{ field: 'defect_rate', op: '>', value: 0.03, outcome: 'warning' }], default: 'ok', output_key: 'grade' };
    expect(diffDsl(base(), b).changed).toEqual([
      {
        node_id: 'judge',
        changes: [
          { path: 'params.rules.0.value', before: 0.05, after: 0.03 },
          { path: 'params.output_key', before: null, after: 'grade' },
        ],
      },
    ]);
  });

  it('reports type, name and next changes, next as a whole list', () => {
    const b = base();
    b.nodes[0] = { id: 'ingest', type: 'transform', params: { duration_ms: 500, output: { defect_rate: 0.04 } }, next: ['judge', 'audit'] };
    b.nodes.push({ id: 'audit', type: 'task', params: {}, next: [] });
    const judge = b.nodes[1];
    if (judge === undefined) throw new Error('fixture');
    delete judge.name;
    const d = diffDsl(base(), b);
    expect(d.added).toEqual(['audit']);
    expect(d.changed).toEqual([
      {
        node_id: 'ingest',
        changes: [
          { path: 'type', before: 'task', after: 'transform' },
          { path: 'next', before: ['judge'], after: ['judge', 'audit'] },
        ],
      },
      { node_id: 'judge', changes: [{ path: 'name', before: 'Quality gate', after: null }] },
    ]);
  });

  it('reports removed params and whole new objects at their own path', () => {
    const b = base();
    const ingest = b.nodes[0];
    if (ingest === undefined) throw new Error('fixture');
    ingest.params = { output: { defect_rate: 0.04 }, fail_if: { field: 'x', op: '==', value: true } };
    expect(diffDsl(base(), b).changed[0]?.changes).toEqual([
      { path: 'params.duration_ms', before: 500, after: null },
      { path: 'params.fail_if', before: null, after: { field: 'x', op: '==', value: true } },
    ]);
  });

  it('diffs defaults by path', () => {
    const b = base();
    b.defaults = { region: 'us', limits: { cpu: 4 }, retries: 3 };
    const d = diffDsl(base(), b);
    expect(d.defaults_changed).toEqual([
      { path: 'region', before: 'eu', after: 'us' },
      { path: 'limits.cpu', before: 2, after: 4 },
      { path: 'retries', before: null, after: 3 },
    ]);
    expect(d.identical).toBe(false);
  });

  it('is JSON-safe (no undefined values)', () => {
    const b = base();
    b.nodes.push({ id: 'n', type: 'task', params: { error: 'boom' }, next: [] });
    const judge = b.nodes[1];
    if (judge === undefined) throw new Error('fixture');
    judge.name = 'Gate';
    const d = diffDsl(base(), b);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});
