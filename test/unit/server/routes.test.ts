import { describe, expect, it } from 'vitest';
import { buildInput, matchRoute, parseIfMatch, routes, splitInput } from '../../../main/protocol/routes.js';
import { backendMethodNames, backendMethods } from '../../../preload/contract/index.js';

describe('server routes, derived from the contract', () => {
  it('gives every backend method exactly one route, and no two routes the same verb and shape', () => {
    expect(routes.map((r) => r.method).sort()).toEqual([...backendMethodNames].sort());
    const shapes = routes.map((r) => `${r.verb} ${r.segments.map((s) => ('literal' in s ? s.literal : ':')).join('/')}`);
    expect(new Set(shapes).size).toBe(shapes.length);
  });

  it('matches literal segments before parameters, decodes ids, and tells a wrong verb from no route', () => {
    expect(matchRoute('GET', '/api/v1/events/verify')).toMatchObject({ kind: 'found', route: { method: 'events:verify' } });
    expect(matchRoute('GET', '/api/v1/workflows/a%2Fb/versions/3/diff/4')).toMatchObject({
      kind: 'found',
      route: { method: 'versions:diff' },
      params: { workflow_id: 'a/b', from: '3', to: '4' },
    });
    expect(matchRoute('DELETE', '/api/v1/workflows')).toEqual({ kind: 'wrong-verb', allowed: expect.arrayContaining(['GET', 'POST']) as unknown });
    expect(matchRoute('GET', '/api/v1/nope')).toEqual({ kind: 'none' });
    expect(() => matchRoute('GET', '/api/v1/workflows/%E0%A4%A')).toThrow(/percent-encoding/);
    expect(matchRoute('PUT', '/api/v1/runbooks')).toMatchObject({ kind: 'found', route: { method: 'runbooks:save' } });
    expect(matchRoute('DELETE', '/api/v1/runbooks/Level%201%20%2F%20app')).toMatchObject({ kind: 'found', route: { method: 'runbooks:delete' }, params: { runbook: 'Level 1 / app' } });
    // `import` is a literal under POST, and a runbook name under GET and DELETE.
    expect(matchRoute('POST', '/api/v1/runbooks/import')).toMatchObject({ kind: 'found', route: { method: 'runbooks:import' } });
    expect(matchRoute('GET', '/api/v1/runbooks/import')).toMatchObject({ kind: 'found', route: { method: 'runbooks:get' }, params: { runbook: 'import' } });
    expect(matchRoute('POST', '/api/v1/runbooks/r1/rehearsals')).toMatchObject({ kind: 'found', route: { method: 'rehearsals:record' }, params: { runbook: 'r1' } });
    expect(matchRoute('GET', '/api/v1/rehearsals/x/report')).toMatchObject({ kind: 'found', route: { method: 'rehearsals:report' }, params: { rehearsal_id: 'x' } });
  });

  it('coerces path and query strings only where the schema expects a number', () => {
    const m = matchRoute('GET', '/api/v1/workflows/123/versions/7');
    if (m.kind !== 'found') throw new Error('no route');
    expect(buildInput(m.route, { params: m.params, query: new URLSearchParams(), body: undefined, ifMatch: undefined })).toEqual({ workflow_id: '123', version: 7 });
    const list = matchRoute('GET', '/api/v1/workflows');
    if (list.kind !== 'found') throw new Error('no route');
    expect(buildInput(list.route, { params: {}, query: new URLSearchParams('query=42'), body: undefined, ifMatch: undefined })).toEqual({ query: '42' });
  });

  it('reads If-Match as one revision', () => {
    expect(parseIfMatch('"7"')).toBe(7);
    expect(parseIfMatch('W/"7"')).toBe(7);
    expect(parseIfMatch('7')).toBe(7);
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(() => parseIfMatch('"1", "2"')).toThrow();
  });

  it('what a client splits, the server reassembles into the same input', () => {
    const samples: Record<string, Record<string, unknown>> = {
      'versions:rollback': { workflow_id: 'wf 1/é', version: 3, expected_revision: 9 },
      'runs:list': { workflow_id: 'w', status: 'failed', offset: 10, limit: 5 },
      'runs:start': { workflow_id: 'w', params: { a: 1 }, wait: true },
      'events:list': { after: 12, limit: 3 },
      'runbooks:save': { runbook: { name: 'Level 1', description: 'd', steps: [{ kind: 'note', title: 'Read', expected_ms: 1, text: 'hi' }] } },
      'runbooks:delete': { runbook: 'Level 1 / app' },
      'runbooks:export': { runbook: 'Level 1 / app', format: 'json' },
      'rehearsals:list': { runbook: 'r', limit: 5 },
      'rehearsals:report': { rehearsal_id: 'a b' },
    };
    for (const [method, input] of Object.entries(samples)) {
      const route = routes.find((r) => r.method === method)!;
      const { path, query, body, expectedRevision } = splitInput(route, input);
      const m = matchRoute(route.verb, path);
      if (m.kind !== 'found') throw new Error(`no route for ${path}`);
      const rebuilt = buildInput(m.route, { params: m.params, query, body: route.verb === 'GET' ? undefined : body, ifMatch: expectedRevision });
      expect(rebuilt).toEqual(input);
      expect((backendMethods[m.route.method].input as { safeParse(v: unknown): { success: boolean } }).safeParse(rebuilt).success).toBe(true);
    }
  });
});
