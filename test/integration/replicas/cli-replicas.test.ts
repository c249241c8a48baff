import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, sharedServerUrl, withDatabase } from '../../support/postgres.js';
import { type ChildServer, api, dsls, killHard, repoRoot, spawnServer, uniqueName } from '../server/harness.js';

/* `npm run server -- --db postgres://…` as operators start it: real processes, one database. */

const ADMIN = `admin-${uniqueName('t')}-0123456789abcdef`;

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'main/server/cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, output })));
}

describe('the server CLI on PostgreSQL', () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    await Promise.all(children.map(killHard));
  });

  it('three replica processes on one database: each names itself, and the If-Match race has one winner', async () => {
    const url = await freshDatabase('cli_replicas');
    // The first start creates the schema and the admin token; the others join the same database.
    children.push(await spawnServer(['--db', url, '--port', '0', '--replica-id', 'cli-a'], { REWIND_ADMIN_TOKEN: ADMIN }));
    children.push(await spawnServer(['--port', '0', '--replica-id', 'cli-b'], { REWIND_DATABASE_URL: url }));
    children.push(await spawnServer(['--db', url, '--port', '0'], {}));
    const [a, b, c] = children as [ChildServer, ChildServer, ChildServer];
    expect(a.output()).toMatch(/postgres postgres:\/\/.*replica cli-a/);
    expect(a.output()).not.toContain(new URL(url).password || '\u0000');
    expect((await api(a.url, undefined, 'GET', '/health')).json).toMatchObject({ status: 'ok', store: 'postgres', replica: 'cli-a' });
    expect((await api(b.url, undefined, 'GET', '/health')).json).toMatchObject({ store: 'postgres', replica: 'cli-b' });
    // No --replica-id: host-pid.
    expect((await api(c.url, undefined, 'GET', '/health')).json).toMatchObject({ store: 'postgres', replica: expect.stringMatching(new RegExp(`-${c.proc.pid}$`)) });

    const created = await api(b.url, ADMIN, 'POST', '/api/v1/workflows', { name: uniqueName('cli-race'), dsl: dsls.v1 });
    expect(created.status).toBe(200);
    const id = (created.json as { id: string }).id;
    expect((await api(c.url, ADMIN, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: dsls.v2 })).status).toBe(200);
    expect((await api(a.url, ADMIN, 'POST', `/api/v1/workflows/${id}/versions/2/publish`)).status).toBe(200);
    const etag = (await api(c.url, ADMIN, 'GET', `/api/v1/workflows/${id}`)).headers.get('etag')!;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => api(children[n % 3]!.url, ADMIN, 'POST', `/api/v1/workflows/${id}/versions/1/rollback`, undefined, { 'if-match': etag })),
    );
    expect(answers.map((x) => x.status).sort()).toEqual([200, ...Array<number>(9).fill(412)]);
    expect(await api(a.url, ADMIN, 'GET', '/api/v1/events/verify')).toMatchObject({ status: 200, json: { ok: true } });
  });

  it('a SQLite path stays SQLite', async () => {
    const child = await spawnServer(['--db', ':memory:', '--port', '0', '--replica-id', 'solo']);
    children.push(child);
    expect((await api(child.url, undefined, 'GET', '/health')).json).toMatchObject({ status: 'ok', store: 'sqlite', replica: 'solo' });
  });

  it('bad settings exit 2 with the message and hint, no stack trace', async () => {
    const server = await sharedServerUrl();
    const u = new URL(server);
    const cases: Array<{ db: string; code: string }> = [
      { db: 'postgres://', code: 'INVALID_DATABASE_URL' },
      { db: withDatabase(server, 'no_such_database_here'), code: 'STORE_DATABASE_MISSING' },
      { db: `postgres://${u.username}:wrong-password@${u.host}/postgres`, code: 'STORE_AUTH_FAILED' },
      { db: 'postgres://rewind:x@127.0.0.1:1/rewind', code: 'STORE_UNAVAILABLE' },
    ];
    for (const c of cases) {
      const { code, output } = await runCli(['--db', c.db, '--port', '0']);
      expect(code, output).toBe(2);
      expect(output).toContain(`error ${c.code}:`);
      expect(output).toContain('hint:');
      expect(output).not.toMatch(/\n\s+at |bug in Rewind/);
      expect(output).not.toContain('wrong-password');
    }
  });
});
