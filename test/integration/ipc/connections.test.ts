import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { RewindError } from '../../../main/engine/errors.js';
import {
  createConnectionManager,
  SANDBOX_ID,
  type ConnectionManager,
  type ConsolePush,
} from '../../../main/ipc/connections/connection-manager.js';
import { CONNECTIONS_FILE } from '../../../main/ipc/connections/connections-file.js';
import { keychainVault, SECRETS_FILE, sessionVault, type TokenVault } from '../../../main/ipc/connections/token-vault.js';
import type { ConnectionInfo } from '../../../preload/contract/index.js';
import { eventually, fakeRemotes, fakeSecretStore, onCleanup, tempDir } from './helpers.js';

const TOKEN = 'rw_s3cret-token-value-0123456789';

async function open(dir: string, vault: TokenVault, remotes = fakeRemotes()) {
  const sandboxPath = join(dir, 'sandbox.db');
  const manager = await createConnectionManager({
    sandbox: { backend: await openSandbox({ path: sandboxPath, actor: 'mina.kim' }), path: sandboxPath },
    dir,
    vault,
    createRemote: remotes.createRemote,
    retryMs: { base: 20, cap: 50 },
  });
  onCleanup(() => manager.close());
  const pushes: Array<Parameters<ConsolePush>> = [];
  manager.onPush((event, payload) => pushes.push([event, payload]));
  return { manager, remotes, pushes };
}

const add = (m: ConnectionManager, name = 'Prod EU', environment: 'staging' | 'production' = 'production') =>
  m.add({ name, url: 'https://rewind.example.com', environment, token: TOKEN });

/** Every file under the folder, as bytes in the encodings a careless write would use. */
function folderContains(dir: string, secret: string): boolean {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((name) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch {
      return false;
    }
    return [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')].some((form) => bytes.includes(form));
  });
}

const byId = (list: ConnectionInfo[], id: string) => list.find((c) => c.id === id);

