import { describe, expect, it } from 'vitest';
import { typedNodes, validateDsl } from '../../../../main/engine/dsl/graph.js';
import type { HttpParams } from '../../../../main/engine/dsl/node-params.js';
import { answerPathsRead } from '../../../../main/engine/dsl/reads.js';

/** What `redact_response` keeps: the paths of the answer that the rest of the workflow reads. */

describe('answerPathsRead', () => {
  it('collects the answer paths read by judgments, conditions, copies, scales and templates, through output_key and outputs.<id>', () => {
    const dsl = validateDsl({
      nodes: [
        { id: 'call', type: 'http', params: { method: 'GET', url: 'https://svc.example/x', output_key: 'inspection', redact_response: true }, next: ['judge', 'gate', 'copy', 'next_call'] },
        { id: 'judge', type: 'judgment', params: { rules: [{ field: 'inspection.defect_rate', op: '>', value: 0.05, outcome: 'warning' }, { field: 'other', op: '==', value: 1, outcome: 'x' }], default: 'pass' } },
        { id: 'gate', type: 'task', params: { fail_if: { field: 'outputs.call.summary.status', op: '==', value: 'down' } } },
        { id: 'copy', type: 'transform', params: { copy: { 'report.line': 'inspection.line' }, scale: { field: 'inspection.rows', factor: 2, to: 'double' } } },
        { id: 'next_call', type: 'http', params: { method: 'POST', url: 'https://svc.example/y/{{ctx.inspection.batch}}', body: { id: '{{ctx.outputs.call.id}}' } } },
      ],
    });
    const nodes = typedNodes(dsl);
    const call = nodes.find((n) => n.id === 'call') as { id: string; params: HttpParams };
    expect(answerPathsRead(nodes, call).sort()).toEqual(['batch', 'defect_rate', 'id', 'line', 'rows', 'summary.status']);
  });

  it("is '' when a node reads the whole answer", () => {
    const dsl = validateDsl({
      nodes: [
        { id: 'call', type: 'http', params: { method: 'GET', url: 'https://svc.example/x', redact_response: true }, next: ['send'] },
        { id: 'send', type: 'http', params: { method: 'POST', url: 'https://svc.example/y', body: '{{ctx.response}}' } },
      ],
    });
    const nodes = typedNodes(dsl);
    expect(answerPathsRead(nodes, nodes[0] as { id: string; params: HttpParams })).toEqual(['']);
  });
});
