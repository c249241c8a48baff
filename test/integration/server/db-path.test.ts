import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from './harness.js';

/*
 * A database path the server or the CLI cannot use is refused with what is wrong and what to do —
 * a read-only file system (EROFS), missing permissions (EACCES) and a full disk (ENOSPC) each in its
 * own words, not "is it a folder?" — and nothing is created beside a refused path (no .webhook-key).
 * The file systems are real: a tmpfs mounted read-only, or tiny and full, in a mount namespace of
 * the server's own (`unshare -m`), and an unprivileged user (`setpriv`) for EACCES. Where the test
 * process may not do that (not root), those cases are skipped, saying why.
 */

interface Outcome {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const proc = spawn(command, args, { cwd: repoRoot, env: { ...process.env, REWIND_LOG_LEVEL: 'warn', REWIND_WEBHOOK_KEY: '', REWIND_ADMIN_TOKEN: 'db-path-admin-token-0123456789', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output })));
}

const server = (db: string) => [join(repoRoot, 'bin/rewind-server.mjs'), '--db', db, '--port', '0'];
const cli = (db: string) => [join(repoRoot, 'bin/rewind.mjs'), '--db', db, 'workflows'];
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `node args…` in a mount namespace of its own, after `setup` (shell) has run there. */
function inNamespace(setup: string, args: string[]): Promise<Outcome> {
  return run('unshare', ['-m', 'sh', '-c', `${setup} && exec ${quote(process.execPath)} ${args.map(quote).join(' ')}`]);
}

const canMount = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=4k tmpfs /mnt'], { stdio: 'ignore' }).status === 0;
const whyNot = 'needs root and `unshare -m` (mount namespaces) to make a read-only or full file system, and setpriv to act as another user';
if (!canMount) console.log(`db-path: skipping the EROFS, ENOSPC and EACCES cases: ${whyNot}`);

describe('database paths that cannot be used', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir('rewind-db-path-');
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('creates no .webhook-key beside a path that is a folder or not a database, and exits 2 saying why', async () => {
    const d = dir();
    mkdirSync(join(d, 'data'));
    writeFileSync(join(d, 'notes.txt'), 'these are not the bytes of a database, but they are long enough to have a header, surely.\n'.repeat(20));
    for (const [db, said] of [
      [join(d, 'data'), /cannot be opened as a database file/],
      [join(d, 'notes.txt'), /is not a Rewind database/],
    ] as const) {
      const out = await run(process.execPath, server(db));
      expect(out.code, out.output).toBe(2);
      expect(out.output).toMatch(said);
      expect(out.output).toMatch(/hint: /);
    }
    expect(readdirSync(d).sort()).toEqual(['data', 'notes.txt']);
    expect(readdirSync(join(d, 'data'))).toEqual([]);
  });

  it.skipIf(!canMount)('names a read-only file system (EROFS), for the server and the CLI, creating nothing', async () => {
    const d = dir();
    const setup = `mount -t tmpfs -o ro,size=64k tmpfs ${quote(d)}`;
    for (const args of [server(join(d, 'rewind.db')), cli(join(d, 'rewind.db'))]) {
      const out = await inNamespace(setup, args);
      expect(out.code, out.output).toBe(2);
      expect(out.output).toContain('is on a read-only file system (EROFS)');
      expect(out.output).toMatch(/hint: Put the database on a writable disk/);
      expect(out.output).not.toContain('is it a folder');
    }
  });

  it.skipIf(!canMount)('names a full disk (ENOSPC), for the server and the CLI', async () => {
    const d = dir();
    // A 64 KiB tmpfs filled to the last byte.
    const setup = `mount -t tmpfs -o size=64k tmpfs ${quote(d)} && (head -c 1048576 /dev/zero > ${quote(join(d, 'filler'))} 2>/dev/null; true)`;
    for (const args of [server(join(d, 'rewind.db')), cli(join(d, 'rewind.db'))]) {
      const out = await inNamespace(setup, args);
      expect(out.code, out.output).toBe(2);
      expect(out.output).toContain('is full (ENOSPC)');
      expect(out.output).toMatch(/hint: Free space on that disk/);
    }
    // The namespace's tmpfs went with it: nothing was left in the real folder either.
    expect(readdirSync(d)).toEqual([]);
  });

  it.skipIf(!canMount)('names missing permissions (EACCES), for the server and the CLI, creating nothing', async () => {
    const d = dir();
    const locked = join(d, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o755);
    // The temp folder is 0700 (mkdtemp): let the other user through it, as far as the locked folder.
    chmodSync(d, 0o711);
    for (const args of [server(join(locked, 'rewind.db')), cli(join(locked, 'rewind.db'))]) {
      const out = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { HOME: locked });
      expect(out.code, out.output).toBe(2);
      expect(out.output).toContain('cannot be written by this user (EACCES');
      expect(out.output).toMatch(/hint: Give the user the server runs as write access/);
    }
    expect(existsSync(join(locked, 'rewind.db.webhook-key'))).toBe(false);
    expect(readdirSync(locked)).toEqual([]);
  });
});
