import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../../main/engine/store/postgres/index.js';
import { latestSchemaVersion } from '../../../main/engine/store/postgres/migrations/index.js';
import { freePort } from '../../../scripts/local-postgres.js';

/* `npm run pg`: a local PostgreSQL for trying replicas, its URL printed, stopped cleanly by Ctrl-C. */

const repo = join(import.meta.dirname, '../../..');
const script = ['--import', 'tsx', join(repo, 'scripts/pg.ts')];

describe('npm run pg', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGINT');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-pg-script-'));
    dirs.push(dir);
    return dir;
  };

  it('starts PostgreSQL in DIR, prints a URL a store opens, and stops cleanly on Ctrl-C', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const port = await freePort();
    const child = spawn(process.execPath, [...script, '--dir', join(dir, 'pg'), '--port', String(port)], { cwd: repo });
    children.push(child);
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const found = /postgres:\/\/\S+/.exec(out);
        if (found && out.includes('Ctrl-C')) resolve(found[0]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(url).toMatch(new RegExp(`^postgres://postgres:[0-9a-f]+@127\\.0\\.0\\.1:${port}/rewind$`));

    const store = await openPostgresStore({ url });
    expect(store.schemaVersion).toBe(latestSchemaVersion);
    await store.close();

    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopping PostgreSQL');
  });

  it('refuses a port in use with exit code 2 and a hint', async () => {
    const taken = createServer();
    await new Promise<void>((ready) => taken.listen(0, '127.0.0.1', ready));
    const port = (taken.address() as { port: number }).port;
    const dir = tempDir();
    chmodSync(dir, 0o755);
    try {
      const r = spawnSync(process.execPath, [...script, '--dir', join(dir, 'pg'), '--port', String(port)], { cwd: repo, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`Port ${port} is in use`);
      expect(r.stderr).toContain('hint: ');
    } finally {
      taken.close();
    }
  });

  it('refuses a DIR it cannot create with exit code 2 and a hint', () => {
    const r = spawnSync(process.execPath, [...script, '--dir', '/etc/hostname/pg'], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Cannot write to /etc/hostname/pg');
    expect(r.stderr).toContain('hint: ');
  });

  it.skipIf(process.getuid?.() !== 0)('as root, refuses a DIR the postgres user cannot reach, naming the folder in the way', () => {
    // mkdtemp makes the folder 0700: root's alone.
    const closed = tempDir();
    const r = spawnSync(process.execPath, [...script, '--dir', join(closed, 'pg')], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`cannot enter ${closed}`);
    expect(r.stderr).toContain(`chmod o+x ${closed}`);
  });

  it('refuses to run without --dir, with exit code 2', () => {
    const r = spawnSync(process.execPath, script, { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--dir is required');
  });
});
