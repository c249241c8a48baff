import { existsSync, readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { localService } from '../../unit/engine/real-nodes/local-service.js';
import { type TestServer, api, startServer, tempDir, uniqueName } from './harness.js';

/*
 * Templates are data, never code — the attack over HTTP, on a server running commands
 * (--allow-commands): an admin's `sh -c` template is refused when drafted; a version drafted before
 * that rule is refused when its node runs; and an operator's payload on the safe, env-based form
 * never creates the file it names.
 */

const PAYLOAD = 'a"}; touch PWNED; echo {"z":"1';
type Json = Record<string, unknown>;
type ApiError = { error: { code: string; message: string; hint: string; details?: Json } };

describe('templates are data, never code (a server with --allow-commands)', () => {
  let s: TestServer;
  let svc: Awaited<ReturnType<typeof localService>>;
  const work = tempDir('rewind-pwned-');

  beforeAll(async () => {
    svc = await localService({ '/orders': (_req, res, seen) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: seen.url })) });
    s = await startServer({ sandbox: { liveExecution: true, allowCommands: true } });
  });
  afterAll(async () => {
    await s.close();
    await svc.close();
    rmSync(work, { recursive: true, force: true });
  });

  const unsafeDsl = () => ({
    defaults: { x: 'hello' },
    nodes: [{ id: 'echo', type: 'command', params: { argv: ['sh', '-c', 'echo {"out":"{{ctx.x}}"}'], cwd: work }, next: [] }],
  });
  const safeDsl = () => ({
    defaults: { x: 'hello' },
    nodes: [{ id: 'echo', type: 'command', params: { argv: ['sh', '-c', 'printf \'{"out":"%s"}\\n\' "$X"'], env: { X: '{{ctx.x}}' }, cwd: work }, next: [] }],
  });

  async function startAsOperator(workflowId: string, params: Json): Promise<Json> {
    const r = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${workflowId}/runs`, { params, wait: true });
    expect(r.status).toBe(200);
    return r.json as Json;
  }

  it("refuses the admin's sh -c template when the workflow is created or drafted (422 UNSAFE_TEMPLATE: node, argv index, remedy)", async () => {
    const name = uniqueName('pwn');
    const created = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name, dsl: unsafeDsl() });
    expect(created.status).toBe(422);
    const error = (created.json as ApiError).error;
    expect(error.code).toBe('UNSAFE_TEMPLATE');
    expect(error.message).toContain("Node 'echo' (command): argv.2 of 'sh' holds the template {{ctx.x}}");
    expect(error.hint).toContain('env: {X: "{{ctx.x}}"}');
    expect(error.details).toMatchObject({ node_id: 'echo', param: 'argv.2', path: 'nodes.0.params.argv.2' });
    const listed = (await api(s.url, s.tokens.admin, 'GET', `/api/v1/workflows?query=${name}`)).json as { total: number };
    expect(listed.total).toBe(0);

    const wf = (await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name, dsl: safeDsl() })).json as Json;
    const draft = await api(s.url, s.tokens.admin, 'POST', `/api/v1/workflows/${String(wf.id)}/versions`, { dsl: unsafeDsl(), change_log: 'inline the value' });
    expect(draft.status).toBe(422);
    expect((draft.json as ApiError).error.code).toBe('UNSAFE_TEMPLATE');
  });

  it("never runs the operator's payload on a version drafted before the rule: the node is refused before anything is spawned", async () => {
    const wf = (await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('legacy'), dsl: safeDsl() })).json as Json;
    // What an older Rewind accepted and stored.
    sqliteDb(s.backend.engine).prepare('UPDATE workflow_versions SET dsl_definition = ? WHERE workflow_id = ?').run(JSON.stringify(unsafeDsl()), wf.id);
    const run = await startAsOperator(String(wf.id), { x: PAYLOAD });
    expect(run.status).toBe('failed');
    expect(run.error).toContain("Command node 'echo': refused to run (UNSAFE_TEMPLATE): argv.2 of 'sh' holds the template {{ctx.x}}");
    expect(existsSync(`${work}/PWNED`)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });

  it("passes the operator's payload as data on the env-based form: the file is never created, the value arrives whole", async () => {
    const wf = (await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('safe'), dsl: safeDsl() })).json as Json;
    const run = await startAsOperator(String(wf.id), { x: PAYLOAD });
    expect(run.status).toBe('succeeded');
    const cps = (await api(s.url, s.tokens.viewer, 'GET', `/api/v1/runs/${String(run.run_id)}/checkpoints`)).json as { checkpoints: Array<{ state: { output: Json } }> };
    expect(cps.checkpoints[0]!.state.output).toEqual({ exit_code: 0, last_line: `{"out":"${PAYLOAD}"}` });
    expect(existsSync(`${work}/PWNED`)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });

  it('percent-encodes run values in an http URL path and query, so they cannot reach another route', async () => {
    const dsl = {
      defaults: { id: '7', q: 'x' },
      nodes: [{ id: 'get', type: 'http', params: { method: 'GET', url: `${svc.url}/orders/{{ctx.id}}?q={{ctx.q}}&limit=5` }, next: [] }],
    };
    const wf = (await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('url'), dsl })).json as Json;
    const run = await startAsOperator(String(wf.id), { id: '7/../../admin?all=1#', q: 'a&limit=100000' });
    expect(run.status).toBe('succeeded');
    expect(svc.seen.at(-1)?.url).toBe('/orders/7%2F..%2F..%2Fadmin%3Fall%3D1%23?q=a%26limit%3D100000&limit=5');

    const hostDsl = { defaults: { host: '127.0.0.1' }, nodes: [{ id: 'get', type: 'http', params: { method: 'GET', url: 'http://{{ctx.host}}/orders' }, next: [] }] };
    const refused = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('host'), dsl: hostDsl });
    expect((refused.json as ApiError).error).toMatchObject({ code: 'UNSAFE_TEMPLATE', details: { node_id: 'get', param: 'url' } });
  });
});
