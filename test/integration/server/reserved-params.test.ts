import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inspectBatch } from '../../../main/engine/demo/inspection.js';
import { localService } from '../../unit/engine/real-nodes/local-service.js';
import { type ChildServer, api, killHard, spawnServer, tempDir } from './harness.js';

/*
 * The context has an owner per key, through the real server (`rewind-server --demo`): an operator's
 * `POST …/runs {"params": {"server": {"host": …}}}` no longer redirects the demo's http node — and
 * what the server lends wins over the run context even for a version drafted before the rule.
 */

const ADMIN = 'rwt_reserved-params-admin-token-0001';
type Json = Record<string, unknown>;
type ApiError = { error: { code: string; message: string; hint: string; details?: Json } };

describe("run params cannot rewrite the server's keys of the context", () => {
  const dir = tempDir('rewind-reserved-');
  const db = join(dir, 'demo.db');
  let child: ChildServer | null = null;
  let decoy: Awaited<ReturnType<typeof localService>> | null = null;
  afterEach(async () => {
    if (child) await killHard(child);
    child = null;
  });
  afterAll(async () => {
    await decoy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function lineInspection(url: string): Promise<string> {
    const list = await api(url, ADMIN, 'GET', '/api/v1/workflows?query=line-inspection');
    return String((list.json as { workflows: Json[] }).workflows.find((w) => w.name === 'line-inspection')!.id);
  }

  async function operatorToken(url: string): Promise<string> {
    const issued = await api(url, ADMIN, 'POST', '/api/v1/tokens', { name: `operator-${Date.now()}`, role: 'operator' });
    return (issued.json as { token: string }).token;
  }

  it("refuses params.server (422 RESERVED_PARAM) and unknown params (422 UNKNOWN_PARAM); the http node still calls the server's own station", async () => {
    decoy = await localService({ '/demo': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"batch":7,"defect_rate":0,"verdict":"pass"}') });
    child = await spawnServer(['--db', db, '--port', '0', '--demo'], { REWIND_ADMIN_TOKEN: ADMIN });
    const operator = await operatorToken(child.url);
    const wf = await lineInspection(child.url);

    const redirect = await api(child.url, operator, 'POST', `/api/v1/workflows/${wf}/runs`, { params: { batch: 7, server: { host: new URL(decoy.url).host, url: decoy.url } }, wait: true });
    expect(redirect.status).toBe(422);
    const refusal = (redirect.json as ApiError).error;
    expect(refusal.code).toBe('RESERVED_PARAM');
    expect(refusal.message).toContain("'server'");
    expect(refusal.hint).toContain("Remove 'server' from the params");

    const unknown = await api(child.url, operator, 'POST', `/api/v1/workflows/${wf}/runs`, { params: { batch: 7, colour: 'red' }, wait: true });
    expect(unknown.status).toBe(422);
    expect((unknown.json as ApiError).error).toMatchObject({ code: 'UNKNOWN_PARAM', details: { known: ['batch'], params: ['colour'] } });
    expect((unknown.json as ApiError).error.hint).toContain('Known params: batch');

    const typed = await api(child.url, operator, 'POST', `/api/v1/workflows/${wf}/runs`, { params: { batch: 'seven' }, wait: true });
    expect((typed.json as ApiError).error).toMatchObject({ code: 'INVALID_PARAM_TYPE', details: { param: 'batch', expected: 'number', got: 'string' } });

    const runs = (await api(child.url, ADMIN, 'GET', `/api/v1/runs?workflow_id=${wf}`)).json as { total: number };
    expect(runs.total).toBe(0);

    const fine = await api(child.url, operator, 'POST', `/api/v1/workflows/${wf}/runs`, { params: { batch: 7 }, wait: true });
    expect(fine.json).toMatchObject({ status: 'succeeded' });
    const cps = (await api(child.url, operator, 'GET', `/api/v1/runs/${String((fine.json as Json).run_id)}/checkpoints`)).json as { checkpoints: Array<{ node_id: string; state: Json }> };
    expect(cps.checkpoints.find((c) => c.node_id === 'inspect_batch')?.state.output).toEqual(inspectBatch(7));
    expect(decoy.seen).toEqual([]);
  });

  it('lends the server address over a server key that a version drafted before the rule put in its defaults', async () => {
    // The database of the first case, its line-inspection version rewritten as an old draft could hold it.
    const file = new Database(db);
    const row = file.prepare("SELECT v.version_id, v.dsl_definition FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id WHERE w.name = 'line-inspection'").get() as { version_id: string; dsl_definition: string };
    const dsl = JSON.parse(row.dsl_definition) as { defaults: Json };
    dsl.defaults.server = { host: new URL(decoy!.url).host, url: decoy!.url };
    file.prepare('UPDATE workflow_versions SET dsl_definition = ? WHERE version_id = ?').run(JSON.stringify(dsl), row.version_id);
    file.close();

    child = await spawnServer(['--db', db, '--port', '0', '--demo'], { REWIND_ADMIN_TOKEN: ADMIN });
    const wf = await lineInspection(child.url);
    const run = await api(child.url, ADMIN, 'POST', `/api/v1/workflows/${wf}/runs`, { params: { batch: 12 }, wait: true });
    expect(run.json).toMatchObject({ status: 'succeeded' });
    const cps = (await api(child.url, ADMIN, 'GET', `/api/v1/runs/${String((run.json as Json).run_id)}/checkpoints`)).json as { checkpoints: Array<{ node_id: string; state: Json }> };
    expect(cps.checkpoints.find((c) => c.node_id === 'inspect_batch')?.state.output).toEqual(inspectBatch(12));
    expect(decoy!.seen).toEqual([]);
  });
});
