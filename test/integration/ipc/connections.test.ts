import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/sandbox.js';
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
    sandbox: { backend: openSandbox({ path: sandboxPath }), path: sandboxPath },
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
    expect(() => second.manager.selectedBackend()).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED', hint: expect.stringMatching(/add it again/) }));
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
    await eventually(() => expect(byId(other.manager.list(), refused.id)).toMatchObject({ state: 'refused', detail: 'The token is not valid. Check the token.' }));
  });

  it('refuses a connections file that is not one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, CONNECTIONS_FILE), '{"version": 1, "connections": [{"name": 3}]}');
    await expect(open(dir, sessionVault())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', hint: expect.stringMatching(/move it aside/) });
  });
});
