import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { createConnectionManager } from '../../../main/ipc/connections/connection-manager.js';
import { loadConnections } from '../../../main/ipc/connections/connections-file.js';
import { SECRETS_FILE, keychainVault } from '../../../main/ipc/connections/token-vault.js';
import { eventually, fakeRemotes, fakeSecretStore, onCleanup, tempDir } from './helpers.js';

const repoRoot = resolve(import.meta.dirname, '../../..');

function writer(dir: string, prefix: string, count: number): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/ipc/connections-writer.ts', dir, prefix, String(count)], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((res, reject) => child.once('exit', (code) => (code === 0 ? res(code) : reject(new Error(`writer ${prefix} exited ${code}: ${err}`)))));
}

async function manager(dir: string, name: string) {
  const sandboxPath = join(dir, `${name}.db`);
  const m = await createConnectionManager({
    sandbox: { backend: await openSandbox({ path: sandboxPath, actor: name }), path: sandboxPath },
    dir,
    vault: keychainVault(fakeSecretStore(), dir),
    createRemote: fakeRemotes().createRemote,
    retryMs: { base: 20, cap: 50 },
  });
  onCleanup(() => m.close());
  return m;
}

describe('connections file under concurrent consoles', () => {
  it('N processes adding connections at once: every entry and every token is kept', async () => {
    const dir = tempDir();
    const processes = 4;
    const each = 8;
    await Promise.all(Array.from({ length: processes }, (_, p) => writer(dir, `console${p}`, each)));
    const saved = await loadConnections(dir);
    expect(saved).toHaveLength(processes * each);
    const names = new Set(saved.map((c) => c.name));
    for (let p = 0; p < processes; p++) for (let i = 0; i < each; i++) expect(names.has(`console${p}-${i}`)).toBe(true);
    const secrets = (JSON.parse(readFileSync(join(dir, SECRETS_FILE), 'utf8')) as { secrets: Record<string, string> }).secrets;
    expect(Object.keys(secrets).sort()).toEqual(saved.map((c) => c.id).sort());
  }, 120_000);

  it('two consoles open on one folder: adds and removes by one never drop the other’s entries', async () => {
    const dir = tempDir();
    const a = await manager(dir, 'a');
    const b = await manager(dir, 'b');
    const token = 'rw_token-0123456789';
    await Promise.all([
      a.add({ name: 'Prod EU', url: 'https://eu.example.com', environment: 'production', token }),
      b.add({ name: 'Prod US', url: 'https://us.example.com', environment: 'production', token }),
      a.add({ name: 'Staging', url: 'https://staging.example.com', environment: 'staging', token }),
    ]);
    expect((await loadConnections(dir)).map((c) => c.name).sort()).toEqual(['Prod EU', 'Prod US', 'Staging']);
    // Console A removes its own entry: B's, which A never saw, survives.
    const staging = a.list().find((c) => c.name === 'Staging')!;
    expect(await a.remove(staging.id)).toBe(true);
    expect((await loadConnections(dir)).map((c) => c.name).sort()).toEqual(['Prod EU', 'Prod US']);
    // A name another console took since this one started is refused, not duplicated.
    await expect(a.add({ name: 'prod us', url: 'https://us2.example.com', environment: 'staging', token })).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
    expect(await loadConnections(dir)).toHaveLength(2);
  });

  it('removing a connection deletes its keychain token', async () => {
    const dir = tempDir();
    const a = await manager(dir, 'a');
    const added = await a.add({ name: 'Gone soon', url: 'https://gone.example.com', environment: 'staging', token: 'rw_token-0123456789' });
    const vault = keychainVault(fakeSecretStore(), dir);
    expect(await vault.get(added.id)).toBe('rw_token-0123456789');
    await a.remove(added.id);
    expect(await vault.get(added.id)).toBeNull();
    await eventually(() => expect(a.list().some((c) => c.id === added.id)).toBe(false));
  });
});

describe('a remote connection as its server describes it', () => {
  async function withRemotes(remotes: ReturnType<typeof fakeRemotes>) {
    const dir = tempDir();
    const sandboxPath = join(dir, 'sandbox.db');
    const m = await createConnectionManager({
      sandbox: { backend: await openSandbox({ path: sandboxPath, actor: 'mina' }), path: sandboxPath },
      dir,
      vault: keychainVault(fakeSecretStore(), dir),
      createRemote: remotes.createRemote,
      retryMs: { base: 20, cap: 50 },
    });
    onCleanup(() => m.close());
    return m;
  }

  it('shows the environment the server names, beside what was typed when adding it', async () => {
    const m = await withRemotes(fakeRemotes({ environment: 'staging' }));
    const added = await m.add({ name: 'Prod?', url: 'https://prod.example.com', environment: 'production', token: 'rw_token-0123456789' });
    await eventually(() => expect(m.list().find((c) => c.id === added.id)).toMatchObject({ environment: 'production', server_environment: 'staging' }));
    expect(m.list().find((c) => c.kind === 'sandbox')).toMatchObject({ server_environment: 'sandbox' });
  });

  it('a token the server refuses points to “Replace token”', async () => {
    const { RewindError } = await import('../../../main/engine/errors.js');
    const m = await withRemotes(fakeRemotes({ failure: new RewindError('UNAUTHORIZED', 'The token is not recognised, or it was revoked.', 'Send a valid token.') }));
    const added = await m.add({ name: 'Revoked', url: 'https://prod.example.com', environment: 'production', token: 'rw_token-0123456789' });
    await eventually(() => {
      const c = m.list().find((x) => x.id === added.id)!;
      expect(c.state).toBe('refused');
      expect(c.detail).toContain('Use “Replace token” on this connection');
    });
  });
});
