import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { runCli } from '../../../main/cli/run.js';
import { createRemoteBackend } from '../../../main/ipc/connections/remote-factory.js';
import { VERIFIED_HEADS_FILE } from '../../../main/ipc/connections/connection-manager.js';
import { checkHead } from '../../../main/ipc/connections/verified-heads.js';
import type { Backend } from '../../../main/backends/backend.js';
import { openConsole } from '../../../main/ipc/open-console.js';
import { createServer } from '../../../main/server/server.js';
import { TokenStore } from '../../../main/server/tokens.js';
import type { ApiResult, ConnectionInfo } from '../../../preload/contract/index.js';
import { fakeSecretStore, onCleanup, tempDir } from '../ipc/helpers.js';
import { checkAnswersOf } from '../../support/openapi-conformance.js';
import { api, eventually, freePort } from '../server/harness.js';
import { deleteNewest, deleteNewestOnly, editEvent, forgetVerifiedHead, runServerCli, writeLog } from './tamper-fixtures.js';

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const ADMIN = 'rwt_tamper-test-admin-token-000000000000';

describe('tamper evidence: a broken chain', () => {
  it('in events no process verified yet keeps a server from starting, names the broken event and the way out; --allow-broken-chain serves it degraded', async () => {
    const dir = tempDir();
    const db = join(dir, 'server.db');
    await writeLog(db);
    forgetVerifiedHead(db);
    editEvent(db, 2);

    const refused = runServerCli(['--db', db], { REWIND_ADMIN_TOKEN: ADMIN });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toMatch(/CHAIN_BROKEN: .*broken at event 2: event 2 was altered/);
    expect(refused.output()).toMatch(/Restore the database from a backup.*--allow-broken-chain/s);
    expect(refused.output()).not.toMatch(/listening on/);

    const served = runServerCli(['--db', db, '--allow-broken-chain'], { REWIND_ADMIN_TOKEN: ADMIN });
    onCleanup(async () => {
      served.kill();
      await served.exited;
    });
    const url = await served.listening;
    expect(served.output()).toMatch(/warning: .*broken at event 2.*--allow-broken-chain/);

    const health = await api(url, undefined, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({ status: 'degraded', chain: { ok: false, first_broken_seq: 2, reason: expect.stringMatching(/altered/) }, head: { seq: expect.any(Number) } });

    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const text = await metrics.text();
    // Every series carries the replica's name as a default label.
    const { head, replica } = health.json as { head: { seq: number; hash: string }; replica: string };
    expect(text).toContain(`rewind_chain_ok{replica="${replica}"} 0`);
    expect(text).toContain(`rewind_event_head_info{seq="${head.seq}",hash="${head.hash}",replica="${replica}"} 1`);

    // Every console that connects shows it in red.
    const consoleDir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(consoleDir, 'sandbox.db'), timeScale: 0 }, connectionsDir: consoleDir, createRemote: createRemoteBackend });
    onCleanup(() => opened.close());
    const added = value(await opened.service.handle('connections:add', { name: 'Tampered', url, token: ADMIN })) as ConnectionInfo;
    await eventually(() => opened.connections.list().find((c) => c.id === added.id)?.state === 'connected', 15_000, 'connected');
    expect(opened.connections.list().find((c) => c.id === added.id)?.alarm).toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringMatching(/broken at event 2/) });
  });

  it('opens a sandbox read-only, with the same alarm: reads work, changes are refused with READ_ONLY', async () => {
    const dir = tempDir();
    const path = join(dir, 'sandbox.db');
    await writeLog(path);
    forgetVerifiedHead(path);
    editEvent(path, 3);
    const opened = await openConsole({ sandbox: { path, timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => opened.close());
    const sandbox = opened.connections.list().find((c) => c.id === 'sandbox');
    expect(sandbox?.alarm).toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringMatching(/broken at event 3.*read-only/) });

    const { workflows } = value(await opened.service.handle('workflows:list', {})) as { workflows: Array<{ id: string; revision: number }> };
    expect(workflows).toHaveLength(1);
    const refused = await opened.service.handle('workflows:pause', { workflow_id: workflows[0]!.id });
    expect(refused).toMatchObject({ ok: false, error: { code: 'READ_ONLY', message: expect.stringMatching(/event 3/), hint: expect.stringMatching(/backup/) } });
  });
});

