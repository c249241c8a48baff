import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { httpStatusOf, type ErrorCode, type RewindEvent } from '../../../preload/contract/index.js';
import { stores } from '../../support/stores.js';
import { type TestServer, api, startServer, uniqueName } from './harness.js';

/*
 * The canary routes as a client of the workflow server sees them, on both stores: the publish body,
 * the workflow read, the health route, promote and abort with their roles, and an automatic rollback
 * reaching a live subscriber as `workflow_rollback` by `policy:canary`.
 */

const dsl = {
  defaults: { fail: false, defect_rate: 0.01 },
  nodes: [
    { id: 'work', type: 'task', params: { duration_ms: 2, fail_if: { field: 'fail', op: '==', value: true } }, next: ['judge'] },
    { id: 'judge', type: 'judgment', params: { rules: [{ field: 'defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'pass' }, next: [] },
  ],
};

describe.each(stores)('workflow server: canary routes on $kind', (factory) => {
  let s: TestServer | null = null;
  let n = 0;
  afterEach(async () => {
    await s?.close();
    s = null;
  });
  afterAll(() => factory.dispose());

  async function serverWithDraft(): Promise<{ srv: TestServer; id: string }> {
    n += 1;
    const srv = await startServer({ store: await factory.open(`canary-http${n}`) });
    s = srv;
    const created = await api(srv.url, srv.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('canary'), dsl });
    const id = (created.json as { id: string }).id;
    await api(srv.url, srv.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl, change_log: 'candidate' });
    return { srv, id };
  }

  const expectError = (res: { status: number; json: unknown }, code: ErrorCode) => {
    expect(res.status).toBe(httpStatusOf(code));
    const body = res.json as { error: { code: string; hint: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.hint.length).toBeGreaterThan(0);
  };

  it('publishes a canary, shows it on the workflow, rolls back by itself, and a subscriber sees policy:canary', async () => {
    const { srv, id } = await serverWithDraft();
    const seen: RewindEvent[] = [];
    const off = srv.backend.subscribe({ after: 0, onEvent: (e) => seen.push(e) });
    const canary = { percent: 10, min_runs: 2, max_failure_rate: 0.4, promote: 'manual' };
    const published = await api(srv.url, srv.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions/2/publish`, { canary });
    expect(published.status).toBe(200);
    expect(published.json).toMatchObject({ success: true, version: 2, from_version: 1 });
    const read = await api(srv.url, srv.tokens.viewer, 'GET', `/api/v1/workflows/${id}`);
    expect(read.json).toMatchObject({ active_version: 1, canary: { version: 2, percent: 10, policy: canary, runs: 0, failures: 0, failure_rate: 0, state: 'running' } });

    for (let i = 0; i < 2; i++) {
      const run = await api(srv.url, srv.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, { version: 2, params: { fail: true }, wait: true });
      expect(run.json).toMatchObject({ version: 2, status: 'failed', drawn_reason: 'explicit version' });
    }
    const after = await api(srv.url, srv.tokens.viewer, 'GET', `/api/v1/workflows/${id}`);
    expect(after.json).toMatchObject({ active_version: 1, canary: null });
    await expect.poll(() => seen.some((e) => e.type === 'canary_aborted')).toBe(true);
    off();
    expect(seen.find((e) => e.type === 'workflow_rollback')).toMatchObject({ actor: 'policy:canary', payload: { from_version: 2, to_version: 1 } });
    expect(seen.find((e) => e.type === 'canary_aborted')?.payload).toMatchObject({ version: 2, runs: 2, failures: 2, failure_rate: 1, threshold: 'max_failure_rate' });

    const health = await api(srv.url, srv.tokens.viewer, 'GET', `/api/v1/workflows/${id}/health`);
    expect(health.status).toBe(200);
    expect((health.json as { versions: unknown[] }).versions).toEqual([expect.objectContaining({ version: 2, runs: 2, succeeded: 0, failed: 2, failure_rate: 1 })]);
    const none = await api(srv.url, srv.tokens.viewer, 'GET', `/api/v1/workflows/${id}/health?since=2999-01-01T00:00:00Z`);
    expect(none.json).toMatchObject({ since: '2999-01-01T00:00:00.000Z', versions: [] });
  });

  it('refuses bad input with a code and a hint, and keeps promote and abort to operators', async () => {
    const { srv, id } = await serverWithDraft();
    const publish = (canary: unknown, v = 2) => api(srv.url, srv.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions/${v}/publish`, { canary });
    expectError(await publish({ percent: 0, min_runs: 1, max_failure_rate: 0.1, promote: 'auto' }), 'VALIDATION_FAILED');
    expectError(await publish({ percent: 10, min_runs: 1, max_failure_rate: 2, promote: 'auto' }), 'VALIDATION_FAILED');
    expectError(await publish({ percent: 10, min_runs: 0, max_failure_rate: 0.1, promote: 'auto' }), 'VALIDATION_FAILED');
    expectError(await publish({ percent: 10, min_runs: 1, max_failure_rate: 0.1, promote: 'auto' }, 1), 'VERSION_NOT_DRAFT');
    expectError(await api(srv.url, srv.tokens.operator, 'POST', `/api/v1/workflows/${id}/canary/abort`, {}), 'NO_CANARY');
    expect((await api(srv.url, srv.tokens.viewer, 'GET', `/api/v1/workflows/${id}`)).json).toMatchObject({ revision: 2, canary: null });

    expect((await publish({ percent: 10, min_runs: 5, max_failure_rate: 0.1, promote: 'manual' })).status).toBe(200);
    await api(srv.url, srv.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl, change_log: 'another' });
    expectError(await publish({ percent: 10, min_runs: 5, max_failure_rate: 0.1, promote: 'manual' }, 3), 'CANARY_RUNNING');
    expectError(await api(srv.url, srv.tokens.viewer, 'POST', `/api/v1/workflows/${id}/canary/promote`, {}), 'FORBIDDEN');
    expectError(await api(srv.url, srv.tokens.operator, 'POST', `/api/v1/workflows/${id}/canary/promote`, {}, { 'if-match': '1' }), 'STALE_REVISION');
    const promoted = await api(srv.url, srv.tokens.operator, 'POST', `/api/v1/workflows/${id}/canary/promote`, {});
    expect(promoted.json).toMatchObject({ version: 2, from_version: 1 });
    expect((await api(srv.url, srv.tokens.viewer, 'GET', `/api/v1/workflows/${id}`)).json).toMatchObject({ active_version: 2, canary: null });
  });
});
