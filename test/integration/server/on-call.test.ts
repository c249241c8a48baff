import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUTATION_REFUSED, type RewindEvent } from '../../../preload/contract/index.js';
import { type TestServer, api, dsls, killHard, spawnServer, startServer, tempDir, uniqueName } from './harness.js';

/** Issue 13 on the server: resume once, refusals in the audit log, the environment, small version lists. */
describe('workflow server: on-call safety', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ environment: 'production' });
  });
  afterAll(async () => {
    await s.close();
  });

  async function workflow(): Promise<string> {
    const created = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('oncall'), dsl: dsls.v1 });
    return (created.json as { id: string }).id;
  }
  async function failedRun(id: string): Promise<string> {
    const run = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, { wait: true, faults: { fail_node: 'judge' } });
    expect(run.json).toMatchObject({ status: 'failed' });
    return (run.json as { run_id: string }).run_id;
  }
  const refusals = async (workflowId: string): Promise<RewindEvent[]> => {
    const res = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/events?workflow_id=${workflowId}&limit=1000`);
    return (res.json as { events: RewindEvent[] }).events.filter((e) => e.type === MUTATION_REFUSED);
  };

  it('a run resumes once: the second resume is 409 ALREADY_RESUMED naming the child, unless again: true', async () => {
    const id = await workflow();
    const parent = await failedRun(id);
    const first = await api(s.url, s.tokens.operator, 'POST', `/api/v1/runs/${parent}/resume`, { wait: true });
    expect(first.status).toBe(200);
    const child = (first.json as { run_id: string; parent_run_id: string }).run_id;
    expect(first.json).toMatchObject({ parent_run_id: parent, kind: 'resume' });

    const second = await api(s.url, s.tokens.operator, 'POST', `/api/v1/runs/${parent}/resume`, {});
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ error: { code: 'ALREADY_RESUMED', details: { run_id: parent, child_run_id: child } } });
    expect((second.json as { error: { message: string } }).error.message).toContain(child);

    const again = await api(s.url, s.tokens.operator, 'POST', `/api/v1/runs/${parent}/resume`, { again: true, wait: true });
    expect(again.status).toBe(200);
    const third = (again.json as { run_id: string }).run_id;
    expect(third).not.toBe(child);
    // The newest child is the one a later refusal names.
    const fourth = await api(s.url, s.tokens.operator, 'POST', `/api/v1/runs/${parent}/resume`, {});
    expect(fourth.json).toMatchObject({ error: { code: 'ALREADY_RESUMED', details: { child_run_id: third } } });
    const runs = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/runs?workflow_id=${id}`);
    expect((runs.json as { runs: Array<{ parent_run_id: string | null }> }).runs.filter((r) => r.parent_run_id === parent)).toHaveLength(2);
  });

  it('refused mutations are audited with who, what and why; malformed input and reads are not', async () => {
    const id = await workflow();
    const draft = await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: dsls.v2, change_log: 'draft' });
    expect(draft.status).toBe(200);

    const forbidden = await api(s.url, s.tokens.viewer, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`);
    expect(forbidden.status).toBe(403);
    const rule = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/versions/2/rollback`);
    expect(rule.json).toMatchObject({ error: { code: 'ROLLBACK_VERSION_DRAFT' } });
    const stale = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/pause`, undefined, { 'if-match': '"1"' });
    expect(stale.status).toBe(412);
    // Not audited: a body that does not parse, and a read that fails.
    expect((await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, { params: 'not an object' })).status).toBe(422);
    expect((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}/versions/99`)).status).toBe(404);

    const audited = await refusals(id);
    expect(audited.map((e) => [e.actor, e.payload.method, e.payload.code])).toEqual([
      ['viewer', 'versions:rollback', 'FORBIDDEN'],
      ['operator', 'versions:rollback', 'ROLLBACK_VERSION_DRAFT'],
      ['operator', 'workflows:pause', 'STALE_REVISION'],
    ]);
    expect(audited[0]!.payload).toMatchObject({ target: { workflow_id: id, version: '1' } });
    expect(audited[1]!.payload).toMatchObject({ target: { workflow_id: id, version: 2 } });
    expect(String(audited[0]!.payload.message)).toContain('operator role');
    // The refused changes left nothing behind, and the chain still verifies with the refusals in it.
    const wf = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}`);
    expect(wf.json).toMatchObject({ active_version: 1, status: 'active' });
    expect((await api(s.url, s.tokens.viewer, 'GET', '/api/v1/events/verify')).json).toMatchObject({ ok: true });
  });

  it('a refused resume names the run in the audit log', async () => {
    const id = await workflow();
    const parent = await failedRun(id);
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/runs/${parent}/resume`, { wait: true });
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/runs/${parent}/resume`, {});
    const [refused] = await refusals(id);
    expect(refused).toMatchObject({ run_id: parent, actor: 'operator', payload: { method: 'runs:resume', code: 'ALREADY_RESUMED' } });
  });

  it('the environment is in /health and whoami', async () => {
    expect((await api(s.url, undefined, 'GET', '/health')).json).toMatchObject({ status: 'ok', environment: 'production' });
    expect((await api(s.url, s.tokens.viewer, 'GET', '/api/v1/whoami')).json).toEqual({ name: 'viewer', role: 'viewer', environment: 'production', via: 'token', expires_at: null });
  });

  it('--environment and REWIND_ENVIRONMENT set it on the real entry point; a bad name is refused', async () => {
    const dir = tempDir();
    const child = await spawnServer(['--db', `${dir}/a.db`, '--port', '0'], { REWIND_ENVIRONMENT: 'staging', REWIND_ADMIN_TOKEN: 'admin-token-1234567890' });
    try {
      expect((await api(child.url, undefined, 'GET', '/health')).json).toMatchObject({ environment: 'staging' });
    } finally {
      await killHard(child);
    }
    const flag = await spawnServer(['--db', `${dir}/b.db`, '--port', '0', '--environment', 'dr-site'], { REWIND_ENVIRONMENT: 'staging' });
    try {
      expect((await api(flag.url, undefined, 'GET', '/health')).json).toMatchObject({ environment: 'dr-site' });
    } finally {
      await killHard(flag);
    }
    await expect(spawnServer(['--db', `${dir}/c.db`, '--port', '0', '--environment', 'Prod Site!'])).rejects.toThrow(/environment is 1–32 lowercase/);
  });

  it('versions list without their DSL, and no answer is over 1 MB', async () => {
    const id = await workflow();
    const big = { ...dsls.v1, defaults: { ...dsls.v1.defaults, note: 'x'.repeat(200_000) } };
    for (let i = 0; i < 6; i++) {
      expect((await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: big, change_log: `big ${i}` })).status).toBe(200);
    }
    const lean = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}/versions?include_dsl=false`);
    const leanBody = lean.json as { versions: Array<Record<string, unknown>>; total: number; next_offset: number | null };
    expect(leanBody).toMatchObject({ total: 7, next_offset: null });
    expect(leanBody.versions.map((v) => v.version)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(leanBody.versions.every((v) => !('dsl_definition' in v))).toBe(true);

    // The origin shape by default (each version with its DSL), cut into pages under 1 MB.
    const seen: number[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}/versions?offset=${offset}`);
      const text = JSON.stringify(page.json);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024 * 1024);
      const body = page.json as { versions: Array<{ version: number; dsl_definition: unknown }>; total: number; next_offset: number | null };
      expect(body.total).toBe(7);
      expect(body.versions.every((v) => typeof v.dsl_definition === 'object')).toBe(true);
      seen.push(...body.versions.map((v) => v.version));
      offset = body.next_offset;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const limited = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}/versions?include_dsl=false&limit=2&offset=1`);
    expect(limited.json).toMatchObject({ total: 7, next_offset: 3, versions: [{ version: 6 }, { version: 5 }] });
  });
});