describe('tamper evidence: an edit of an event verified before', () => {
  it('is not read at start (the server starts at once); its background walk finds it: /health 503, consoles red, writes refused, the next start refused', async () => {
    const dir = tempDir();
    const db = join(dir, 'server.db');
    await writeLog(db);
    editEvent(db, 2);

    const served = runServerCli(['--db', db], { REWIND_ADMIN_TOKEN: ADMIN });
    onCleanup(async () => {
      served.kill();
      await served.exited;
    });
    const url = await served.listening;
    const consoleDir = tempDir();
    const opened = await openConsole({ sandbox: { path: join(consoleDir, 'sandbox.db'), timeScale: 0 }, connectionsDir: consoleDir, createRemote: createRemoteBackend });
    onCleanup(() => opened.close());
    const added = value(await opened.service.handle('connections:add', { name: 'Tampered later', url, token: ADMIN })) as ConnectionInfo;

    await eventually(async () => (await api(url, undefined, 'GET', '/health')).status === 503, 30_000, '/health turning 503');
    const health = await api(url, undefined, 'GET', '/health');
    expect(health.json).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/broken at event 2/), chain: { ok: false, first_broken_seq: 2, reason: expect.stringMatching(/event 2 was altered/) } });
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(text).toMatch(/rewind_chain_ok\{[^}]*\} 0/);
    expect(text).toMatch(/rewind_chain_verified_seq\{/);
    // Red whether it connected before the walk ended (chain_broken is pushed) or after (the head says so).
    await eventually(() => opened.connections.list().find((c) => c.id === added.id)?.alarm?.code === 'CHAIN_BROKEN', 15_000, 'the red banner');
    expect(opened.connections.list().find((c) => c.id === added.id)?.alarm?.message).toMatch(/broken at event 2/);
    const events = (await api(url, ADMIN, 'GET', '/api/v1/events?after=0&limit=100')).json as { events: Array<{ type: string; payload: Record<string, unknown> }> };
    expect(events.events.filter((e) => e.type === 'chain_broken')).toEqual([expect.objectContaining({ payload: expect.objectContaining({ first_broken_seq: 2, found_by: 'background' }) })]);
    // Without --allow-broken-chain, nothing is accepted over it any more.
    const wfs = (await api(url, ADMIN, 'GET', '/api/v1/workflows')).json as { workflows: Array<{ id: string }> };
    const refused = await api(url, ADMIN, 'POST', `/api/v1/workflows/${wfs.workflows[0]!.id}/pause`);
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: { code: 'READ_ONLY', message: expect.stringMatching(/event 2/) } });

    served.kill();
    await served.exited;
    // The store remembers the break: the next start knows it without walking the chain.
    const again = runServerCli(['--db', db], { REWIND_ADMIN_TOKEN: ADMIN });
    expect(await again.exited).toBe(2);
    expect(again.output()).toMatch(/CHAIN_BROKEN: .*broken at event 2: event 2 was altered/);
  });

  it('found by a walk while a console has the sandbox open: announced, the banner turns red and the sandbox read-only', async () => {
    const dir = tempDir();
    const path = join(dir, 'sandbox.db');
    await writeLog(path);
    const opened = await openConsole({ sandbox: { path, timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => opened.close());
    await eventually(() => opened.connections.list()[0]?.state === 'connected', 15_000, 'connected');
    const chain = value(await opened.service.handle('events:verify', {})) as { ok: boolean };
    expect(chain.ok).toBe(true);
    expect(opened.connections.list()[0]?.alarm).toBeNull();

    editEvent(path, 3);
    const found = value(await opened.service.handle('events:verify', {})) as { ok: boolean; first_broken_seq: number };
    expect(found).toMatchObject({ ok: false, first_broken_seq: 3 });
    await eventually(() => opened.connections.list()[0]?.alarm?.code === 'CHAIN_BROKEN', 15_000, 'the red banner');
    expect(opened.connections.list()[0]?.alarm?.message).toMatch(/broken at event 3.*read-only/);
    const { workflows } = value(await opened.service.handle('workflows:list', {})) as { workflows: Array<{ id: string }> };
    expect(await opened.service.handle('workflows:pause', { workflow_id: workflows[0]!.id })).toMatchObject({ ok: false, error: { code: 'READ_ONLY' } });
  });
});

