import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ID } from '../../../main/ipc/connections/connection-manager.js';
import { SANDBOX_SETTINGS_FILE } from '../../../main/ipc/connections/sandbox-runtime.js';
import { type OpenedConsole, openConsole } from '../../../main/ipc/open-console.js';
import type { ApiResult } from '../../../preload/contract/index.js';
import { localService } from '../../unit/engine/real-nodes/local-service.js';
import { fakeRemotes, fakeSecretStore, onCleanup, tempDir } from './helpers.js';

/*
 * A sandbox's live execution and keychain secrets through the console service, as the renderer
 * calls it: a secret set there is sent by a live http node to a local service, and never comes back
 * out — not in an answer, not in the sandbox file, not in the console's folder.
 */

const SECRET = 'sk-live-7Qx!9/ä+secret=value';
type Json = Record<string, unknown>;

/** Every file under the folder holds none of the secret's forms. */
function folderContains(dir: string, secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch {
      return false;
    }
    return forms.some((form) => bytes.includes(form));
  });
}

describe('a sandbox with live execution and keychain secrets', () => {
  let svc: Awaited<ReturnType<typeof localService>>;
  const answers: string[] = [];
  beforeAll(async () => {
    // The environment has a value of the same name: the keychain's wins, and both stay hidden.
    process.env.REWIND_SECRET_API_TOKEN = 'env-value-that-loses-0042';
    svc = await localService({
      '/inspect': (_req, res, seen) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ defect_rate: 0.04, echoed: seen.headers.authorization ?? null })),
    });
  });
  afterAll(async () => {
    delete process.env.REWIND_SECRET_API_TOKEN;
    await svc.close();
  });

  async function open(dir: string, keychain = fakeSecretStore()): Promise<OpenedConsole> {
    const opened = await openConsole({
      sandbox: { path: join(dir, 'sandbox.db'), actor: 'mina.kim', timeScale: 0 },
      connectionsDir: join(dir, 'console'),
      secretStore: keychain,
      createRemote: fakeRemotes().createRemote,
    });
    onCleanup(() => opened.close());
    return opened;
  }
  async function call<T = Json>(c: OpenedConsole, method: string, input: unknown = {}): Promise<ApiResult<T>> {
    const result = (await c.service.handle(method, input)) as ApiResult<T>;
    answers.push(JSON.stringify(result));
    return result;
  }
  async function ok<T = Json>(c: OpenedConsole, method: string, input: unknown = {}): Promise<T> {
    const result = await call<T>(c, method, input);
    if (!result.ok) throw new Error(`${method}: ${result.error.code} ${result.error.message}`);
    return result.value;
  }
  const dsl = () => ({
    nodes: [
      {
        id: 'inspect',
        type: 'http',
        params: { method: 'GET', url: `${svc.url}/inspect`, headers: { Authorization: 'Bearer {{secret.API_TOKEN}}' }, output_key: 'inspection', sandbox: { output: { defect_rate: 0.01, stand_in: true } } },
        next: ['judge'],
      },
      { id: 'judge', type: 'judgment', params: { rules: [{ field: 'inspection.defect_rate', op: '>', value: 0.03, outcome: 'warning' }], default: 'pass' }, next: [] },
    ],
  });
  async function runOnce(c: OpenedConsole, workflowId: string): Promise<{ run: Json; checkpoints: Json[] }> {
    const run = await ok(c, 'runs:start', { workflow_id: workflowId, wait: true });
    const { checkpoints } = await ok<{ checkpoints: Json[] }>(c, 'checkpoints:list', { run_id: run.run_id });
    return { run, checkpoints };
  }

  it('runs http nodes for real with the keychain secret only once switched on, and never gives the value back', async () => {
    const dir = tempDir();
    const keychain = fakeSecretStore();
    const c = await open(dir, keychain);

    expect(await ok(c, 'sandbox:getSettings', { connection_id: SANDBOX_ID })).toEqual({ connection_id: SANDBOX_ID, live_execution: false, allow_commands: false });
    const listed = await ok(c, 'sandbox:setSecret', { connection_id: SANDBOX_ID, name: 'API_TOKEN', value: SECRET });
    expect(listed).toEqual({ connection_id: SANDBOX_ID, keychain: ['API_TOKEN'], environment: expect.arrayContaining(['API_TOKEN']), persistent: true });

    const wf = await ok(c, 'workflows:create', { name: 'live-inspection', dsl: dsl() });

    // Off (the default): the stand-in answers and the service hears nothing.
    const offline = await runOnce(c, String(wf.id));
    expect(offline.run.status).toBe('succeeded');
    expect((offline.checkpoints[0]!.state as Json).output).toEqual({ defect_rate: 0.01, stand_in: true });
    expect(svc.seen).toHaveLength(0);

    // On: the sandbox reopens live, the node sends the keychain value, and what it echoes is redacted.
    expect(await ok(c, 'sandbox:setSettings', { connection_id: SANDBOX_ID, live_execution: true })).toEqual({ connection_id: SANDBOX_ID, live_execution: true, allow_commands: false });
    const live = await runOnce(c, String(wf.id));
    expect(live.run.status).toBe('succeeded');
    expect(svc.seen).toHaveLength(1);
    expect(svc.seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect((live.checkpoints[0]!.state as Json).output).toEqual({ defect_rate: 0.04, echoed: 'Bearer [secret:API_TOKEN]' });
    expect(((live.checkpoints[1]!.state as Json).output as Json).verdict).toBe('warning');
    const events = await ok<{ events: Json[] }>(c, 'events:list', { after: 0, limit: 10_000 });
    expect(events.events.length).toBeGreaterThan(0);

    // Off again: back to the stand-in, and nothing more reaches the service.
    await ok(c, 'sandbox:setSettings', { connection_id: SANDBOX_ID, live_execution: false });
    const offAgain = await runOnce(c, String(wf.id));
    expect((offAgain.checkpoints[0]!.state as Json).output).toEqual({ defect_rate: 0.01, stand_in: true });
    expect(svc.seen).toHaveLength(1);

    // Settings and secrets outlive the console; the value is still usable but never listed.
    await ok(c, 'sandbox:setSettings', { connection_id: SANDBOX_ID, live_execution: true });
    await c.close();
    const again = await open(dir, keychain);
    expect(await ok(again, 'sandbox:getSettings', { connection_id: SANDBOX_ID })).toMatchObject({ live_execution: true });
    expect(await ok(again, 'sandbox:listSecrets', { connection_id: SANDBOX_ID })).toMatchObject({ keychain: ['API_TOKEN'] });
    const afterRestart = await runOnce(again, String(wf.id));
    expect(afterRestart.run.status).toBe('succeeded');
    expect(svc.seen.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);

    // Deleted: the environment's value is what the node reads now.
    expect(await ok(again, 'sandbox:deleteSecret', { connection_id: SANDBOX_ID, name: 'API_TOKEN' })).toMatchObject({ keychain: [] });
    await runOnce(again, String(wf.id));
    expect(svc.seen.at(-1)!.headers.authorization).toBe('Bearer env-value-that-loses-0042');
    await again.close();

    expect(answers.filter((a) => a.includes(SECRET))).toEqual([]);
    expect(folderContains(dir, SECRET)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'console', SANDBOX_SETTINGS_FILE), 'utf8'))).toEqual({ version: 1, sandboxes: { [SANDBOX_ID]: { live_execution: true, allow_commands: false } } });
  });

  it('refuses bad names, remote servers and unknown connections, as typed errors', async () => {
    const c = await open(tempDir());
    const bad = await call(c, 'sandbox:setSecret', { connection_id: SANDBOX_ID, name: 'api-token', value: 'x' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const empty = await call(c, 'sandbox:setSecret', { connection_id: SANDBOX_ID, name: 'OK', value: '' });
    expect(empty).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const remote = await ok(c, 'connections:add', { name: 'Prod', url: 'https://rewind.example.com', environment: 'production', token: 'rwt_token-0000000000' });
    expect(await call(c, 'sandbox:setSettings', { connection_id: remote.id, live_execution: true })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await call(c, 'sandbox:listSecrets', { connection_id: 'sandbox-nope' })).toMatchObject({ ok: false, error: { code: 'CONNECTION_NOT_FOUND' } });
  });

  it('keeps secrets in memory only without a keychain (browser mode)', async () => {
    const dir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(dir, 'sandbox.db'), actor: 'mina.kim', timeScale: 0 }, connectionsDir: join(dir, 'console'), createRemote: fakeRemotes().createRemote });
    onCleanup(() => opened.close());
    const listed = (await opened.service.handle('sandbox:setSecret', { connection_id: SANDBOX_ID, name: 'API_TOKEN', value: SECRET })) as ApiResult<Json>;
    expect(listed).toMatchObject({ ok: true, value: { keychain: ['API_TOKEN'], persistent: false } });
    await opened.close();
    expect(folderContains(dir, SECRET)).toEqual([]);
  });
});
