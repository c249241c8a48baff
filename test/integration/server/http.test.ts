import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, httpStatusOf, type ErrorCode } from '../../../preload/contract/index.js';
import { type TestServer, api, dsls, startServer, uniqueName } from './harness.js';

/** The REST surface as an origin client (seed 000) and curl see it. */
describe('workflow server: HTTP', () => {
  let s: TestServer;
  let admin: string;
  beforeAll(async () => {
    s = await startServer();
    admin = s.tokens.admin;
  });
  afterAll(async () => {
    await s.close();
  });

  const expectError = (res: { status: number; json: unknown }, code: ErrorCode) => {
    expect(res.status).toBe(httpStatusOf(code));
    const body = res.json as { error: { code: string; message: string; hint: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(body.error.hint.length).toBeGreaterThan(0);
    return body.error;
  };

  async function workflowWithTwoVersions() {
    const created = await api(s.url, admin, 'POST', '/api/v1/workflows', { name: uniqueName('http'), dsl: dsls.v1 });
    const id = (created.json as { id: string }).id;
    await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: dsls.v2, change_log: 'tighten' });
    await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions/2/publish`);
    return id;
  }

  it('GET /health answers without a token', async () => {
    const res = await api(s.url, undefined, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', name: 'rewind', protocol: 1, schema_version: s.backend.engine.schemaVersion });
    // The server's stable id: its database's, the same as its log's head names.
    expect((res.json as { server_id: string }).server_id).toBe(await s.backend.engine.serverId());
  });

  it('GET /api/v1/workflows/{id} carries version, revision and an ETag', async () => {
    const id = await workflowWithTwoVersions();
    const res = await api(s.url, admin, 'GET', `/api/v1/workflows/${id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, version: 2, active_version: 2, revision: 3 });
    expect(res.headers.get('etag')).toBe('"3"');
    const list = await api(s.url, admin, 'GET', '/api/v1/workflows');
    expect((list.json as { workflows: Array<{ id: string; version: number }> }).workflows.find((w) => w.id === id)?.version).toBe(2);
  });

  it('versions: {versions, total}; a draft from only {change_log}; rollback answers as seed 000', async () => {
    const id = await workflowWithTwoVersions();
    const draft = await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions`, { change_log: 'Threshold 5 % → 3 %' });
    expect(draft.status).toBe(200);
    expect(draft.json).toMatchObject({ workflow_id: id, version: 3, status: 'draft', change_log: 'Threshold 5 % → 3 %' });
    const list = await api(s.url, admin, 'GET', `/api/v1/workflows/${id}/versions`);
    expect(list.json).toMatchObject({ total: 3, versions: [{ version: 3 }, { version: 2, status: 'active' }, { version: 1, status: 'deprecated' }] });
    const rollback = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`);
    expect(rollback.status).toBe(200);
    expect(rollback.json).toMatchObject({ success: true, workflow_id: id, version: 1, from_version: 2, revision: 5 });
    expect(typeof (rollback.json as { message: string }).message).toBe('string');
    expect(typeof (rollback.json as { seq: number }).seq).toBe('number');
    expect(rollback.headers.get('etag')).toBe('"5"');
    const after = await api(s.url, admin, 'GET', `/api/v1/workflows/${id}`);
    expect((after.json as { version: number }).version).toBe(1);
  });

  it('If-Match: a stale revision gets 412 with the current revision and workflow; the right one applies', async () => {
    const id = await workflowWithTwoVersions();
    const stale = await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, undefined, { 'if-match': '"2"' });
    const error = expectError(stale, 'STALE_REVISION') as unknown as { details: { current_revision: number; workflow: { version: number; revision: number } } };
    expect(error.details.current_revision).toBe(3);
    expect(error.details.workflow).toMatchObject({ version: 2, revision: 3 });
    expect(stale.headers.get('etag')).toBe('"3"');
    const weak = await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, undefined, { 'if-match': 'W/"3"' });
    expect(weak.status).toBe(200);
    expectError(await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/pause`, undefined, { 'if-match': 'banana' }), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/pause`, { expected_revision: 1 }, { 'if-match': '"4"' }), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/runs`, {}, { 'if-match': '"4"' }), 'MALFORMED_REQUEST');
    expect((await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/pause`, undefined, { 'if-match': '*' })).status).toBe(200);
  });

  it('Idempotency-Key: a retry answers the first response and applies nothing twice', async () => {
    const id = await workflowWithTwoVersions();
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, undefined, headers);
    const second = await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, undefined, headers);
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
    const events = await api(s.url, admin, 'GET', `/api/v1/events?workflow_id=${id}`);
    expect((events.json as { events: Array<{ type: string }> }).events.filter((e) => e.type === 'workflow_rollback')).toHaveLength(1);
    const conflict = await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/versions/2/rollback`, undefined, headers);
    expectError(conflict, 'IDEMPOTENCY_CONFLICT');
    const adminTokenId = (await s.tokenStore.verify(admin))!.id;
    expect(JSON.stringify(conflict.json)).not.toContain(adminTokenId);
    // Keys are scoped to the token: another token's identical key is another request.
    const other = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/versions/2/rollback`, undefined, headers);
    expect(other.status).toBe(200);
    expectError(await api(s.url, admin, 'POST', `/api/v1/workflows/${id}/pause`, undefined, { 'idempotency-key': 'has space' }), 'MALFORMED_REQUEST');
  });

  it('events: GET /api/v1/events?after=&limit= in seq order', async () => {
    const res = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/events?after=1&limit=3');
    const seqs = (res.json as { events: Array<{ seq: number }> }).events.map((e) => e.seq);
    expect(seqs).toEqual([2, 3, 4]);
  });

  it('refuses malformed requests with 4xx JSON, never a 5xx', async () => {
    expectError(await api(s.url, admin, 'POST', '/api/v1/workflows', '{"name": '), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'POST', '/api/v1/workflows', '[1,2]'), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'POST', '/api/v1/workflows', { name: 'x', unknown_field: 1 }), 'VALIDATION_FAILED');
    expectError(await api(s.url, admin, 'POST', '/api/v1/workflows', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'GET', '/api/v1/workflows?colour=red'), 'VALIDATION_FAILED');
    expectError(await api(s.url, admin, 'GET', '/api/v1/events?after=1&after=2'), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'GET', '/api/v1/events?after=soon'), 'VALIDATION_FAILED');
    expectError(await api(s.url, admin, 'GET', '/api/v1/workflows/x/versions/abc'), 'VALIDATION_FAILED');
    expectError(await api(s.url, admin, 'GET', '/api/v1/workflows/%E0%A4%A'), 'MALFORMED_REQUEST');
    expectError(await api(s.url, admin, 'GET', '/api/v1/nothing-here'), 'NOT_FOUND');
    const wrongVerb = await api(s.url, admin, 'DELETE', '/api/v1/workflows');
    expect(expectError(wrongVerb, 'NOT_FOUND').hint).toMatch(/GET, POST|POST, GET/);
    expectError(await api(s.url, admin, 'GET', '/api/v1/workflows/does-not-exist'), 'WORKFLOW_NOT_FOUND');
    const big = JSON.stringify({ name: 'big', description: 'x'.repeat(2 * 1024 * 1024) });
    expectError(await api(s.url, admin, 'POST', '/api/v1/workflows', big), 'PAYLOAD_TOO_LARGE');
    // After all that, it still serves.
    expect((await api(s.url, admin, 'GET', '/api/v1/workflows')).status).toBe(200);
  });

  it('every error code maps to one of the statuses the protocol promises', async () => {
    const statuses = new Set(Object.values(errorCodes));
    for (const s of statuses) expect([400, 401, 403, 404, 409, 412, 413, 422, 429, 500, 502, 503, 504]).toContain(s);
  });

  it('issues, lists and revokes tokens (admin only); a revoked token is refused', async () => {
    const created = await api(s.url, admin, 'POST', '/api/v1/tokens', { name: 'ci-bot', role: 'operator' });
    expect(created.status).toBe(201);
    const { id, token } = created.json as { id: string; token: string };
    expect(token).toMatch(/^rwt_/);
    expect((await api(s.url, token, 'GET', '/api/v1/whoami')).json).toEqual({ name: 'ci-bot', role: 'operator', environment: null, via: 'token', expires_at: null });
    const list = await api(s.url, admin, 'GET', '/api/v1/tokens');
    const listed = (list.json as { tokens: Array<Record<string, unknown>> }).tokens;
    expect(listed.find((t) => t.id === id)).toMatchObject({ name: 'ci-bot', role: 'operator', revoked_at: null });
    expect(JSON.stringify(list.json)).not.toContain(token);
    expectError(await api(s.url, admin, 'POST', '/api/v1/tokens', { name: 'ci-bot', role: 'viewer' }), 'DUPLICATE_NAME');
    expectError(await api(s.url, admin, 'POST', '/api/v1/tokens', { name: 'x', role: 'root' }), 'VALIDATION_FAILED');
    expectError(await api(s.url, token, 'POST', '/api/v1/tokens', { name: 'y', role: 'admin' }), 'FORBIDDEN');
    const revoked = await api(s.url, admin, 'DELETE', `/api/v1/tokens/${id}`);
    expect((revoked.json as { revoked_at: string | null }).revoked_at).not.toBeNull();
    expectError(await api(s.url, token, 'GET', '/api/v1/workflows'), 'UNAUTHORIZED');
    expectError(await api(s.url, admin, 'DELETE', '/api/v1/tokens/nope'), 'NOT_FOUND');
    const stored = (await s.backend.engine.store.read.get<{ token_hash: string }>('SELECT token_hash FROM tokens WHERE id = ?', [id]))!;
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.token_hash).not.toContain(token);
  });

  it('GET /metrics in Prometheus format: requests, latency, rollbacks, runs, sockets, seq', async () => {
    const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of [
      'rewind_http_requests_total{route="/api/v1/workflows/:workflow_id/versions/:version/rollback",method="POST",status="200"}',
      'rewind_http_request_duration_seconds_bucket',
      'rewind_rollbacks_total{outcome="applied"}',
      'rewind_rollbacks_total{outcome="refused"}',
      'rewind_runs{status="succeeded"}',
      'rewind_websocket_connections',
      'rewind_event_seq',
    ]) {
      expect(text).toContain(name);
    }
    expect((await api(s.url, undefined, 'GET', '/metrics')).status).toBe(401);
  });
});