describe('connection manager', () => {
  it('always lists the sandbox, connected and selected', async () => {
    const dir = tempDir();
    const { manager } = await open(dir, sessionVault());
    await eventually(() => expect(manager.list()).toEqual([expect.objectContaining({ id: SANDBOX_ID, kind: 'sandbox', state: 'connected', selected: true, has_token: false })]));
    await expect(manager.remove(SANDBOX_ID)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('keeps remote servers in the connections file and their tokens only as keychain blobs', async () => {
    const dir = tempDir();
    const keychain = fakeSecretStore();
    const first = await open(dir, keychainVault(keychain, dir));
    const info = await add(first.manager);
    expect(info).toMatchObject({ name: 'Prod EU', kind: 'remote', environment: 'production', color: '#dc2626', has_token: true, selected: false });
    expect(first.remotes.made[0]?.options).toEqual({ url: 'https://rewind.example.com', token: TOKEN });

    const file = JSON.parse(readFileSync(join(dir, CONNECTIONS_FILE), 'utf8')) as { connections: unknown[] };
    expect(file.connections).toEqual([{ id: info.id, name: 'Prod EU', url: 'https://rewind.example.com', environment: 'production', color: '#dc2626' }]);
    expect(JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8'))).toMatchObject({ secrets: { [info.id]: expect.any(String) } });
    expect(folderContains(dir, TOKEN)).toBe(false);
    await first.manager.close();

    // A restart finds the server and decrypts its token through the keychain.
    const second = await open(dir, keychainVault(keychain, dir));
    expect(byId(second.manager.list(), info.id)).toMatchObject({ name: 'Prod EU', has_token: true });
    expect(second.remotes.made[0]?.options.token).toBe(TOKEN);

    await expect(add(second.manager, 'prod eu')).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
    second.manager.select(info.id);
    await expect(second.manager.remove(info.id)).resolves.toBe(true);
    expect(second.remotes.made[0]?.closed).toBe(true);
    expect(second.manager.list().map((c) => [c.id, c.selected])).toEqual([[SANDBOX_ID, true]]);
    expect(JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8'))).toEqual({ version: 1, secrets: {} });
    await expect(second.manager.remove(info.id)).resolves.toBe(false);
  });

  it('refuses to store a token when the keychain is unavailable, and writes nothing', async () => {
    const dir = tempDir();
    const { manager, remotes } = await open(dir, keychainVault(fakeSecretStore(false), dir));
    const refusal = await add(manager).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(RewindError);
    expect(refusal).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/keychain/), hint: expect.stringMatching(/plain text/) });
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(remotes.made).toHaveLength(0);
    expect(manager.list()).toHaveLength(1);
  });

  it('in browser mode keeps tokens in memory only, and says so after a restart', async () => {
    const dir = tempDir();
    const first = await open(dir, sessionVault());
    const info = await add(first.manager, 'Staging', 'staging');
    expect(info).toMatchObject({ color: '#d97706', has_token: true });
    expect(readdirSync(dir)).not.toContain(SECRETS_FILE);
    expect(folderContains(dir, TOKEN)).toBe(false);
    await first.manager.close();

    const second = await open(dir, sessionVault());
    expect(byId(second.manager.list(), info.id)).toMatchObject({ has_token: false, state: 'refused', detail: expect.stringMatching(/memory only/) });
    expect(second.remotes.made).toHaveLength(0);
    second.manager.select(info.id);
    expect(() => second.manager.selectedBackend()).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED', hint: expect.stringMatching(/Replace token/) }));
  });

  it('follows each connection’s subscription state and pushes the list on every change', async () => {
    const dir = tempDir();
    const { manager, remotes, pushes } = await open(dir, sessionVault());
    const { id } = await add(manager);
    const remote = remotes.made[0];
    if (!remote) throw new Error('no remote');
    await eventually(() => expect(remote.subscriber).not.toBeNull());
    const stateOf = () => byId(manager.list(), id);

    remote.subscriber?.onState?.('reconnecting', 'connect ECONNREFUSED 10.0.0.1:443');
    expect(stateOf()).toMatchObject({ state: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.1:443' });
    remote.subscriber?.onState?.('live');
    expect(stateOf()).toMatchObject({ state: 'connected', detail: null });
    remote.subscriber?.onState?.('reconnecting', 'socket hang up');
    expect(stateOf()).toMatchObject({ state: 'reconnecting', detail: 'socket hang up' });
    remote.subscriber?.onState?.('refused', 'The token was revoked.');
    expect(stateOf()).toMatchObject({ state: 'refused', detail: 'The token was revoked.' });

    const lastPush = pushes.filter(([e]) => e === 'connections:changed').at(-1);
    expect(lastPush?.[1]).toEqual({ connections: manager.list() });
  });

  it('pushes the selected connection’s new events only, from the log’s head', async () => {
    const dir = tempDir();
    // A server whose log already holds 37 events: they are history, not news.
    const { manager, remotes, pushes } = await open(dir, sessionVault(), fakeRemotes({ preloaded: 37 }));
    const { id } = await add(manager);
    const remote = remotes.made[0];
    if (!remote) throw new Error('no remote');
    await eventually(() => expect(remote.subscriber?.after).toBe(37));

    const appended = () => pushes.filter(([e]) => e === 'events:appended').map(([, p]) => p);
    remote.append();
    expect(appended()).toEqual([]);
    manager.select(id);
    const news = remote.append();
    expect(news.seq).toBe(39);
    expect(appended()).toEqual([{ connection_id: id, event: news }]);
  });

  it('retries a server it cannot reach yet, and stops at a refusal', async () => {
    const dir = tempDir();
    const remotes = fakeRemotes({ failure: new RewindError('UNREACHABLE', 'connect ECONNREFUSED', 'Is the server running?') });
    const { manager } = await open(dir, sessionVault(), remotes);
    const { id } = await add(manager);
    const remote = remotes.made[0];
    if (!remote) throw new Error('no remote');
    await eventually(() => expect(byId(manager.list(), id)).toMatchObject({ state: 'unreachable', detail: expect.stringMatching(/ECONNREFUSED.*Is the server running/) }));
    remote.failure = null;
    await eventually(() => expect(remote.subscriber).not.toBeNull());

    const refusing = fakeRemotes({ failure: new RewindError('UNAUTHORIZED', 'The token is not valid.', 'Check the token.') });
    const other = await open(tempDir(), sessionVault(), refusing);
    const refused = await add(other.manager);
    await eventually(() => expect(byId(other.manager.list(), refused.id)).toMatchObject({ state: 'refused', detail: 'The token is not valid. Use “Replace token” on this connection to give it a valid token.' }));
  });

  it('refuses a connections file that is not one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, CONNECTIONS_FILE), '{"version": 1, "connections": [{"name": 3}]}');
    await expect(open(dir, sessionVault())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', hint: expect.stringMatching(/move it aside/) });
    // Not JSON at all (a truncated copy, an editor's leftovers): the same refusal, not a SyntaxError.
    writeFileSync(join(dir, CONNECTIONS_FILE), '{"version": 1, "connec');
    await expect(open(dir, sessionVault())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining(CONNECTIONS_FILE) });
  });

  it('refuses a keychain blob file that is not JSON with what to do, not a SyntaxError', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, SECRETS_FILE), 'not json');
    const vault = keychainVault(fakeSecretStore(), dir);
    await expect(vault.get('remote-1')).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining(SECRETS_FILE), hint: expect.stringMatching(/Move the file aside/) });
  });
  it('says who the console acts as and with what role: the sandbox’s actor (admin), and a remote token’s name and role once the server answered', async () => {
    const dir = tempDir();
    const { manager } = await open(dir, sessionVault());
    expect(byId(manager.list(), SANDBOX_ID)).toMatchObject({ actor: 'mina.kim', role: 'admin', snapshot: null });
    const added = await add(manager);
    // Unknown until the server has said who the token is.
    expect(added.actor).toBeNull();
    expect(added.role).toBeNull();
    await eventually(() => expect(byId(manager.list(), added.id)).toMatchObject({ actor: 'fake-operator', role: 'operator', snapshot: null }));

    const refusing = fakeRemotes({ failure: new RewindError('UNAUTHORIZED', 'The token is not valid.', 'Check the token.') });
    const other = await open(tempDir(), sessionVault(), refusing);
    const refused = await add(other.manager);
    await eventually(() => expect(byId(other.manager.list(), refused.id)).toMatchObject({ state: 'refused', actor: null, role: null }));
  });

  it('replaces a token in the keychain only, reconnects with it, and refuses a token for a sandbox', async () => {
    const dir = tempDir();
    const keychain = fakeSecretStore();
    const setup: { failure?: RewindError } = { failure: new RewindError('UNAUTHORIZED', 'The token is not valid.', 'Check the token.') };
    const refusing = fakeRemotes(setup);
    const { manager, pushes } = await open(dir, keychainVault(keychain, dir), refusing);
    const info = await add(manager);
    await eventually(() => expect(byId(manager.list(), info.id)).toMatchObject({ state: 'refused' }));
    const oldBlob = (JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, string> }).secrets[info.id];

    const NEW_TOKEN = 'rw_the-new-token-value-9876543210';
    delete setup.failure;
    pushes.length = 0;
    const updated = await manager.setToken(info.id, NEW_TOKEN);
    expect(updated).toMatchObject({ id: info.id, has_token: true, state: 'connecting', detail: null, actor: null });
    expect(refusing.made[0]?.closed).toBe(true);
    const replacement = refusing.made[1];
    if (!replacement) throw new Error('no new backend');
    expect(replacement.options).toEqual({ url: 'https://rewind.example.com', token: NEW_TOKEN });
    await eventually(() => expect(byId(manager.list(), info.id)).toMatchObject({ actor: 'fake-operator' }));
    expect(pushes.some(([e]) => e === 'connections:changed')).toBe(true);

    const secrets = (JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, string> }).secrets;
    expect(secrets[info.id]).not.toBe(oldBlob);
    expect(folderContains(dir, NEW_TOKEN)).toBe(false);
    expect(folderContains(dir, TOKEN)).toBe(false);
    await manager.close();
    const again = await open(dir, keychainVault(keychain, dir));
    expect(again.remotes.made[0]?.options.token).toBe(NEW_TOKEN);

    await expect(again.manager.setToken(SANDBOX_ID, NEW_TOKEN)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/no token/) });
    await expect(again.manager.setToken('remote-nope', NEW_TOKEN)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });

    // A keychain that refuses leaves the old token and connection as they were.
    keychain.available = false;
    await expect(again.manager.setToken(info.id, 'rw_yet-another-token-0000000000')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(again.remotes.made).toHaveLength(1);
  });

  it('opens any sandbox file as a connection, remembers it, and forgets it without deleting it', async () => {
    const dir = tempDir();
    const rehearsal = join(tempDir(), 'rehearsal-copy.db');
    await (await openSandbox({ path: rehearsal, demo: true, actor: 'someone.else' })).close();
    const { manager } = await open(dir, sessionVault());

    const opened = await manager.openSandbox(rehearsal);
    expect(opened).toMatchObject({ name: 'rehearsal-copy', kind: 'sandbox', url: rehearsal, environment: 'sandbox', has_token: false, actor: 'mina.kim', snapshot: null });
    await eventually(() => expect(byId(manager.list(), opened.id)).toMatchObject({ state: 'connected' }));
    // Opening it again is the same connection.
    expect((await manager.openSandbox(rehearsal)).id).toBe(opened.id);
    expect((await manager.openSandbox(join(dir, 'sandbox.db'))).id).toBe(SANDBOX_ID);

    manager.select(opened.id);
    const { workflows } = await manager.selectedBackend().call('workflows:list', {});
    expect(workflows.length).toBeGreaterThan(0);

    const file = JSON.parse(readFileSync(join(dir, CONNECTIONS_FILE), 'utf8')) as { connections: unknown[] };
    expect(file.connections).toEqual([{ kind: 'sandbox', id: opened.id, name: 'rehearsal-copy', path: rehearsal, color: '#4f7cff' }]);
    await manager.close();

    const second = await open(dir, sessionVault());
    await eventually(() => expect(byId(second.manager.list(), opened.id)).toMatchObject({ kind: 'sandbox', url: rehearsal, state: 'connected' }));
    expect(await second.manager.remove(opened.id)).toBe(true);
    expect(existsSync(rehearsal)).toBe(true);
    expect(second.manager.list().map((c) => c.id)).toEqual([SANDBOX_ID]);
  });

  it('shows a remembered sandbox file that is gone as unreachable, and refuses files that are not sandboxes', async () => {
    const dir = tempDir();
    const elsewhere = tempDir();
    const gone = join(elsewhere, 'gone.db');
    await (await openSandbox({ path: gone })).close();
    const first = await open(dir, sessionVault());
    const info = await first.manager.openSandbox(gone);
    await first.manager.close();
    for (const f of readdirSync(elsewhere)) rmSync(join(elsewhere, f));

    const { manager } = await open(dir, sessionVault());
    expect(byId(manager.list(), info.id)).toMatchObject({ state: 'unreachable', detail: expect.stringMatching(/There is no file at/) });

    await expect(manager.openSandbox(join(elsewhere, 'missing.db'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no file at/) });
    const text = join(elsewhere, 'notes.txt');
    writeFileSync(text, 'shopping list\n'.repeat(200));
    await expect(manager.openSandbox(text)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/not a Rewind sandbox file/) });
    const empty = join(elsewhere, 'empty.db');
    writeFileSync(empty, '');
    await expect(manager.openSandbox(empty)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/empty database/) });
    // Refused files are left exactly as they were.
    expect(readFileSync(empty)).toHaveLength(0);
    expect(existsSync(`${empty}-wal`)).toBe(false);
  });
});
