import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, startServer, uniqueName } from './harness.js';

/** Runbooks over plain HTTP, as curl sees them: PUT and DELETE routes, encoded path parameters, and the roles. */
describe('workflow server: runbooks over HTTP', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => {
    await s.close();
  });

  const runbook = (name: string) => ({ name, description: 'd', steps: [{ kind: 'note', title: 'Read', expected_ms: 1, text: 'hi' }] });
  const record = (name: string) => {
    const now = new Date().toISOString();
    return { runbook_name: name, scenario: null, started_at: now, finished_at: now, total_ms: 12, passed: true, steps: [], rollbacks: [] };
  };

  it('admins save (PUT) and delete (DELETE); operators and viewers may not', async () => {
    const name = `${uniqueName('Level 2')} / config`;
    expect((await api(s.url, s.tokens.operator, 'PUT', '/api/v1/runbooks', { runbook: runbook(name) })).status).toBe(403);
    const saved = await api(s.url, s.tokens.admin, 'PUT', '/api/v1/runbooks', { runbook: runbook(name) });
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ name, created_by: 'admin' });
    const path = `/api/v1/runbooks/${encodeURIComponent(name)}`;
    expect((await api(s.url, s.tokens.viewer, 'GET', path)).json).toMatchObject({ name });
    const exported = await api(s.url, s.tokens.viewer, 'GET', `${path}/export?format=json`);
    expect(JSON.parse((exported.json as { text: string }).text)).toEqual(runbook(name));
    expect((await api(s.url, s.tokens.operator, 'DELETE', path)).status).toBe(403);
    expect((await api(s.url, s.tokens.admin, 'DELETE', path)).json).toEqual({ deleted: true });
    expect((await api(s.url, s.tokens.viewer, 'GET', path)).status).toBe(404);
  });

  it('imports as admin only, refusing a bad file with 422 INVALID_RUNBOOK', async () => {
    const text = JSON.stringify({ ...runbook(uniqueName('imported')), steps: [{ kind: 'wait', title: 'Drain', expected_ms: 1 }] });
    expect((await api(s.url, s.tokens.operator, 'POST', '/api/v1/runbooks/import', { text, format: 'json' })).status).toBe(403);
    const refused = await api(s.url, s.tokens.admin, 'POST', '/api/v1/runbooks/import', { text, format: 'json' });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ error: { code: 'INVALID_RUNBOOK', message: "Step 1 ('Drain'): ms: give either ms or until (with timeout_ms), not both or neither" } });
  });

  it('operators record rehearsals, recorded as themselves; viewers read them and may not record', async () => {
    const name = uniqueName('recorded');
    await api(s.url, s.tokens.admin, 'PUT', '/api/v1/runbooks', { runbook: runbook(name) });
    const path = `/api/v1/runbooks/${encodeURIComponent(name)}/rehearsals`;
    expect((await api(s.url, s.tokens.viewer, 'POST', path, { record: record(name) })).status).toBe(403);
    const kept = await api(s.url, s.tokens.operator, 'POST', path, { record: record(name) });
    expect(kept.status).toBe(200);
    const id = (kept.json as { id: string; created_by: string }).id;
    expect(kept.json).toMatchObject({ created_by: 'operator', runbook_name: name, total_ms: 12 });
    expect((await api(s.url, s.tokens.viewer, 'GET', path)).json).toMatchObject({ rehearsals: [{ id }] });
    expect((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/rehearsals/${id}`)).json).toMatchObject({ id });
    const report = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/rehearsals/${id}/report`);
    expect((report.json as { markdown: string }).markdown).toContain(`# Post-incident report: ${name}`);
    const audit = (await s.backend.call('events:list', { limit: 10000 })).events.filter((e) => e.type === 'rehearsal_recorded').at(-1);
    expect(audit).toMatchObject({ actor: 'operator', payload: { rehearsal_id: id, name, passed: true, total_ms: 12 } });
  });
});
