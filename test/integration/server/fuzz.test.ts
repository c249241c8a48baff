import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSandbox } from '../../../main/backends/engine-backend.js';
import { matchRoute, routes } from '../../../main/protocol/routes.js';
import { type ErrorCode, errorCodes, httpStatusOf } from '../../../preload/contract/index.js';
import { sqliteDb } from '../../unit/engine/fixtures.js';
import { type TestServer, api, dsls, repoRoot, startServer, tempDir, uniqueName } from './harness.js';

/** Cases and 5xx answers per route, over every fuzz property of this file (FUZZ_REPORT=1 prints them). */
const tally = new Map<string, { cases: number; fivexx: number }>();
/** Set once the random-request property has run, so the per-route coverage check knows it can apply. */
let randomFuzzRan = false;
function count(method: string, path: string, status: number): void {
  let match: ReturnType<typeof matchRoute> = { kind: 'none' };
  try {
    match = matchRoute(method, path.split('?')[0]!);
  } catch {
    // A path that is not valid percent-encoding counts as unrouted.
  }
  const key = match.kind === 'found' ? `${match.route.verb} ${match.route.template}` : `other ${path.split('?')[0]!.startsWith('/api/v1/tokens') ? '/api/v1/tokens' : '(unrouted)'}`;
  const row = tally.get(key) ?? { cases: 0, fivexx: 0 };
  row.cases += 1;
  if (status >= 500) row.fivexx += 1;
  tally.set(key, row);
}
afterAll(() => {
  if (process.env.FUZZ_REPORT) console.info([...tally].sort().map(([k, v]) => `${String(v.cases).padStart(5)} cases  ${v.fivexx} 5xx  ${k}`).join('\n'));
});

/** `[[[…]]]` nested n deep, as text: JSON.stringify of such a value would itself overflow the stack. */
const deepText = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObjectText = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
const anyText = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

/** Random bodies, params, headers and paths against every route: only 4xx JSON errors, never a 5xx; the server keeps serving. */
describe('workflow server: fuzz', () => {
  let s: TestServer;
  let real: Record<string, string>;

  beforeAll(async () => {
    s = await startServer();
    const wf = await s.backend.call('workflows:create', { name: uniqueName('fuzz'), dsl: dsls.v1 });
    await s.backend.call('versions:createDraft', { workflow_id: wf.id, dsl: dsls.v2 });
    const run = await s.backend.call('runs:start', { workflow_id: wf.id, wait: true });
    real = { workflow_id: wf.id, run_id: run.run_id, version: '1', from: '1', to: '2', seq: '1' };
  });
  afterAll(async () => {
    await s.close();
  });

  const fieldNames = [...new Set(routes.flatMap((r) => [...r.fields.keys()]))];
  const segmentValue = (param: string) =>
    fc.oneof(
      fc.constant(real[param] ?? 'x'),
      fc.integer({ min: -5, max: 1e12 }).map(String),
      anyText(30).filter((t) => t.length > 0).map(encodeURIComponent),
      fc.constantFrom('..', '%00', '%E0%A4%A', '%2F', 'null', '1e309', '-0', ' '),
    );
  const routedPath = fc.constantFrom(...routes).chain((route) =>
    fc.tuple(...route.segments.map((seg) => ('literal' in seg ? fc.constant(seg.literal) : segmentValue(seg.param)))).map((parts) => `/${parts.join('/')}`),
  );
  const path = fc.oneof(
    { weight: 6, arbitrary: routedPath },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.constantFrom('/health', '/metrics', '/api/v1/tokens', '/api/v1/tokens/x', '/api/v1/whoami', '/api/v1/events/stream', '/', '//x', '/api/v1/') },
  );
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(dsls.v1, dsls.v3, { nodes: [] }, -1, 0, 1e308, '__proto__'));
  const objectBody = fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames, '__proto__', 'constructor'), printable(12)), value, { maxKeys: 6 });
  const body = fc.oneof(
    fc.constant(undefined),
    objectBody.map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    anyText(200),
  );
  const query = fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), printable(8)), fc.oneof(printable(12), fc.integer().map(String)), { maxKeys: 4 });
  const headers = fc.record(
    {
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('admin', 'operator', 'viewer').map((r) => `Bearer ${s.tokens[r as 'admin']}`) },
        { weight: 1, arbitrary: printable(60) },
      ),
      'if-match': fc.oneof(printable(20), fc.nat().map((n) => `"${n}"`), fc.constant('*')),
      'idempotency-key': printable(220),
      'content-type': fc.constantFrom('application/json', 'text/plain', 'application/merge-patch+json', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
      accept: printable(30),
    },
    { requiredKeys: [] },
  );
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    path,
    query,
    body,
    headers,
  });

  it('answers every random request with 2xx or a 4xx JSON error whose status matches its code', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const qs = new URLSearchParams(r.query).toString();
        const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        const res = await fetch(`${s.url}${r.path}${qs ? `?${qs}` : ''}`, {
          method: r.method,
          headers: r.headers,
          ...(withBody ? { body: r.body } : {}),
        });
        const text = await res.text();
        count(r.method, r.path, res.status);
        expect(res.status).toBeLessThan(500);
        if (r.method === 'HEAD') return;
        if (res.status >= 400) {
          const parsed = JSON.parse(text) as { error: { code: ErrorCode; message: string; hint: string } };
          expect(Object.keys(errorCodes)).toContain(parsed.error.code);
          expect(httpStatusOf(parsed.error.code)).toBe(res.status);
          expect(parsed.error.hint.length).toBeGreaterThan(0);
        } else if (!r.path.startsWith('/metrics')) {
          expect(() => JSON.parse(text) as unknown).not.toThrow();
        }
      }),
      { numRuns: 1500, seed: 20260122 },
    );
    randomFuzzRan = true;
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect((await fetch(`${s.url}/api/v1/workflows`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } })).status).toBe(200);
  }, 300_000);

  it('answers garbage on the wire with a 4xx JSON error or a closed socket, and keeps serving', async () => {
    const { port } = new URL(s.url);
    const raw = fc.oneof(
      anyText(300),
      fc.tuple(printable(10), printable(40)).map(([m, p]) => `${m} ${p} HTTP/1.1\r\nHost: x\r\n\r\n`),
      fc.nat(100).map((n) => `GET /api/v1/workflows HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n * 1000)}\r\n\r\n`),
      fc.constant('POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello'),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (payload) => {
        const answer = await new Promise<string>((resolve) => {
          const sock = net.connect(Number(port), '127.0.0.1');
          let data = '';
          sock.setTimeout(2000, () => sock.destroy());
          sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
          sock.on('close', () => resolve(data));
          sock.on('error', () => resolve(data));
          sock.end(payload);
        });
        if (answer === '') return;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        expect(status).toBeLessThan(500);
        if (status >= 400) {
          const bodyText = answer.slice(answer.indexOf('\r\n\r\n') + 4);
          expect((JSON.parse(bodyText) as { error: { code: string } }).error.code).toBeTruthy();
        }
      }),
      { numRuns: 80, seed: 4242 },
    );
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });
});

