import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendMethodNames, backendMethods } from '../../../preload/contract/index.js';
import { type OpenApiChecker, checkAnswersOf, loadChecker, takeViolations } from '../../support/openapi-conformance.js';
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

/** The conformance hook (test/support/openapi-conformance.ts): every answer of a registered server is checked against its served document. */
describe('answers conform to the served OpenAPI document', () => {
  let s: TestServer;
  let checker: OpenApiChecker;
  beforeAll(async () => {
    s = await startServer({ demo: true });
    checker = await loadChecker(s.url);
  });
  afterAll(async () => {
    await s.close();
  });

  it('workflow objects carry `version` (the active version, as origin clients read it), and the document declares it', async () => {
    const list = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/workflows');
    const workflows = (list.json as { workflows: Array<{ id: string; version: number | null; active_version: number | null }> }).workflows;
    expect(workflows.length).toBeGreaterThan(0);
    for (const wf of workflows) expect(wf.version).toBe(wf.active_version);
    const one = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${workflows[0]!.id}`);
    expect(checker.problems('GET', `/api/v1/workflows/${workflows[0]!.id}`, one.status, one.headers.get('content-type'), JSON.stringify(one.json))).toEqual([]);
    const schema = checker.document.paths['/api/v1/workflows/{workflow_id}']!.get!.responses['200']!.content!['application/json']!.schema!;
    expect(schema).toMatchObject({ properties: { version: expect.any(Object) as unknown }, required: expect.arrayContaining(['version']) as unknown });
  });

  it('refuses a field the schema forbids, an undocumented status or content type, and a 2xx from an undocumented route', async () => {
    const res = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/whoami');
    const type = res.headers.get('content-type');
    expect(checker.problems('GET', '/api/v1/whoami', 200, type, JSON.stringify(res.json))).toEqual([]);
    expect(checker.problems('GET', '/api/v1/whoami', 200, type, JSON.stringify({ ...(res.json as object), extra: 1 })).join('\n')).toMatch(/additional properties.*extra/);
    expect(checker.problems('GET', '/api/v1/whoami', 200, type, JSON.stringify({ name: 'x' })).join('\n')).toMatch(/required property 'role'/);
    expect(checker.problems('GET', '/api/v1/whoami', 204, type, '').join('\n')).toMatch(/status is not documented/);
    expect(checker.problems('GET', '/api/v1/whoami', 200, 'text/html', '<p>hi</p>').join('\n')).toMatch(/content type text\/html is not documented/);
    expect(checker.problems('GET', '/api/v1/nothing-here', 200, type, '{}').join('\n')).toMatch(/not in the document/);
    // A refusal anywhere is the typed error, and only that.
    expect(checker.problems('GET', '/api/v1/nothing-here', 404, type, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'm', hint: 'h' } }))).toEqual([]);
    expect(checker.problems('GET', '/api/v1/nothing-here', 404, type, JSON.stringify({ error: 'nope' }))).not.toEqual([]);
  });

  it('the hook in the test client records an answer that does not conform, from any registered server', async () => {
    // A stand-in for a server whose serializer adds a field: it serves the real document, and one answer with more than it allows.
    const served = await (await fetch(`${s.url}/api/v1/openapi.json`)).text();
    const rogue = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(req.url === '/api/v1/openapi.json' ? served : JSON.stringify({ name: 'x', role: 'viewer', environment: null, leaked: 'secret' }));
    });
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}`;
      await checkAnswersOf(url);
      expect((await fetch(`${url}/api/v1/whoami`)).status).toBe(200);
      const found = takeViolations();
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/GET \/api\/v1\/whoami answered 200[\s\S]*additional properties[\s\S]*leaked/);
    } finally {
      await new Promise((resolve) => rogue.close(resolve));
    }
  });
});
