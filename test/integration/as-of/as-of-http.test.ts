import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, dsls, startServer } from '../server/harness.js';

/* As-of reads over HTTP: the query parameter, the X-Rewind-As-Of header, the refusal of the future, the OpenAPI document. */

describe('as_of over HTTP', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers a workflow, its versions and its runs as of a seq or a time, with X-Rewind-As-Of, and no ETag', async () => {
    const created = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: 'as-of-http', description: '', dsl: dsls.v1 });
    expect(created.status).toBe(200);
    const id = (created.json as { id: string }).id;
    const head = (await api(s.url, s.tokens.viewer, 'GET', '/api/v1/events/head')).json as { seq: number };
    const before = head.seq;
    const draft = (await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: dsls.v1, change_log: 'v2' })).json as { version: number };
    expect((await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions/${draft.version}/publish`, {})).status).toBe(200);
    const run = (await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, { wait: true })).json as { run_id: string };

    const then = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}?as_of=${before}`);
    expect(then.status).toBe(200);
    expect(then.headers.get('x-rewind-as-of')).toBe(String(before));
    expect(then.headers.get('etag')).toBeNull();
    expect(then.json).toMatchObject({ id, active_version: 1, version: 1, as_of_seq: before });
    const now = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}`);
    expect(now.json).toMatchObject({ active_version: 2 });
    expect(now.headers.get('x-rewind-as-of')).toBeNull();

    const versions = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}/versions?as_of=${before}`);
    expect((versions.json as { versions: Array<{ version: number; status: string }> }).versions.map((v) => [v.version, v.status])).toEqual([[1, 'active']]);
    const runsThen = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/runs?workflow_id=${id}&as_of=${before}`);
    expect(runsThen.json).toEqual({ runs: [], total: 0, has_more: false, next_cursor: null, prev_cursor: null, as_of_seq: before });
    expect((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/runs/${run.run_id}?as_of=${before}`)).json).toMatchObject({ error: { code: 'RUN_NOT_FOUND' } });

    const ts = new Date(Date.now() - 1).toISOString();
    const byTime = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/runs/${run.run_id}?as_of=${encodeURIComponent(ts)}`);
    expect(byTime.status).toBe(200);
    expect(Number(byTime.headers.get('x-rewind-as-of'))).toBeGreaterThan(before);
  });

  it('refuses a future moment with 422 AS_OF_IN_FUTURE and a hint, and a malformed one with 422 VALIDATION_FAILED', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const res = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows?as_of=${encodeURIComponent(future)}`);
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ error: { code: 'AS_OF_IN_FUTURE', hint: expect.stringContaining('past moment') } });
    const beyond = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/runs?as_of=999999999');
    expect(beyond.status).toBe(422);
    expect(beyond.json).toMatchObject({ error: { code: 'AS_OF_IN_FUTURE' } });
    const bad = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/incidents?as_of=yesterday');
    expect(bad.status).toBe(422);
    expect(bad.json).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it('declares as_of, X-Rewind-As-Of and AS_OF_IN_FUTURE in the served OpenAPI document', async () => {
    const doc = (await api(s.url, undefined, 'GET', '/api/v1/openapi.json')).json as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    for (const path of ['/api/v1/workflows', '/api/v1/workflows/{workflow_id}', '/api/v1/workflows/{workflow_id}/versions', '/api/v1/runs', '/api/v1/runs/{run_id}', '/api/v1/incidents']) {
      const op = doc.paths[path]!.get!;
      expect(op.parameters?.find((p) => p.name === 'as_of'), path).toMatchObject({ in: 'query' });
      expect(op.responses['200']?.headers, path).toHaveProperty('X-Rewind-As-Of');
    }
    expect(JSON.stringify(doc)).toContain('AS_OF_IN_FUTURE');
    expect(doc.paths['/api/v1/changes']!.get!.parameters?.map((p) => p.name).sort()).toEqual(['from', 'to', 'workflow_id']);
  });

  it('answers GET /api/v1/changes between two moments, and refuses a to before its from', async () => {
    const head = ((await api(s.url, s.tokens.viewer, 'GET', '/api/v1/events/head')).json as { seq: number }).seq;
    const res = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/changes?from=0&to=${head}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ from_seq: 0, to_seq: head, from_ts: null, workflows: expect.arrayContaining([expect.objectContaining({ workflow_name: 'as-of-http', active_before: null, active_after: 2 })]) });
    const backwards = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/changes?from=${head}&to=1`);
    expect(backwards.status).toBe(422);
    expect(backwards.json).toMatchObject({ error: { code: 'INVALID_RANGE' } });
  });
});
