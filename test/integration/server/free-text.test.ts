import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, dsls, startServer, uniqueName } from './harness.js';

/*
 * Free text refuses what names refuse, but newlines and tabs: a description, change log, comment,
 * reason or runbook text holding ESC[2J (clears the reader's terminal), BEL or U+202E (reverses what
 * follows) is refused with 422 naming the field and the character, and nothing is written.
 */

const ESC_CLEAR = 'nightly load\u001b[2J\u001b[H';
const BEL = 'ring\u0007ring';
const RLO = 'approved \u202eyb deined';
const FINE = 'Loads the warehouse.\n\tThen reports.';

const step = (over: Record<string, unknown> = {}) => ({ kind: 'note', title: 'Read the dashboard', expected_ms: 1000, text: 'Look at the error rate.', ...over });
const runbook = (over: Record<string, unknown> = {}, stepOver: Record<string, unknown> = {}) => ({ name: uniqueName('rb'), description: 'When orders fail', steps: [step(stepOver)], ...over });

describe('free text refuses control characters other than newline and tab', () => {
  let s: TestServer;
  let workflowId: string;
  beforeAll(async () => {
    s = await startServer();
    workflowId = ((await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('text'), dsl: dsls.v1 })).json as { id: string }).id;
  });
  afterAll(() => s?.close());

  it.each([
    ['workflow description', 'POST', '/api/v1/workflows', () => ({ name: uniqueName('x'), dsl: dsls.v1, description: ESC_CLEAR }), 'description'],
    ['workflow change log', 'POST', '/api/v1/workflows', () => ({ name: uniqueName('x'), dsl: dsls.v1, change_log: BEL }), 'change_log'],
    ['draft change log', 'POST', '/api/v1/workflows/:wf/versions', () => ({ dsl: dsls.v2, change_log: ESC_CLEAR }), 'change_log'],
    ['approval comment', 'POST', '/api/v1/runs/run_nope/approve', () => ({ decision: 'approve', comment: RLO }), 'comment'],
    ['canary abort reason', 'POST', '/api/v1/workflows/:wf/canary/abort', () => ({ reason: BEL }), 'reason'],
    ['template workflow description', 'POST', '/api/v1/templates/etl-pipeline/workflows', () => ({ name: uniqueName('x'), params: {}, description: ESC_CLEAR }), 'description'],
    ['runbook description', 'PUT', '/api/v1/runbooks', () => ({ runbook: runbook({ description: ESC_CLEAR }) }), 'runbook.description'],
    ['runbook step title', 'PUT', '/api/v1/runbooks', () => ({ runbook: runbook({}, { title: BEL }) }), 'runbook.steps.0.title'],
    ['runbook note text', 'PUT', '/api/v1/runbooks', () => ({ runbook: runbook({}, { text: RLO }) }), 'runbook.steps.0.text'],
    ['runbook checklist item', 'PUT', '/api/v1/runbooks', () => ({ runbook: runbook({}, { kind: 'checklist', text: undefined, items: ['ok', ESC_CLEAR] }) }), 'runbook.steps.0.items.1'],
  ] as const)('refuses it in the %s (422 naming the field and the character)', async (_what, verb, path, body, field) => {
    const before = (await api(s.url, s.tokens.admin, 'GET', '/api/v1/events/head')).json;
    const res = await api(s.url, s.tokens.admin, verb, path.replace(':wf', workflowId), body());
    expect(res.status, JSON.stringify(res.json)).toBe(422);
    const error = (res.json as { error: { code: string; message: string; details: { issues: Array<{ path: string; message: string }> } } }).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.issues[0]).toMatchObject({ path: field, message: expect.stringMatching(/control characters other than newline and tab.*found U\+(001B|0007|202E) at character \d+/) });
    // Nothing was written.
    expect((await api(s.url, s.tokens.admin, 'GET', '/api/v1/events/head')).json).toEqual(before);
  });

  it('keeps newlines and tabs', async () => {
    const created = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('fine'), dsl: dsls.v1, description: FINE, change_log: FINE });
    expect(created.status).toBe(200);
    expect((created.json as { description: string }).description).toBe(FINE);
    const saved = await api(s.url, s.tokens.admin, 'PUT', '/api/v1/runbooks', { runbook: runbook({ description: FINE }, { text: FINE }) });
    expect(saved.status).toBe(200);
  });
});
