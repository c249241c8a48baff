import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendMethodNames, backendMethods } from '../../../preload/contract/index.js';
import { type TestServer, api, startServer } from './harness.js';

describe('GET /api/v1/openapi.json', () => {
  let s: TestServer;
  let doc: { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>>; components: Record<string, Record<string, unknown>> };
  beforeAll(async () => {
    s = await startServer();
    const res = await api(s.url, undefined, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.json as typeof doc;
  });
  afterAll(async () => {
    await s.close();
  });

  it('is a valid OpenAPI 3.1 document, served without a token', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every contract method at its route, with its least role, parameters and the error shape', () => {
    for (const name of backendMethodNames) {
      const spec = backendMethods[name];
      const path = spec.http.path.replace(/:([a-z_]+)/g, '{$1}');
      const op = doc.paths[path]?.[spec.http.method.toLowerCase()];
      expect(op, `${name} at ${spec.http.method} ${path}`).toMatchObject({ 'x-rewind-method': name, 'x-rewind-role': spec.role, security: [{ bearerAuth: [] }] });
      expect(op?.responses).toMatchObject({ '4XX': { $ref: '#/components/responses/Error' }, '5XX': { $ref: '#/components/responses/Error' } });
    }
    const rollback = doc.paths['/api/v1/workflows/{workflow_id}/versions/{version}/rollback']?.post as { parameters: Array<{ name: string; in: string }>; 'x-rewind-role': string };
    expect(rollback['x-rewind-role']).toBe('operator');
    expect(rollback.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:workflow_id', 'path:version', 'header:If-Match', 'header:Idempotency-Key']);
    const runs = doc.paths['/api/v1/runs']?.get as { parameters: Array<{ name: string; in: string; schema: { type?: string } }> };
    expect(runs.parameters.find((p) => p.name === 'limit')).toMatchObject({ in: 'query', schema: { type: 'integer' } });
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(doc.components.schemas?.Error).toMatchObject({ properties: { error: { required: expect.arrayContaining(['code', 'message', 'hint']) } } });
  });

  it('answers the routes it documents: a request built from the document reaches the method', async () => {
    const create = doc.paths['/api/v1/workflows']?.post as { requestBody: { content: { 'application/json': { schema: { required: string[] } } } } };
    expect(create.requestBody.content['application/json'].schema.required).toEqual(['name']);
    const made = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: 'from-openapi' });
    expect(made.status).toBe(200);
    const refused = await api(s.url, s.tokens.viewer, 'POST', '/api/v1/workflows', { name: 'viewer-cannot' });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.any(String), hint: expect.any(String) } });
  });
});