/** Bodies nested past the limit, on every route that takes one: 400 naming the path, never a stack overflow. */
describe('workflow server: fuzz, JSON depth', () => {
  let s: TestServer;
  let real: Record<string, string>;
  beforeAll(async () => {
    s = await startServer();
    // `p` is a declared object param, so a deep one reaches the engine.
    const wf = await s.backend.call('workflows:create', { name: uniqueName('deep'), dsl: { ...dsls.v1, params: { p: { type: 'object' } } } });
    const run = await s.backend.call('runs:start', { workflow_id: wf.id, wait: true });
    real = { workflow_id: wf.id, run_id: run.run_id, version: '1', from: '1', to: '1', seq: '1', runbook: 'none', rehearsal_id: 'none' };
  });
  afterAll(async () => {
    await s.close();
  });

  const bodyRoutes = routes.filter((r) => r.verb !== 'GET');
  const pathOf = (route: (typeof routes)[number]) => `/${route.segments.map((seg) => ('literal' in seg ? seg.literal : encodeURIComponent(real[seg.param] ?? 'x'))).join('/')}`;

  it('refuses 5,000-level and 65-level bodies on every body route with 400 MALFORMED_REQUEST and the path', async () => {
    for (const route of bodyRoutes) {
      const fields = [...route.fields.keys()].filter((f) => !route.segments.some((seg) => 'param' in seg && seg.param === f));
      for (const field of [...fields, 'params']) {
        for (const [depth, text] of [
          [5000, deepText(5000)],
          [65, deepObjectText(65)],
        ] as const) {
          const res = await api(s.url, s.tokens.admin, route.verb, pathOf(route), `{"${field}":${text}}`);
          count(route.verb, pathOf(route), res.status);
          expect(res.status, `${route.verb} ${route.template} ${field} depth ${depth}`).toBe(400);
          const error = (res.json as { error: { code: string; message: string; details: { path: string; max_depth: number } } }).error;
          expect(error.code).toBe('MALFORMED_REQUEST');
          expect(error.details.max_depth).toBe(64);
          expect(error.details.path.startsWith(`${field}.`)).toBe(true);
          expect(error.message).toContain('64 levels');
        }
      }
    }
    // The token route parses bodies too.
    const tokenRes = await api(s.url, s.tokens.admin, 'POST', '/api/v1/tokens', `{"name":${deepText(5000)}}`);
    count('POST', '/api/v1/tokens', tokenRes.status);
    expect(tokenRes.status).toBe(400);
  });

  it('answers a plain request with real ids on every GET route below 500 (so each route is counted)', async () => {
    for (const route of routes.filter((r) => r.verb === 'GET')) {
      const res = await api(s.url, s.tokens.admin, 'GET', pathOf(route));
      count('GET', pathOf(route), res.status);
      expect(res.status, route.template).toBeLessThan(500);
    }
  });

  it('accepts a body nested exactly 64 levels (the limit is not off by one)', async () => {
    // The body (1) holds params (2) holding 62 more levels: 64 in all.
    const params = deepObjectText(62);
    const res = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${real.workflow_id!}/runs`, `{"params":{"p":${params}},"wait":true}`);
    count('POST', `/api/v1/workflows/${real.workflow_id!}/runs`, res.status);
    expect(res.status).toBe(200);
  });

  it('refuses deep run params and DSL defaults on the in-process path (sandbox, IPC) with MALFORMED_REQUEST', async () => {
    const deep = JSON.parse(deepText(5000)) as unknown;
    await expect(s.backend.call('runs:start', { workflow_id: real.workflow_id!, params: { x: deep } })).rejects.toMatchObject({ code: 'MALFORMED_REQUEST' });
    await expect(
      s.backend.call('workflows:create', { name: uniqueName('deep'), dsl: { ...dsls.v1, defaults: { x: deep } } }),
    ).rejects.toMatchObject({ code: 'MALFORMED_REQUEST', details: { path: expect.stringMatching(/^dsl\.defaults\.x\.0\.0/) as unknown } });
    // Nothing was written: the refusal came before the engine.
    expect((await s.backend.call('workflows:list', {})).workflows).toHaveLength(1);
  });
});

/** A database the server cannot write: 503 with a hint, /health degraded until a write succeeds again. */
describe('workflow server: fuzz, unwritable database', () => {
  let s: TestServer;
  let workflowId: string;
  beforeAll(async () => {
    s = await startServer();
    workflowId = (await s.backend.call('workflows:create', { name: uniqueName('ro'), dsl: dsls.v1 })).id;
  });
  afterAll(async () => {
    await s.close();
  });

  const writes = () =>
    [
      ['POST', '/api/v1/workflows', { name: uniqueName('w'), dsl: dsls.v1 }],
      ['POST', `/api/v1/workflows/${workflowId}/pause`, undefined],
      ['POST', `/api/v1/workflows/${workflowId}/versions`, { dsl: dsls.v2 }],
      ['POST', `/api/v1/workflows/${workflowId}/runs`, { params: { defect_rate: 0.01 } }],
      ['PUT', `/api/v1/workflows/${workflowId}/schedule`, { schedule: '*/5 * * * *' }],
    ] as const;

  async function expectDegradedThenRecovers(code: string, makeWritable: () => void): Promise<void> {
    for (const [verb, path, body] of writes()) {
      const res = await api(s.url, s.tokens.admin, verb, path, body);
      count(verb, path, res.status);
      expect(res.status, `${verb} ${path}`).toBe(503);
      const error = (res.json as { error: { code: string; hint: string } }).error;
      expect(error.code).toBe(code);
      expect(error.hint).toMatch(/writable|disk|space/);
      expect(res.headers.get('retry-after')).toBe('1');
    }
    // Reads keep working while writes fail.
    expect((await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${workflowId}`)).status).toBe(200);
    const degraded = await api(s.url, undefined, 'GET', '/health');
    expect(degraded.status).toBe(503);
    expect(degraded.json).toMatchObject({ status: 'degraded', reason: expect.stringContaining('not saved') as unknown, error: { code } });
    makeWritable();
    // Still degraded until a write actually succeeds.
    expect((await api(s.url, undefined, 'GET', '/health')).status).toBe(503);
    const ok = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('back'), dsl: dsls.v1 });
    expect(ok.status).toBe(200);
    const healthy = await api(s.url, undefined, 'GET', '/health');
    expect(healthy.status).toBe(200);
    expect(healthy.json).toMatchObject({ status: 'ok' });
  }

  it('a connection that refuses writes (query_only) answers 503 STORE_READ_ONLY', async () => {
    sqliteDb(s.backend.engine).pragma('query_only = ON');
    await expectDegradedThenRecovers('STORE_READ_ONLY', () => sqliteDb(s.backend.engine).pragma('query_only = OFF'));
  });

  const chattr = spawnSync('chattr', ['-V'], { encoding: 'utf8' });
  const canChattr = (() => {
    if (chattr.error) return false;
    const dir = tempDir('rewind-chattr-');
    const probe = join(dir, 'probe');
    writeFileSync(probe, 'x');
    try {
      execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
      execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();

  // chmod does not stop root; the immutable attribute does (ext4 and most Linux filesystems, as root).
  it.skipIf(!canChattr)('an immutable database file (chattr +i, even for root) answers 503 and recovers once writable', async () => {
    sqliteDb(s.backend.engine).pragma('wal_checkpoint(TRUNCATE)');
    const files = [s.dbPath, `${s.dbPath}-wal`, `${s.dbPath}-shm`].filter((f) => existsSync(f));
    const set = (flag: '+i' | '-i') => files.forEach((f) => execFileSync('chattr', [flag, f], { stdio: 'ignore' }));
    set('+i');
    try {
      const res = await api(s.url, s.tokens.admin, 'POST', '/api/v1/workflows', { name: uniqueName('imm'), dsl: dsls.v1 });
      count('POST', '/api/v1/workflows', res.status);
      expect(res.status).toBe(503);
      const code = (res.json as { error: { code: string } }).error.code;
      expect(['STORE_READ_ONLY', 'STORE_UNAVAILABLE']).toContain(code);
      await expectDegradedThenRecovers(code, () => set('-i'));
    } finally {
      set('-i');
    }
  });

  it('counted every route exercised in this file, and none answered 5xx other than the store refusals', () => {
    const unexpected = [...tally].filter(([, v]) => v.fivexx > 0).map(([k]) => k);
    // The only 5xx allowed anywhere are the deliberate 503s of the unwritable-database cases above.
    for (const key of unexpected) expect(['POST /api/v1/workflows', 'POST /api/v1/workflows/:workflow_id/pause', 'POST /api/v1/workflows/:workflow_id/versions', 'POST /api/v1/workflows/:workflow_id/runs', 'PUT /api/v1/workflows/:workflow_id/schedule']).toContain(key);
    if (!randomFuzzRan) return;
    for (const route of routes) expect(tally.get(`${route.verb} ${route.template}`)?.cases ?? 0, `${route.verb} ${route.template}`).toBeGreaterThan(0);
  });
});

/** Files that are no usable database at start: both CLIs exit 2 with what is wrong and what to do, no stack trace. */
describe('workflow server and CLI: fuzz, bad database files at start', () => {
  const dir = tempDir('rewind-badfile-');
  const good = join(dir, 'good.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function badFiles(): Promise<Array<[string, string, RegExp]>> {
    const sb = await openSandbox({ path: good, demo: true });
    await sb.close();
    const bytes = readFileSync(good);
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(50));
    const header = join(dir, 'header.db');
    const h = Buffer.from(bytes);
    h.fill(0x41, 0, 100);
    writeFileSync(header, h);
    const corrupt = join(dir, 'corrupt.db');
    const c = Buffer.from(bytes);
    for (let i = 4096; i < c.length; i += 7) c[i] = (c[i]! * 31 + 7) & 255;
    writeFileSync(corrupt, c);
    const folder = join(dir, 'folder.db');
    mkdirSync(folder);
    const missing = join(dir, 'no-such-folder', 'x.db');
    return [
      [text, 'not a database', /not a Rewind database/],
      [header, 'garbage header', /not a Rewind database/],
      [corrupt, 'corrupt pages', /corrupt|backup/],
      [folder, 'a folder', /cannot be opened/],
      // The server only: the rewind CLI's handling of a missing folder is its own (it creates sandbox folders).
      [missing, 'missing folder', /does not exist|cannot be opened/],
    ];
  }

  const node = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, REWIND_LOG_LEVEL: 'warn' }, timeout: 60_000 });

  it('exits 2 naming the file, the problem and a remedy', async () => {
    const files = await badFiles();
    const immutable = join(dir, 'immutable.db');
    copyFileSync(good, immutable);
    let chattrWorks = false;
    try {
      execFileSync('chattr', ['+i', immutable], { stdio: 'ignore' });
      chattrWorks = true;
      files.push([immutable, 'immutable', /cannot be written/]);
    } catch {
      // Not root or no chattr: the other files still cover start-up.
    }
    try {
      for (const [file, what, problem] of files) {
        for (const [name, args] of [
          ['server', ['main/server/cli.ts', '--db', file, '--port', '0']],
          ['rewind', ['main/cli/index.ts', '--db', file, 'workflows']],
        ] as const) {
          if (name === 'rewind' && what === 'missing folder') continue;
          const res = node([...args]);
          expect(res.status, `${name} on ${what}: ${res.stderr}`).toBe(2);
          expect(res.stderr).toContain('STORE_UNUSABLE');
          expect(res.stderr).toContain(file);
          expect(res.stderr).toMatch(problem);
          expect(res.stderr).toMatch(/hint: .*(backup|another file|folder|writable)/);
          expect(res.stderr).not.toMatch(/\n\s+at /);
        }
      }
    } finally {
      if (chattrWorks) execFileSync('chattr', ['-i', immutable], { stdio: 'ignore' });
    }
  }, 300_000);
});
