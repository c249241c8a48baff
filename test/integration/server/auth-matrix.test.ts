import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleAllows } from '../../../main/protocol/wire.js';
import { routes } from '../../../main/protocol/routes.js';
import { type Role, backendMethods, isReviewRequested } from '../../../preload/contract/index.js';
import { type TestServer, api, dsls, startServer, uniqueName } from './harness.js';

type Caller = 'none' | Role;
const callers: Caller[] = ['none', 'viewer', 'operator', 'admin'];

/** Every route × no token, viewer, operator, admin: 401, 403, or let through (whatever the rules then say, never a 5xx). */
describe('workflow server: auth matrix', () => {
  let s: TestServer;
  let values: Record<string, string>;

  beforeAll(async () => {
    // Rollbacks are reviewed here (an operator's action, as the answer routes' least role), so a review
    // request exists for the review routes to be probed at.
    s = await startServer({ sandbox: { review: { actions: new Set(['rollback']), expiryMs: 3_600_000 } } });
    const reviewed = await s.backend.call('workflows:create', { name: uniqueName('auth reviewed'), dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: reviewed.id, dsl: dsls.v2 });
    await s.backend.call('versions:publish', { workflow_id: reviewed.id, version: 2 });
    const asked = await s.backend.call('versions:rollback', { workflow_id: reviewed.id, version: 1 }, { actor: 'requester' });
    if (!isReviewRequested(asked)) throw new Error('the rollback should have been sent for review');
    const wf = await s.backend.call('workflows:create', { name: uniqueName('auth'), dsl: dsls.v1 });
    const run = await s.backend.call('runs:start', { workflow_id: wf.id, wait: true });
    const runbook = await s.backend.call('runbooks:save', { runbook: { name: uniqueName('auth runbook'), description: 'd', steps: [{ kind: 'note', title: 'Read', expected_ms: 1, text: 'hi' }] } });
    const now = new Date().toISOString();
    const rehearsal = await s.backend.call('rehearsals:record', {
      runbook: runbook.id,
      record: { runbook_name: runbook.name, scenario: null, started_at: now, finished_at: now, total_ms: 1, passed: true, steps: [], rollbacks: [] },
    });
    // A workflow whose every run fails: its first run opens an incident record.
    const failing = await s.backend.call('workflows:create', {
      name: uniqueName('auth failing'),
      dsl: { defaults: { fail: false }, nodes: [{ id: 'boom', type: 'task', params: { duration_ms: 0, fail_if: { field: 'fail', op: '==', value: true } }, next: [] }] },
    });
    await s.backend.call('runs:start', { workflow_id: failing.id, params: { fail: true }, wait: true });
    const incident = (await s.backend.call('incidents:records', { status: 'open', workflow_id: failing.id })).records[0]!;
    values = { incident_id: incident.incident_id, workflow_id: wf.id, version: '1', from: '1', to: '1', run_id: run.run_id, seq: '1', runbook: runbook.name, rehearsal_id: rehearsal.id, template: 'etl-pipeline', webhook_id: 'wh_sample', review_id: asked.review.review_id };
  });
  afterAll(async () => {
    await s.close();
  });

  const tokenOf = (c: Caller) => (c === 'none' ? undefined : s.tokens[c]);
  const check = (status: number, caller: Caller, needed: Role) => {
    if (caller === 'none') expect(status).toBe(401);
    else if (!roleAllows(caller, needed)) expect(status).toBe(403);
    else {
      expect(status).not.toBe(401);
      expect(status).not.toBe(403);
      expect(status).toBeLessThan(500);
    }
  };

  for (const route of routes) {
    const needed = backendMethods[route.method].role;
    for (const caller of callers) {
      it(`${route.verb} ${route.template} as ${caller} (needs ${needed})`, async () => {
        const path = route.segments
          .map((seg) => {
            if ('literal' in seg) return seg.literal;
            const value = values[seg.param];
            // A route with a parameter the matrix has no sample for would be probed at a 404 and prove nothing.
            if (value === undefined) throw new Error(`the auth matrix needs a sample value for :${seg.param}`);
            return encodeURIComponent(value);
          })
          .join('/');
        const res = await api(s.url, tokenOf(caller), route.verb, `/${path}`, route.verb === 'GET' ? undefined : {});
        check(res.status, caller, needed);
        if (res.status >= 400) expect((res.json as { error: { code: string } }).error.code).toBeTruthy();
      });
    }
  }

  const serverOnly: Array<{ verb: string; path: string; needed: Role; body?: unknown }> = [
    { verb: 'GET', path: '/metrics', needed: 'viewer' },
    { verb: 'GET', path: '/api/v1/whoami', needed: 'viewer' },
    { verb: 'GET', path: '/api/v1/tokens', needed: 'admin' },
    { verb: 'POST', path: '/api/v1/tokens', needed: 'admin', body: {} },
    { verb: 'DELETE', path: '/api/v1/tokens/not-a-token', needed: 'admin' },
  ];
  for (const r of serverOnly) {
    for (const caller of callers) {
      it(`${r.verb} ${r.path} as ${caller} (needs ${r.needed})`, async () => {
        const res = await api(s.url, tokenOf(caller), r.verb, r.path, r.body);
        check(res.status, caller, r.needed);
      });
    }
  }

  for (const caller of callers) {
    it(`WebSocket ${'/api/v1/events/stream'} as ${caller}`, async () => {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/events/stream?after=0`, {
        headers: caller === 'none' ? {} : { authorization: `Bearer ${s.tokens[caller]}` },
      });
      const outcome = await new Promise<number>((resolve) => {
        ws.on('open', () => resolve(101));
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(-1));
      });
      ws.terminate();
      expect(outcome).toBe(caller === 'none' ? 401 : 101);
    });
  }

  it('a bad scheme, an unknown token and a revoked token are 401', async () => {
    expect((await api(s.url, undefined, 'GET', '/api/v1/workflows', undefined, { authorization: `Basic ${s.tokens.admin}` })).status).toBe(401);
    expect((await api(s.url, 'rwt_not-a-real-token-at-all', 'GET', '/api/v1/workflows')).status).toBe(401);
    const { info, token } = await s.tokenStore.issue({ name: 'short-lived', role: 'admin', createdBy: 'test' });
    expect((await api(s.url, token, 'GET', '/api/v1/workflows')).status).toBe(200);
    await s.tokenStore.revoke(info.id, 'test-admin');
    expect((await api(s.url, token, 'GET', '/api/v1/workflows')).status).toBe(401);
  });
});