describe('tamper evidence: a truncated log', () => {
  it('keeps a server from starting when the log ends before the head its servers verified', async () => {
    const dir = tempDir();
    const db = join(dir, 'server.db');
    const head = await writeLog(db);
    deleteNewestOnly(db, 2);
    const refused = runServerCli(['--db', db], { REWIND_ADMIN_TOKEN: ADMIN });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toMatch(new RegExp(`CHAIN_BROKEN: .*events ${head - 1}–${head} were verified by .* and are gone: the log was cut back to event ${head - 2}`));
  });

  it('the console alarms when the sandbox lost the newest events it had verified', async () => {
    const dir = tempDir();
    const path = join(dir, 'sandbox.db');
    await writeLog(path);
    const first = await openConsole({ sandbox: { path, timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    expect(first.connections.list()[0]?.alarm).toBeNull();
    await first.close();
    const remembered = JSON.parse(readFileSync(join(dir, VERIFIED_HEADS_FILE), 'utf8')) as { heads: Record<string, { seq: number }> };
    expect(remembered.heads.sandbox?.seq).toBeGreaterThan(2);

    deleteNewest(path, 2);
    const second = await openConsole({ sandbox: { path, timeScale: 0 }, connectionsDir: dir, createRemote: createRemoteBackend });
    onCleanup(() => second.close());
    expect(second.connections.list()[0]?.alarm).toMatchObject({ code: 'LOG_TRUNCATED', message: expect.stringMatching(/no longer has event \d+/) });
  });

  it('checks a remembered head by reading the log head and the one event at that seq, never the log', async () => {
    const dir = tempDir();
    const path = join(dir, 'sandbox.db');
    const head = await writeLog(path);
    const sandbox = await openSandbox({ path, actor: 'reader' });
    onCleanup(() => sandbox.close());
    const calls: Array<[string, unknown]> = [];
    const recorded: Backend = { kind: sandbox.kind, subscribe: (o) => sandbox.subscribe(o), close: () => sandbox.close(), call: (method, input, ctx) => (calls.push([method, input]), sandbox.call(method, input, ctx)) };
    const [at] = (await sandbox.call('events:list', { after: 1, limit: 1 })).events;
    expect((await checkHead(recorded, { source: path, seq: 2, hash: at!.hash }, 'The sandbox')).alarm).toBeNull();
    expect(calls).toEqual([
      ['events:head', {}],
      ['events:list', { after: 1, limit: 1 }],
    ]);
    calls.length = 0;
    expect((await checkHead(recorded, { source: path, seq: 2, hash: 'f'.repeat(64) }, 'The sandbox')).alarm).toMatchObject({ code: 'LOG_TRUNCATED' });
    expect(calls).toHaveLength(2);
    expect(head).toBeGreaterThan(2);
  });

  it('the console alarms when a server lost the newest events it had verified, even after it wrote new ones', async () => {
    const dir = tempDir();
    const db = join(dir, 'server.db');
    await writeLog(db);
    const port = await freePort();
    const serve = async () => {
      const backend = await openSandbox({ path: db, actor: 'server' });
      const tokens = new TokenStore(backend.engine);
      await tokens.bootstrapAdmin(ADMIN);
      const server = await createServer({ backend, tokens, latestSeq: () => backend.engine.latestSeq(), schemaVersion: backend.engine.schemaVersion, port, log: () => undefined });
      await checkAnswersOf(server.url);
      return { backend, server, close: async () => (await server.close(), await backend.close()) };
    };
    const consoleDir = tempDir();
    const open = () => openConsole({ sandbox: { path: join(consoleDir, 'sandbox.db'), timeScale: 0 }, connectionsDir: consoleDir, secretStore: fakeSecretStore(), createRemote: createRemoteBackend });

    const up = await serve();
    const first = await open();
    const added = value(await first.service.handle('connections:add', { name: 'Server', url: up.server.url, token: ADMIN })) as ConnectionInfo;
    await eventually(() => first.connections.list().find((c) => c.id === added.id)?.state === 'connected', 15_000, 'connected');
    // A change seen live moves the remembered head along the chain.
    const seen: number[] = [];
    first.connections.onPush((event, payload) => {
      if (event === 'events:appended') seen.push((payload as { event: { seq: number } }).event.seq);
    });
    value(await first.service.handle('connections:select', { id: added.id }));
    const [wf] = (await up.backend.call('workflows:list', {})).workflows;
    await up.backend.call('workflows:pause', { workflow_id: wf!.id });
    const head = await up.backend.engine.latestSeq();
    await eventually(() => seen.includes(head), 15_000, 'the pause seen live');
    await first.close();
    const remembered = JSON.parse(readFileSync(join(consoleDir, VERIFIED_HEADS_FILE), 'utf8')) as { heads: Record<string, { seq: number }> };
    expect(remembered.heads[added.id]?.seq).toBe(head);
    await up.close();

    deleteNewest(db, 3);
    const again = await serve();
    onCleanup(() => again.close());
    // New events take the deleted seqs: the log is as long again, but not the one the console verified.
    await again.backend.call('workflows:unpause', { workflow_id: wf!.id });
    await again.backend.call('workflows:pause', { workflow_id: wf!.id });
    await again.backend.call('workflows:unpause', { workflow_id: wf!.id });
    expect(await again.backend.engine.latestSeq()).toBeGreaterThanOrEqual(head);
    const second = await open();
    onCleanup(() => second.close());
    await eventually(() => second.connections.list().find((c) => c.id === added.id)?.alarm !== null, 15_000, 'the truncation alarm');
    expect(second.connections.list().find((c) => c.id === added.id)?.alarm).toMatchObject({ code: 'LOG_TRUNCATED', message: expect.stringMatching(new RegExp(`event ${head}.*rewritten`)) });
  });

  it('`rewind verify` refuses a log that no longer holds the head a previous verify saw (exit 1, LOG_TRUNCATED)', async () => {
    const dir = tempDir();
    const db = join(dir, 'cli.db');
    await writeLog(db);
    const env = { XDG_CONFIG_HOME: join(dir, 'config') };
    const verify = async () => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--db', db, 'verify'], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
      return { code, stdout, stderr };
    };
    const ok = await verify();
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/Chain ok/) });
    expect(await verify()).toMatchObject({ code: 0, stdout: expect.stringMatching(/still holds event \d+ verified before/) });

    deleteNewest(db, 1);
    const cut = await verify();
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/LOG_TRUNCATED: .*no longer has event \d+.*its log now ends at event \d+/);
    // The remembered head stays: the alarm does not go away by asking again.
    expect((await verify()).code).toBe(1);
  });
});
