import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stores } from '../../support/stores.js';
import { type TestServer, api, dsls, uniqueName, startServer } from './harness.js';

/*
 * U+0000 in any text a request carries (a path segment, a query value, a body string or key) is refused
 * with a 400 naming where it is, on both stores — PostgreSQL cannot store the character, and the fuzzer
 * found it answering 500 there. SQLite answers the same, so a client sees one behaviour.
 */
describe.each(stores)('workflow server: the NUL character on $kind', (factory) => {
  let s: TestServer;
  let workflowId: string;
  beforeAll(async () => {
    s = await startServer({ store: await factory.open(uniqueName('nul')) });
    workflowId = (await s.backend.call('workflows:create', { name: uniqueName('nul'), dsl: dsls.v1 })).id;
  });
  afterAll(async () => {
    await s.close();
    await factory.dispose();
  });

  const refused = (res: { status: number; json: unknown }) => {
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    const error = (res.json as { error: { code: string; message: string; hint: string } }).error;
    expect(error.code).toBe('MALFORMED_REQUEST');
    expect(error.message).toContain('U+0000');
    return error;
  };

  it('in a path segment, a query value, a body string and a body key: 400 naming the place, nothing written', async () => {
    const head = await s.backend.engine.latestSeq();
    refused(await api(s.url, s.tokens.viewer, 'GET', '/api/v1/workflows/%00/versions'));
    refused(await api(s.url, s.tokens.viewer, 'GET', `/api/v1/runs?workflow_id=a%00b`));
    const inBody = refused(await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params: { note: 'a\u0000b' } }));
    expect(inBody.message).toContain('params.note');
    refused(await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params: { 'a\u0000': 1 } }));
    refused(await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: 'x\u0000y', dsl: dsls.v1 }));
    expect(await s.backend.engine.latestSeq()).toBe(head);
  });

  it('before the role check, whose refusal is audited with the input: a viewer gets the same 400, not a 500', async () => {
    refused(await api(s.url, s.tokens.viewer, 'POST', `/api/v1/workflows/%00/pause`));
  });

  it('on the token routes too', async () => {
    refused(await api(s.url, s.tokens.admin, 'DELETE', '/api/v1/tokens/%00'));
    refused(await api(s.url, s.tokens.admin, 'POST', '/api/v1/tokens', { name: 'a\u0000', role: 'viewer' }));
  });

  it('through the backend itself (the console and the CLI on a sandbox or a served store)', async () => {
    await expect(s.backend.call('runs:start', { workflow_id: workflowId, params: { x: ['ok', 'no\u0000'] } })).rejects.toMatchObject({ code: 'MALFORMED_REQUEST', details: { path: 'params.x.1' } });
  });
});
