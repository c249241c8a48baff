import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aliasBomb } from '../engine/code-fixtures.js';
import { type ChildServer, api, dsls, eventually, killHard, spawnServer, tempDir } from './harness.js';

/*
 * The compiled server with a code folder, as an operator starts it: CODE workflows come from the
 * files and change as they do; the API refuses to change them (403 CODE_MANAGED) but pauses them;
 * a folder that cannot be used stops the start with exit code 2 and a hint.
 */

const TOKEN = 'code-dir-admin-token-0123456789';
const file = (name: string, dsl: unknown, schedule: string | null = '0 2 * * *') => JSON.stringify({ name, description: 'from git', schedule, dsl }, null, 2);

interface Wf {
  id: string;
  name: string;
  source_type: string;
  status: string;
  active_version: number | null;
  code_file: string | null;
}

describe('workflow server: --code-dir', () => {
  const children: ChildServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await killHard(c);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('serves the files as CODE workflows, follows a change, refuses API edits with CODE_MANAGED and lets pause through', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const code = join(dir, 'workflows');
    mkdirSync(code);
    writeFileSync(join(code, 'orders.json'), file('orders', dsls.v1));
    // REWIND_CODE_DIR, as a process supervisor's environment file would set it.
    const child = await spawnServer(['--db', join(dir, 's.db'), '--port', '0'], { REWIND_ADMIN_TOKEN: TOKEN, REWIND_CODE_DIR: code });
    children.push(child);
    expect(child.output()).toMatch(/Code folder .*workflows: 1 CODE workflows/);

    const list = async () => ((await api(child.url, TOKEN, 'GET', '/api/v1/workflows')).json as { workflows: Wf[] }).workflows;
    const [wf] = await list();
    expect(wf).toMatchObject({ name: 'orders', source_type: 'CODE', status: 'active', active_version: 1, code_file: 'orders.json' });

    for (const [verb, path, body] of [
      ['POST', `/api/v1/workflows/${wf!.id}/versions`, { dsl: dsls.v2 }],
      ['PUT', `/api/v1/workflows/${wf!.id}/schedule`, { schedule: '5 * * * *' }],
      ['DELETE', `/api/v1/workflows/${wf!.id}`, {}],
      ['POST', '/api/v1/workflows', { name: 'sneaky', source_type: 'CODE' }],
    ] as const) {
      const res = await api(child.url, TOKEN, verb, path, body);
      expect(res.status, `${verb} ${path}`).toBe(403);
      const error = (res.json as { error: { code: string; hint: string } }).error;
      expect(error.code).toBe('CODE_MANAGED');
      expect(error.hint).toMatch(/code folder/);
    }
    expect((await api(child.url, TOKEN, 'POST', `/api/v1/workflows/${wf!.id}/pause`, {})).status).toBe(200);

    // A commit changes the file: the server publishes v2 by itself, as code:orders.json.
    writeFileSync(join(code, 'orders.json'), file('orders', dsls.v2));
    await eventually(async () => (await list())[0]?.active_version === 2, 15_000, 'v2 published from the changed file');
    const v2 = (await api(child.url, TOKEN, 'GET', `/api/v1/workflows/${wf!.id}/versions/2`)).json as { created_by: string };
    expect(v2.created_by).toBe('code:orders.json');

    // A removed file unregisters it.
    rmSync(join(code, 'orders.json'));
    await eventually(async () => (await list()).length === 0, 15_000, 'the workflow unregistered with its file');
  });

  it('starts beside a YAML alias bomb: the bomb is refused by name, every other file is served (no exit 2 naming ".")', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const code = join(dir, 'flows');
    mkdirSync(code);
    writeFileSync(join(code, 'orders.json'), file('orders', dsls.v1));
    writeFileSync(join(code, 'bomb.yaml'), aliasBomb('bomb'));
    const child = await spawnServer(['--db', join(dir, 's.db'), '--port', '0', '--code-dir', code, '--code-rescan-ms', '200'], { REWIND_ADMIN_TOKEN: TOKEN });
    children.push(child);
    expect(child.output()).toMatch(/Code folder .*flows: 1 CODE workflows, watched for changes and read again every 0.2 s/);
    const workflows = ((await api(child.url, TOKEN, 'GET', '/api/v1/workflows')).json as { workflows: Wf[] }).workflows;
    expect(workflows.map((w) => w.name)).toEqual(['orders']);
    const events = ((await api(child.url, TOKEN, 'GET', '/api/v1/events?after=0&limit=1000')).json as { events: Array<{ type: string; payload: Record<string, unknown> }> }).events;
    expect(events.filter((e) => e.type === 'code_file_refused').map((e) => e.payload)).toEqual([expect.objectContaining({ file: 'bomb.yaml', message: expect.stringContaining('aliases') })]);
    // And it follows the folder as usual: a new good file beside the bomb is registered.
    writeFileSync(join(code, 'billing.json'), file('billing', dsls.v1));
    await eventually(async () => ((await api(child.url, TOKEN, 'GET', '/api/v1/workflows')).json as { workflows: Wf[] }).workflows.length === 2, 15_000, 'billing registered');
  });

  it('exits with code 2 and a hint when two files name one workflow', async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, 'a.json'), file('twice', dsls.v1));
    writeFileSync(join(dir, 'b.json'), file('twice', dsls.v2));
    const outcome = await spawnServer(['--db', join(dir, 's.db'), '--port', '0', '--code-dir', dir], { REWIND_ADMIN_TOKEN: TOKEN }).then(
      (c) => {
        children.push(c);
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/server exited \(2\) before listening/);
    expect(outcome).toContain('error INVALID_CODE_FILE');
    expect(outcome).toContain('a.json:1 name: names "twice", as b.json does');
    expect(outcome).toMatch(/hint: give each workflow one file/);
  });

  it('unregisters a MANUAL workflow over HTTP (admin), refusing it while a run is in flight', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const child = await spawnServer(['--db', join(dir, 's.db'), '--port', '0', '--time-scale', '1'], { REWIND_ADMIN_TOKEN: TOKEN });
    children.push(child);
    const slow = { nodes: [{ id: 'long', type: 'task', params: { duration_ms: 60_000 }, next: [] }], defaults: {} };
    const wf = (await api(child.url, TOKEN, 'POST', '/api/v1/workflows', { name: 'slow', dsl: slow })).json as Wf;
    const run = (await api(child.url, TOKEN, 'POST', `/api/v1/workflows/${wf.id}/runs`, {})).json as { run_id: string };
    const refused = await api(child.url, TOKEN, 'DELETE', `/api/v1/workflows/${wf.id}`, {});
    expect(refused.status).toBe(409);
    expect((refused.json as { error: { code: string; details: { run_ids: string[] } } }).error).toMatchObject({ code: 'RUNS_IN_FLIGHT', details: { run_ids: [run.run_id] } });
    const done = await api(child.url, TOKEN, 'DELETE', `/api/v1/workflows/${wf.id}`, { cancel_running: true });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ cancelled_runs: [run.run_id], reactivated: null, workflow: { id: wf.id } });
    expect((await api(child.url, TOKEN, 'GET', `/api/v1/workflows/${wf.id}`)).status).toBe(404);
    expect((await api(child.url, TOKEN, 'GET', `/api/v1/runs/${run.run_id}`)).json).toMatchObject({ status: 'cancelled' });
  });
});
