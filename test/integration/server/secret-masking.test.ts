import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../../main/backends/remote/index.js';
import { SecretBox } from '../../../main/engine/webhooks/secret-box.js';
import { WebhookWorker } from '../../../main/server/webhook-worker.js';
import { snapshotServer } from '../../../main/snapshots/snapshot.js';
import { isPostgresUrl } from '../../../main/engine/store/postgres/index.js';
import { stores } from '../../support/stores.js';
import { localService } from '../../unit/engine/real-nodes/local-service.js';
import { Receiver } from '../webhooks/receiver.js';
import { type TestServer, api, eventually, startServer, tempDir } from './harness.js';

/*
 * Secrets masked in their common forms, on each store. A local service on 127.0.0.1 echoes the
 * Authorization header back reversed, upper- and lower-cased, base64, base64url, hex, URL-encoded,
 * JSON-escaped inside text, cut to its first or last 12 characters, inside a Basic credential, and in
 * a 500's body. None of these forms may be found in the database (the SQLite file's bytes; every
 * column of every PostgreSQL table), the API's answers, a snapshot file, a webhook delivery or the
 * server's log — and each node's answer shows the mask where the secret was.
 */

// 26 characters, with a quote and a backslash so its JSON-escaped form differs from it.
const TOKEN = 'Sk-live"9f2Kq7\\Lm3Xz8Pw4Rb6Tn';
const SECRET_VAR = 'REWIND_SECRET_ECHO_TOKEN';
const MASK = '[secret:ECHO_TOKEN]';
const reverse = (s: string) => [...s].reverse().join('');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const rot13 = (s: string) => s.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (c <= 'Z' ? 65 : 97)));

/** What the echo service answers for each route, from the token it was sent. */
const ECHOES: Record<string, (t: string) => string> = {
  verbatim: (t) => t,
  reversed: reverse,
  upper: (t) => t.toUpperCase(),
  lower: (t) => t.toLowerCase(),
  base64: b64,
  base64url: (t) => Buffer.from(t).toString('base64url'),
  hex: (t) => Buffer.from(t).toString('hex'),
  urlencoded: encodeURIComponent,
  first12: (t) => t.slice(0, 12),
  last12: (t) => t.slice(-12),
  basic: (t) => b64(`bot:${t}`),
};

/** Every string that must not be found: each echoed form (and the Basic credential's core), as is and JSON-escaped. */
function forbidden(): string[] {
  const forms = [...Object.values(ECHOES).map((f) => f(TOKEN)), b64(`bot:${TOKEN}`).slice(8), rot13(TOKEN), reverse(b64(TOKEN))];
  return [...new Set(forms.flatMap((f) => [f, JSON.stringify(f).slice(1, -1)]))];
}

function leaks(where: string, text: string): string[] {
  return forbidden()
    .filter((f) => text.includes(f))
    .map((f) => `${where}: ${JSON.stringify(f)}`);
}

