import { describe, expect, it } from 'vitest';
import { diffOutcomes } from '../../../../main/engine/executor/outcomes.js';

describe('diffOutcomes', () => {
  it('compares node by node, in order of first appearance', () => {
    const before = [
      { node_id: 'ingest', status: 'succeeded', output: { defect_rate: 0.04, tags: ['a'] } },
      { node_id: 'judge', status: 'succeeded', output: { verdict: 'ok', matched_rule: null, observed: 0.04 } },
      { node_id: 'legacy', status: 'succeeded', output: {} },
    ];
    const after = [
      // Same content, keys in another order: not a change.
      { node_id: 'ingest', status: 'succeeded', output: { tags: ['a'], defect_rate: 0.04 } },
      { node_id: 'judge', status: 'succeeded', output: { verdict: 'warning', matched_rule: 0, observed: 0.04 } },
      { node_id: 'notify', status: 'failed', output: null },
    ];
    expect(diffOutcomes(before, after)).toEqual([
      {
        node_id: 'ingest',
        before: { status: 'succeeded', output: { defect_rate: 0.04, tags: ['a'] } },
        after: { status: 'succeeded', output: { tags: ['a'], defect_rate: 0.04 } },
        changed: false,
      },
      {
        node_id: 'judge',
        before: { status: 'succeeded', output: { verdict: 'ok', matched_rule: null, observed: 0.04 } },
        after: { status: 'succeeded', output: { verdict: 'warning', matched_rule: 0, observed: 0.04 } },
        changed: true,
      },
      { node_id: 'legacy', before: { status: 'succeeded', output: {} }, after: null, changed: true },
      { node_id: 'notify', before: null, after: { status: 'failed', output: null }, changed: true },
    ]);
  });

  it('counts a status change with equal output as a change', () => {
    const r = diffOutcomes([{ node_id: 'a', status: 'succeeded', output: null }], [{ node_id: 'a', status: 'failed', output: null }]);
    expect(r[0]?.changed).toBe(true);
  });

  it('sees deep differences, including array order', () => {
    const r = diffOutcomes([{ node_id: 'a', status: 'succeeded', output: { xs: [1, 2], m: { k: 1 } } }], [{ node_id: 'a', status: 'succeeded', output: { xs: [2, 1], m: { k: 1 } } }]);
    expect(r[0]?.changed).toBe(true);
    const same = diffOutcomes([{ node_id: 'a', status: 'succeeded', output: { m: { k: 1, j: [1] } } }], [{ node_id: 'a', status: 'succeeded', output: { m: { j: [1], k: 1 } } }]);
    expect(same[0]?.changed).toBe(false);
  });

  it('uses the latest result of a node listed twice', () => {
    const r = diffOutcomes(
      [
        { node_id: 'a', status: 'failed', output: null },
        { node_id: 'a', status: 'succeeded', output: 1 },
      ],
      [{ node_id: 'a', status: 'succeeded', output: 1 }],
    );
    expect(r).toEqual([{ node_id: 'a', before: { status: 'succeeded', output: 1 }, after: { status: 'succeeded', output: 1 }, changed: false }]);
  });
});
