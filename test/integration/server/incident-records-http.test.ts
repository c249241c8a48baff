import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dsl, incidentPageSchema, incidentRecordSchema, incidentReportSchema, rollbackPlanSchema } from '../../../preload/contract/index.js';
import { type TestServer, api, startServer } from './harness.js';

/*
 * Incident records over HTTP: the routes the issue names, their roles, typed errors, the report with
 * its revision (If-Match), the rollback plan, paging, the /metrics histograms, and the OpenAPI document.
 * Every answer is parsed by its contract schema.
 */

const dsl = (label: string): Dsl => ({
  defaults: { fail: false },
  nodes: [{ id: 'work', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true }, output: { label } }, next: [] }],
});

describe('incident records over HTTP', () => {
  let s: TestServer;
  let workflowId = '';
  beforeAll(async () => {
    s = await startServer();
    const wf = await s.backend.call('workflows:create', { name: 'billing', dsl: dsl('v1') }, { actor: 'admin' });
    workflowId = wf.id;
    await s.backend.call('runs:start', { workflow_id: wf.id, params: {}, wait: true });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: { ...dsl('v2'), nodes: [{ ...dsl('v2').nodes[0]!, id: 'work2' }] }, change_log: 'rename' }, { actor: 'alice' });
    await s.backend.call('versions:publish', { workflow_id: wf.id, version: 2 }, { actor: 'alice' });
  });
  afterAll(() => s.close());

  const run = (params: Record<string, unknown>) => api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params, wait: true });

  it('lists, reads, acknowledges, mitigates, resolves and times an incident, and exports the figures', async () => {
    expect((await run({ fail: true })).status).toBe(200);
    const open = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/incidents/records?status=open');
    expect(open.status).toBe(200);
    const page = incidentPageSchema.parse(open.json);
    expect(page.records).toHaveLength(1);
    const id = page.records[0]!.incident_id;
    expect(page.records[0]).toMatchObject({ workflow_name: 'billing', version: 2, status: 'open', rehearsal: false });

    expect((await api(s.url, s.tokens.viewer, 'POST', `/api/v1/incidents/records/${id}/acknowledge`)).status).toBe(403);
    const ack = await api(s.url, s.tokens.operator, 'POST', `/api/v1/incidents/records/${id}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(incidentRecordSchema.parse(ack.json).acknowledged).not.toBeNull();

    const missing = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/incidents/records/inc-nope');
    expect(missing).toMatchObject({ status: 404, json: { error: { code: 'INCIDENT_NOT_FOUND' } } });
    expect((missing.json as { error: { hint: string } }).error.hint).toMatch(/incidents list/);

    // The plan before acting: from v2 back to v1, the last good version.
    const plan = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/incidents/records/${id}/rollback-plan`);
    expect(plan.status).toBe(200);
    const parsedPlan = rollbackPlanSchema.parse(plan.json);
    expect(parsedPlan).toMatchObject({ current_version: 2, target_version: 1 });
    expect(parsedPlan.markdown).toContain('- Target version: v1 (the last good version)');

    expect((await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${workflowId}/versions/1/rollback`)).status).toBe(200);
    expect((await run({})).status).toBe(200);
    const resolved = incidentRecordSchema.parse((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/incidents/records/${id}`)).json);
    expect(resolved).toMatchObject({ status: 'resolved', mitigated: { action: 'rollback' } });
    expect(resolved.time_to_resolve_s).not.toBeNull();

    const closeAgain = await api(s.url, s.tokens.operator, 'POST', `/api/v1/incidents/records/${id}/resolve`, { note: 'again' });
    expect(closeAgain).toMatchObject({ status: 409, json: { error: { code: 'INCIDENT_RESOLVED' } } });

    const metrics = await api(s.url, s.tokens.viewer, 'GET', '/metrics');
    expect(String(metrics.json)).toMatch(/^rewind_incident_time_to_mitigate_seconds_count 1$/m);
    expect(String(metrics.json)).toMatch(/^rewind_incident_time_to_resolve_seconds_count 1$/m);

    // The report: every log-known field filled; the human fields saved under If-Match, a stale one refused.
    const report = incidentReportSchema.parse((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/incidents/records/${id}/report`)).json);
    expect(report.markdown).toContain('- Affected version: v2');
    expect(report.markdown).toContain('- Recovered version: v1');
    expect(report.markdown).toContain('put forward by alice');
    expect(report.markdown).toContain('node `work2` added');
    const saved = await api(s.url, s.tokens.operator, 'PUT', `/api/v1/incidents/records/${id}/report`, { root_cause: 'renamed node', rollback_plan: parsedPlan.markdown }, { 'If-Match': '0' });
    expect(saved.status).toBe(200);
    const savedReport = incidentReportSchema.parse(saved.json);
    expect(savedReport.revision).toBe(1);
    expect(savedReport.markdown).toContain('## Attached: rollback plan');
    const stale = await api(s.url, s.tokens.operator, 'PUT', `/api/v1/incidents/records/${id}/report`, { lessons: 'x' }, { 'If-Match': '0' });
    expect(stale).toMatchObject({ status: 412, json: { error: { code: 'STALE_REVISION' } } });
  });

  it('pages the records with `before`, newest first', async () => {
    await run({ fail: true }); // v1 is healthy: a single failure after the resolution opens nothing…
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params: { fail: true }, version: 2, wait: true });
    const first = incidentPageSchema.parse((await api(s.url, s.tokens.viewer, 'GET', '/api/v1/incidents/records?status=all&limit=1')).json);
    expect(first.records).toHaveLength(1);
    expect(first.records[0]?.status).toBe('open');
    expect(first.next_before).toBe(first.records[0]?.opened_seq);
    const second = incidentPageSchema.parse((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/incidents/records?status=all&limit=1&before=${first.next_before}`)).json);
    expect(second.records.map((r) => r.status)).toEqual(['resolved']);
    expect(second.next_before).toBeNull();
    const bad = await api(s.url, s.tokens.viewer, 'GET', '/api/v1/incidents/records?status=closed');
    expect(bad).toMatchObject({ status: 422, json: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('is in the served OpenAPI document', async () => {
    const doc = (await api(s.url, undefined, 'GET', '/api/v1/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    for (const [path, verb] of [
      ['/api/v1/incidents/records', 'get'],
      ['/api/v1/incidents/records/{incident_id}', 'get'],
      ['/api/v1/incidents/records/{incident_id}/acknowledge', 'post'],
      ['/api/v1/incidents/records/{incident_id}/resolve', 'post'],
      ['/api/v1/incidents/records/{incident_id}/report', 'get'],
      ['/api/v1/incidents/records/{incident_id}/report', 'put'],
      ['/api/v1/incidents/records/{incident_id}/rollback-plan', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[verb], `${verb} ${path}`).toBeDefined();
    }
  });
});