describe.each(stores)('secrets masked in their common forms ($kind)', (factory) => {
  const key = randomBytes(32);
  const dir = tempDir('rewind-masking-');
  const lines: string[] = [];
  const answers: string[] = [];
  let s: TestServer;
  let location: string;
  let svc: Awaited<ReturnType<typeof localService>>;
  let receiver: Receiver;
  let worker: WebhookWorker;
  let failedRun: Record<string, unknown>;
  let redactedRun: Record<string, unknown>;

  /** An API call whose answer text is kept for the leak search. */
  async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const r = await api(s.url, token, method, path, body);
    answers.push(JSON.stringify(r.json));
    return r;
  }

  beforeAll(async () => {
    process.env[SECRET_VAR] = TOKEN;
    const routes: Parameters<typeof localService>[0] = {};
    const tokenOf = (auth: string | string[] | undefined) => String(auth ?? '').replace(/^Bearer /, '');
    for (const [name, echo] of Object.entries(ECHOES)) {
      routes[`/echo/${name}`] = (_req, res, seen) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ route: name, seen: echo(tokenOf(seen.headers.authorization)) }));
    }
    // Not JSON: the answer is kept as text, holding the secret JSON-escaped.
    routes['/echo/json-in-text'] = (_req, res, seen) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`note=${JSON.stringify({ t: tokenOf(seen.headers.authorization) })}`);
    routes['/echo/fail'] = (_req, res, seen) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`denied ${reverse(tokenOf(seen.headers.authorization))} ${b64(tokenOf(seen.headers.authorization))}`);
    // A transformation no masking can predict: only redact_response keeps it out.
    routes['/echo/rot13'] = (_req, res, seen) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ defect_rate: 0.01, echo: rot13(tokenOf(seen.headers.authorization)), nested: { also: reverse(b64(tokenOf(seen.headers.authorization))) } }));
    svc = await localService(routes);

    const store = await factory.open('masking');
    location = factory.location('masking');
    s = await startServer({ store, sandbox: { liveExecution: true, webhookKey: key, allowPrivateWebhooks: true }, log: (l) => lines.push(l), logLevel: 'info', logFormat: 'json' });
    receiver = await new Receiver('webhook signing secret').start();
    await call(s.tokens.admin, 'POST', '/api/v1/webhooks', { url: receiver.url, secret: 'webhook signing secret', events: ['run_failed', 'run_succeeded'] });
    worker = new WebhookWorker({ engine: s.backend.engine, box: new SecretBox(key), owner: 'masking-test', egress: { allowPrivate: true }, backoff: { baseMs: 5, maxMs: 40, attempts: 50 }, pollMs: 10, timeoutMs: 2000, leaseMarginMs: 200 }).start();

    const node = (route: string) => ({
      id: route.replace(/-/g, '_'),
      type: 'http',
      params: { method: 'GET', url: `${svc.url}/echo/${route}`, headers: { Authorization: 'Bearer {{secret.ECHO_TOKEN}}' }, output_key: `echo.${route.replace(/-/g, '_')}` },
    });
    const routesInOrder = [...Object.keys(ECHOES), 'json-in-text', 'fail'];
    const echoDsl = { nodes: routesInOrder.map((r, i) => ({ ...node(r), next: i + 1 < routesInOrder.length ? [routesInOrder[i + 1]!.replace(/-/g, '_')] : [] })) };
    const echoWf = (await call(s.tokens.admin, 'POST', '/api/v1/workflows', { name: 'echo-forms', dsl: echoDsl })).json as { id: string };
    failedRun = (await call(s.tokens.operator, 'POST', `/api/v1/workflows/${echoWf.id}/runs`, { wait: true })).json as Record<string, unknown>;

    const redactDsl = {
      nodes: [
        { ...node('rot13'), params: { ...node('rot13').params, output_key: 'inspect', redact_response: true }, next: ['judge'] },
        { id: 'judge', type: 'judgment', params: { rules: [{ field: 'inspect.defect_rate', op: '>', value: 0.05, outcome: 'warning' }], default: 'pass' }, next: [] },
      ],
    };
    const redactWf = (await call(s.tokens.admin, 'POST', '/api/v1/workflows', { name: 'echo-redacted', dsl: redactDsl })).json as { id: string };
    redactedRun = (await call(s.tokens.operator, 'POST', `/api/v1/workflows/${redactWf.id}/runs`, { wait: true })).json as Record<string, unknown>;

    // An operator pastes the token (reversed, base64) into a search box: the request line is logged.
    await call(s.tokens.viewer, 'GET', `/api/v1/workflows?query=${encodeURIComponent(reverse(TOKEN))}`);
    await call(s.tokens.viewer, 'GET', `/api/v1/workflows?query=${encodeURIComponent(b64(TOKEN))}`);
    const ended = [failedRun, redactedRun].filter((r) => typeof r.run_id === 'string').length;
    await eventually(() => receiver.received.filter((r) => r.answered === 200).length >= ended, 15_000, 'the run ends delivered');
  });

  afterAll(async () => {
    delete process.env[SECRET_VAR];
    await worker?.stop();
    await receiver?.close();
    await svc?.close();
    await factory.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('masks each echoed form in the nodes’ answers, and the 500’s body in the run error', async () => {
    expect(failedRun).toMatchObject({ status: 'failed', failed_node: 'fail' });
    expect(String(failedRun.error)).toContain(`answered status 500, expected 200–299: denied ${MASK} ${MASK}`);
    const cps = ((await call(s.tokens.viewer, 'GET', `/api/v1/runs/${String(failedRun.run_id)}/checkpoints`)).json as { checkpoints: Array<{ node_id: string; state: { output: Record<string, unknown> } }> }).checkpoints;
    const out = Object.fromEntries(cps.map((c) => [c.node_id, c.state.output]));
    for (const name of Object.keys(ECHOES)) {
      if (name === 'basic') continue;
      expect(out[name], name).toEqual({ route: name, seen: MASK });
    }
    // A Basic credential: what is left before the mask encodes "bot:" alone.
    expect(String((out.basic as { seen: string }).seen)).toMatch(/^Ym90O\S{0,3}\[secret:ECHO_TOKEN\]$/);
    expect(out.json_in_text).toEqual({ status: 200, text: `note={"t":"${MASK}"}` });
  });

  it('keeps only the status and the fields the judge reads with redact_response: true', async () => {
    expect(redactedRun.status).toBe('succeeded');
    const cps = ((await call(s.tokens.viewer, 'GET', `/api/v1/runs/${String(redactedRun.run_id)}/checkpoints`)).json as { checkpoints: Array<{ node_id: string; state: { output: unknown; context: Record<string, unknown> } }> }).checkpoints;
    expect(cps[0]!.state.output).toEqual({ defect_rate: 0.01, status: 200 });
    expect(cps[0]!.state.context.inspect).toEqual({ defect_rate: 0.01, status: 200 });
    expect(cps[1]!.state.output).toMatchObject({ verdict: 'pass', observed: 0.01 });
  });

  it('leaves no form in the API answers, the webhook deliveries, a snapshot, the log, or the database bytes', async () => {
    const runs = await call(s.tokens.viewer, 'GET', '/api/v1/runs');
    expect(runs.status).toBe(200);
    await call(s.tokens.viewer, 'GET', `/api/v1/runs/${String(failedRun.run_id)}`);
    await call(s.tokens.viewer, 'GET', '/api/v1/events?after=0&limit=10000');
    await call(s.tokens.viewer, 'GET', '/api/v1/incidents');
    const found: string[] = [];
    found.push(...leaks('API answers', answers.join('\n')));

    // Where the mask must show (so a search that finds nothing proves something): checked last.
    const masked: Record<string, boolean> = {};
    const deliveries = receiver.received.map((r) => r.body).join('\n');
    masked['webhook deliveries'] = deliveries.includes(MASK);
    found.push(...leaks('webhook deliveries', deliveries));

    const remote = new RemoteBackend({ url: s.url, token: s.tokens.viewer, retries: 1, timeoutMs: 5000 });
    const snapshot = join(dir, 'snapshot.db');
    try {
      await snapshotServer({ backend: remote, sourceUrl: s.url, path: snapshot, runs: 100 });
    } finally {
      await remote.close();
    }
    const snapshotBytes = [snapshot, `${snapshot}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
    masked['snapshot file'] = Buffer.from(snapshotBytes, 'latin1').toString('utf8').includes(MASK);
    found.push(...leaks('snapshot file', Buffer.from(snapshotBytes, 'latin1').toString('utf8')));

    const log = lines.join('\n');
    masked['server log'] = log.includes(`query=${MASK}`);
    found.push(...leaks('server log', log));

    await worker.stop();
    await s.close();
    const stored = isPostgresUrl(location) ? await postgresText(location) : [location, `${location}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('utf8')).join('');
    masked.database = stored.includes(MASK);
    found.push(...leaks('database', stored));
    expect(found).toEqual([]);
    expect(masked).toEqual({ 'webhook deliveries': true, 'snapshot file': true, 'server log': true, database: true });
  });
});

/** Every column of every table of a PostgreSQL database, as text: what its files hold, decompressed. */
async function postgresText(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    );
    const byTable = new Map<string, string[]>();
    for (const c of columns.rows) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
    const parts: string[] = [];
    for (const [table, cols] of byTable) {
      const select = cols.map((c) => `coalesce(${client.escapeIdentifier(c)}::text, '')`).join(", E'\\n', ");
      const rows = await client.query<{ t: string }>(`SELECT concat(${select}) AS t FROM ${client.escapeIdentifier(table)}`);
      parts.push(...rows.rows.map((r) => r.t));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}
