import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { localService } from '../../unit/engine/real-nodes/local-service.js';
import { type TestServer, api, eventually, repoRoot, startServer, uniqueName } from './harness.js';

/** A server doing real work: http nodes call a local service started here; no --allow-commands. */

function rewind(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['bin/rewind.mjs', ...args], { cwd: repoRoot, env: { ...process.env, REWIND_SERVER: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

type Json = Record<string, unknown>;

describe('a workflow server running real nodes', () => {
  let s: TestServer;
  let svc: Awaited<ReturnType<typeof localService>>;
  const admin = () => s.tokens.admin;
  const operator = () => s.tokens.operator;

  async function workflow(dsl: unknown): Promise<string> {
    const created = await api(s.url, admin(), 'POST', '/api/v1/workflows', { name: uniqueName('real'), dsl });
    expect(created.status).toBe(200);
    return (created.json as { id: string }).id;
  }
  async function start(workflowId: string, wait: boolean): Promise<Json> {
    const r = await api(s.url, operator(), 'POST', `/api/v1/workflows/${workflowId}/runs`, { wait });
    expect(r.status).toBeLessThan(300);
    return r.json as Json;
  }
  const getRun = async (runId: string) => (await api(s.url, operator(), 'GET', `/api/v1/runs/${runId}`)).json as Json;
  const runEvents = async (runId: string) =>
    ((await api(s.url, operator(), 'GET', '/api/v1/events?after=0&limit=10000')).json as { events: Json[] }).events.filter((e) => e.run_id === runId);

  beforeAll(async () => {
    process.env.REWIND_SECRET_INSPECT_TOKEN = 'tok-9f2-initial';
    svc = await localService({
      '/inspect': (_req, res, seen) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ defect_rate: 0.08, auth: seen.headers.authorization ?? null, url: seen.url, body: seen.body }));
      },
    });
    s = await startServer({ sandbox: { liveExecution: true, allowCommands: false } });
  });
  afterAll(async () => {
    delete process.env.REWIND_SECRET_INSPECT_TOKEN;
    await s.close();
    await svc.close();
  });

  const inspectDsl = () => ({
    defaults: { batch: 'b-1' },
    nodes: [
      { id: 'inspect', type: 'http', params: { method: 'POST', url: `${svc.url}/inspect?batch={{ctx.batch}}`, headers: { Authorization: 'Bearer {{secret.INSPECT_TOKEN}}' }, body: { batch: '{{ctx.batch}}' } }, next: ['judge'] },
      { id: 'judge', type: 'judgment', params: { rules: [{ field: 'response.defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'ok' }, next: [] },
    ],
  });

  it('puts the real answer into the context and the checkpoint, judges it, and keeps the secret out', async () => {
    const run = await start(await workflow(inspectDsl()), true);
    expect(run.status).toBe('succeeded');
    const { checkpoints } = (await api(s.url, operator(), 'GET', `/api/v1/runs/${String(run.run_id)}/checkpoints`)).json as { checkpoints: Array<{ node_id: string; state: Json }> };
    expect(checkpoints[0]).toMatchObject({ node_id: 'inspect', state: { output: { defect_rate: 0.08, auth: 'Bearer [secret:INSPECT_TOKEN]', url: '/inspect?batch=b-1' } } });
    expect(checkpoints[1]).toMatchObject({ node_id: 'judge', state: { output: { verdict: 'warning', observed: 0.08 } } });
    expect(svc.seen.at(-1)?.headers.authorization).toBe('Bearer tok-9f2-initial');
    expect(svc.seen.at(-1)?.headers['idempotency-key']).toBe(`${String(run.run_id)}/inspect/1`);
    expect(JSON.stringify(checkpoints)).not.toContain('tok-9f2-initial');
  });

  it('refuses command nodes without --allow-commands when creating, drafting or publishing', async () => {
    const withCommand = { nodes: [{ id: 'train', type: 'command', params: { argv: ['make', 'train'] }, next: [] }] };
    const created = await api(s.url, admin(), 'POST', '/api/v1/workflows', { name: uniqueName('cmd'), dsl: withCommand });
    expect(created.status).toBe(403);
    const error = (created.json as { error: { code: string; message: string; hint: string } }).error;
    expect(error.code).toBe('COMMANDS_DISABLED');
    expect(error.message).toContain("node 'train'");
    expect(error.hint).toContain('--allow-commands');
    const wf = await workflow(inspectDsl());
    const draft = await api(s.url, admin(), 'POST', `/api/v1/workflows/${wf}/versions`, { dsl: withCommand });
    expect((draft.json as { error: { code: string } }).error.code).toBe('COMMANDS_DISABLED');
    const versions = (await api(s.url, admin(), 'GET', `/api/v1/workflows/${wf}/versions`)).json as { total: number };
    expect(versions.total).toBe(1);
  });

  const gateDsl = (params: Json) => ({
    nodes: [
      { id: 'gate', type: 'approval', params: { prompt: 'Promote the model?', ...params }, next: ['ship'] },
      { id: 'ship', type: 'transform', params: { set: { shipped: true } }, next: [] },
    ],
  });

  it('holds a run at an approval (status waiting) until an operator approves it through the API', async () => {
    const run = await start(await workflow(gateDsl({})), false);
    const runId = String(run.run_id);
    await eventually(async () => (await getRun(runId)).status === 'waiting', 10_000, 'the run to wait');
    const requested = (await runEvents(runId)).find((e) => e.type === 'approval_requested');
    expect(requested?.payload).toMatchObject({ node_id: 'gate', prompt: 'Promote the model?' });
    const viewer = await api(s.url, s.tokens.viewer, 'POST', `/api/v1/runs/${runId}/approve`, { decision: 'approve' });
    expect(viewer.status).toBe(403);
    const bad = await api(s.url, operator(), 'POST', `/api/v1/runs/${runId}/approve`, { decision: 'maybe' });
    expect(bad.status).toBe(422);
    const ok = await api(s.url, operator(), 'POST', `/api/v1/runs/${runId}/approve`, { decision: 'approve', comment: 'metrics look fine' });
    expect(ok.status).toBe(200);
    await eventually(async () => (await getRun(runId)).status === 'succeeded', 10_000, 'the run to finish');
    const given = (await runEvents(runId)).find((e) => e.type === 'approval_given');
    expect(given).toMatchObject({ actor: 'operator', payload: { node_id: 'gate', decision: 'approve', comment: 'metrics look fine' } });
    const again = await api(s.url, operator(), 'POST', `/api/v1/runs/${runId}/approve`, { decision: 'approve' });
    expect(again.status).toBe(409);
    expect((again.json as { error: { code: string } }).error.code).toBe('RUN_NOT_WAITING');
  });

  it('ends the run denied when the CLI denies it (approval_denied, not a failure), with the comment in the error; the CLI lists what waits first', async () => {
    const run = await start(await workflow(gateDsl({})), false);
    const runId = String(run.run_id);
    await eventually(async () => (await getRun(runId)).status === 'waiting', 10_000, 'the run to wait');
    const listed = await rewind(['--server', s.url, 'approvals'], { REWIND_TOKEN: s.tokens.viewer });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${runId} (`);
    expect(listed.stdout).toContain('“Promote the model?”');
    const out = await rewind(['--server', s.url, 'approve', runId, '--deny', '--comment', 'canary is red'], { REWIND_TOKEN: operator() });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Denied');
    await eventually(async () => (await getRun(runId)).status === 'denied', 10_000, 'the run to end denied');
    const denied = await getRun(runId);
    expect(denied).toMatchObject({ failed_node: 'gate', error: "Approval node 'gate': denied by operator: canary is red." });
    expect((await runEvents(runId)).map((e) => e.type)).toEqual(['run_started', 'approval_requested', 'approval_denied', 'run_denied']);
  });

  it('approves through the CLI, and fails a run nobody answers within the timeout', async () => {
    const run = await start(await workflow(gateDsl({})), false);
    const runId = String(run.run_id);
    await eventually(async () => (await getRun(runId)).status === 'waiting', 10_000, 'the run to wait');
    const out = await rewind(['--server', s.url, 'approve', runId], { REWIND_TOKEN: operator() });
    expect(out.code).toBe(0);
    await eventually(async () => (await getRun(runId)).status === 'succeeded', 10_000, 'the approved run to finish');

    const late = await start(await workflow(gateDsl({ timeout_ms: 300 })), true);
    expect(late).toMatchObject({ status: 'failed', failed_node: 'gate', error: "Approval node 'gate': no answer within 300 ms." });
  });

  it('never lets a secret value reach the database file or an API answer (random secrets, random DSLs)', async () => {
    const secretValue = fc.string({ unit: fc.constantFrom(...'abcdefghijkXYZ0123456789-_.~!$&+=/ "\\'.split('')), minLength: 8, maxLength: 32 });
    const placement = fc.constantFrom('header', 'query', 'body', 'path');
    await fc.assert(
      fc.asyncProperty(secretValue, fc.array(placement, { minLength: 1, maxLength: 3 }), async (secret, places) => {
        process.env.REWIND_SECRET_PROP = secret;
        const has = (p: (typeof places)[number]) => places.includes(p);
        const params: Json = {
          method: 'POST',
          url: `${svc.url}/inspect${has('path') ? '/{{secret.PROP}}' : ''}?x=${has('query') ? '{{secret.PROP}}' : '1'}`,
          headers: { Authorization: has('header') ? 'Bearer {{secret.PROP}}' : 'none' },
          body: { value: has('body') ? 'v={{secret.PROP}}' : 'v' },
        };
        const wf = await workflow({ nodes: [{ id: 'call', type: 'http', params, next: [] }] });
        const run = await start(wf, true);
        // The secret really travelled: the service saw it, and the run succeeded with its answer.
        expect(run).toMatchObject({ status: 'succeeded' });
        const sent = svc.seen.at(-1);
        const travelled = [sent?.url ?? '', String(sent?.headers.authorization), JSON.parse(sent?.body ?? '{}').value as string];
        const forms = [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), new URL(`http://h/${secret}`).pathname.slice(1), new URL(`http://h/?${secret}`).search.slice(1)];
        expect(travelled.some((t) => forms.some((f) => t.includes(f)))).toBe(true);
        const answers = [
          run,
          await getRun(String(run.run_id)),
          (await api(s.url, operator(), 'GET', `/api/v1/runs/${String(run.run_id)}/checkpoints`)).json,
          (await api(s.url, operator(), 'GET', '/api/v1/events?after=0&limit=10000')).json,
          (await api(s.url, operator(), 'GET', `/api/v1/workflows/${wf}/versions`)).json,
        ];
        for (const a of answers) {
          const text = JSON.stringify(a);
          for (const f of forms) expect(text).not.toContain(f);
        }
        sqliteDb(s.backend.engine).pragma('wal_checkpoint(PASSIVE)');
        for (const file of [s.dbPath, `${s.dbPath}-wal`]) {
          if (!existsSync(file)) continue;
          const bytes = readFileSync(file);
          for (const f of forms) expect(bytes.includes(Buffer.from(f))).toBe(false);
        }
      }),
      { numRuns: 12 },
    );
    delete process.env.REWIND_SECRET_PROP;
  }, 120_000);
});
