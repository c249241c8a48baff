import net from 'node:net';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-if-needed.mjs';
import { startConsole } from '../e2e/support/console.js';
import { killHard, spawnServer } from '../integration/server/harness.js';
import type { LocalPostgres } from '../../scripts/local-postgres.js';
import { checkoutPostgres, checkoutSqlite, historyPostgres, postgresHistory, sqliteHistory } from './history/cache.js';
import { type BenchResult, type BenchSuite, percentile, result } from './lib.js';

/*
 * Issue 19, point 2: the console never downloads the log. The real console in browser mode (built
 * renderer, the console API over its WebSocket) in Chromium, against a compiled workflow server on a
 * cached history of 10k and of 1M events (SQLite). Measured per size:
 * - the bytes that cross the browser-mode WebSocket and the server's HTTP (a counting TCP proxy sits
 *   between the console and the server) while the console adds the server, opens it on Home, opens the
 *   audit log and scrolls it back 10,000 events;
 * - the first paint of Home and of the audit log after switching to the server (p50 of several);
 * - the page's JS heap after a collection, once open and once scrolled back.
 * 1M is printed against 10k measured in the same run. `REWIND_BENCH_CONSOLE_SIZES=10000,100000` picks
 * the sizes (the first is the baseline), `REWIND_BENCH_CONSOLE_STORES=sqlite,postgres` the stores
 * (SQLite by default: a 1M PostgreSQL history takes long to build once); the histories are cached
 * (see history/cache.ts) and each run serves a private copy.
 */

const SIZES = (process.env.REWIND_BENCH_CONSOLE_SIZES ?? '10000,1000000').split(',').map(Number);
const STORES = (process.env.REWIND_BENCH_CONSOLE_STORES ?? 'sqlite').split(',') as Array<'sqlite' | 'postgres'>;
const PAINT_SAMPLES = 7;
const SCROLL_BACK = 10_000;
const OPEN_BYTES_LIMIT = 2 * 1024 * 1024;
const ADMIN_TOKEN = 'history-console-bench-admin-token';

const ratioAtMost = (limit: number) => ({ text: `ratio ≤ ${limit}×`, met: (r: number) => r <= limit });

/** A TCP proxy counting every byte both ways: the console's HTTP and WebSocket traffic to the server. */
async function countingProxy(target: URL): Promise<{ url: string; bytes(): number; close(): Promise<void> }> {
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.on('data', (c: Buffer) => (bytes += c.length));
    upstream.on('data', (c: Buffer) => (bytes += c.length));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Counts the browser-mode WebSocket's frames, both ways. */
function countFrames(page: Page): () => number {
  let bytes = 0;
  page.on('websocket', (ws) => {
    ws.on('framesent', ({ payload }) => (bytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length));
    ws.on('framereceived', ({ payload }) => (bytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length));
  });
  return () => bytes;
}

async function heapBytes(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize;
}

/**
 * Runs in the page: selects `target`, opens `view` once the previous rows are gone, and times the
 * first frame painted with that view's rows. A string, not a function: tsx wraps named functions in
 * a helper the page does not have.
 */
const SWITCH_AND_PAINT = `([target, view, rows]) => {
  const select = document.querySelector('[data-testid="connection-select"]');
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()))));
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let switched = false;
    let done = false;
    const timer = setTimeout(() => { observer.disconnect(); reject(new Error('no rows of ' + view)); }, 60000);
    const old = 'data-bench-old';
    // What the previous connection shows: the reset removes it, and then the view is opened.
    for (const el of document.querySelectorAll('[data-testid="workflow-row"], [data-testid="home-clear"], [data-testid="incident-item"], [data-testid="audit-row"]')) el.setAttribute(old, '');
    const check = () => {
      if (!switched) {
        if (document.querySelector('[' + old + ']')) return;
        switched = true;
        if (view !== 'home') document.querySelector('[data-testid="nav-' + view + '"]').click();
      }
      if (done || document.querySelectorAll(rows).length === 0) return;
      done = true;
      observer.disconnect();
      clearTimeout(timer);
      void frame().then((t) => resolve(t - t0));
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    select.value = target;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
}`;

/** Runs in the page: scrolls the audit list to its end until a row at or below `seq` was read; the time it took. */
const SCROLL_BACK_TO = `async (seq) => {
  const list = document.querySelector('[data-testid="audit-list"]');
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  for (;;) {
    const seqs = [...document.querySelectorAll('[data-testid="audit-row"]')].map((r) => Number(r.dataset.seq));
    if (seqs.length > 0 && Math.min(...seqs) <= seq) return performance.now() - t0;
    if (performance.now() - t0 > 600000) throw new Error('the audit log did not reach #' + seq);
    list.scrollTop = list.scrollHeight;
    list.dispatchEvent(new Event('scroll'));
    await frame();
  }
}`;

const HOME_ROWS = '[data-testid="incident-item"], [data-testid="home-clear"]';
const AUDIT_ROWS = '[data-testid="audit-row"]';

interface Measured {
  events: number;
  openBytes: { ws: number; http: number };
  homePaint: number;
  auditPaint: number;
  openHeap: number;
  scrollMs: number;
  scrollBytes: number;
  scrolledHeap: number;
}

/** A private copy of the cached history of `events` events: where the server opens it, and how to remove it. */
async function servedCopy(pg: LocalPostgres | null, events: number, log: (line: string) => void): Promise<{ db: string; dispose(): Promise<void> }> {
  if (!pg) {
    const copy = checkoutSqlite(await sqliteHistory(events, log));
    return { db: copy.path, dispose: async () => copy.dispose() };
  }
  const copy = await checkoutPostgres(pg, await postgresHistory(pg, events, log));
  return { db: copy.url, dispose: copy.dispose };
}

async function measure(pg: LocalPostgres | null, events: number, log: (line: string) => void): Promise<Measured> {
  const copy = await servedCopy(pg, events, log);
  const server = await spawnServer(['--db', copy.db, '--port', '0'], { REWIND_ADMIN_TOKEN: ADMIN_TOKEN }, 600_000);
  const proxy = await countingProxy(new URL(server.url));
  const web = await startConsole({ demo: false });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const head = ((await (await fetch(`${server.url}/api/v1/events/head`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { seq: number }).seq;
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const cdp = await page.context().newCDPSession(page);
    const wsBytes = countFrames(page);
    await page.goto(web.url);
    await page.getByTestId('incident-home').waitFor();

    // Opening the server: adding it (its identity, head and stream), then Home and the audit log on it.
    const ws0 = wsBytes();
    const http0 = proxy.bytes();
    await page.getByTestId('connection-add').click();
    await page.getByTestId('add-connection-name').fill('history');
    await page.getByTestId('add-connection-url').fill(proxy.url);
    await page.getByTestId('add-connection-env').selectOption('staging');
    await page.getByTestId('add-connection-token').fill(ADMIN_TOKEN);
    await page.getByTestId('add-connection-submit').click();
    await page.getByTestId('add-connection').waitFor({ state: 'hidden' });
    const ids = await page.locator('[data-testid="connection-select"] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter((v) => v !== ''));
    const serverId = ids.find((id) => id !== 'sandbox')!;
    // The dialog selects the connection it added: Home opens on the server.
    await page.waitForFunction((id) => (document.querySelector('[data-testid="connection-select"]') as HTMLSelectElement | null)?.value === id, serverId);
    await page.locator(HOME_ROWS).first().waitFor();
    await page.getByTestId('nav-audit').click();
    await page.locator(`${AUDIT_ROWS}[data-seq="${head}"]`).waitFor();
    // Settled: the debounced re-reads after the first answers have landed.
    await page.waitForTimeout(1000);
    const openBytes = { ws: wsBytes() - ws0, http: proxy.bytes() - http0 };
    const openHeap = await heapBytes(cdp);

    // First paints after switching to the server: Home, and the audit log.
    const paints = async (view: string, rows: string) => {
      const out: number[] = [];
      for (let i = 0; i <= PAINT_SAMPLES; i++) {
        await page.evaluate(`(${SWITCH_AND_PAINT})(${JSON.stringify(['sandbox', 'home', '[data-testid="home-clear"], [data-testid="incident-item"]'])})`);
        const ms = (await page.evaluate(`(${SWITCH_AND_PAINT})(${JSON.stringify([serverId, view, rows])})`)) as number;
        if (i > 0) out.push(ms);
      }
      return percentile(out, 50);
    };
    const homePaint = await paints('home', HOME_ROWS);
    const auditPaint = await paints('audit', AUDIT_ROWS);

    // Scrolling the audit log back 10,000 events (or to the start of a shorter log).
    await page.locator(`${AUDIT_ROWS}[data-seq="${head}"]`).waitFor();
    const scroll0 = wsBytes() + proxy.bytes();
    const scrollMs = (await page.evaluate(`(${SCROLL_BACK_TO})(${Math.max(1, head - SCROLL_BACK)})`)) as number;
    const scrollBytes = wsBytes() + proxy.bytes() - scroll0;
    const scrolledHeap = await heapBytes(cdp);
    return { events: head, openBytes, homePaint, auditPaint, openHeap, scrollMs, scrollBytes, scrolledHeap };
  } finally {
    await browser.close();
    await web.close();
    await proxy.close();
    await killHard(server);
    await copy.dispose();
  }
}

const kb = (n: number) => n / 1024;

/** Each larger size against the first, on one store. */
function compare(store: string, measured: Measured[]): BenchResult[] {
  const base = measured[0]!;
  const results: BenchResult[] = [];
  for (const m of measured.slice(1)) {
    const at = `${store}, ${m.events.toLocaleString('en')} vs ${base.events.toLocaleString('en')} events`;
    const openKb = kb(m.openBytes.ws + m.openBytes.http);
    results.push(
      result(`bytes to open the console on the server and its audit log (browser-mode WebSocket + server HTTP), ${at}`, openKb, 'KB', kb(base.openBytes.ws + base.openBytes.http), {
        text: `≤ ${kb(OPEN_BYTES_LIMIT)} KB`,
        met: () => m.openBytes.ws + m.openBytes.http <= OPEN_BYTES_LIMIT,
      }),
      result(`  of which the browser-mode WebSocket, ${at}`, kb(m.openBytes.ws), 'KB', kb(base.openBytes.ws)),
      result(`  of which the server's HTTP and stream, ${at}`, kb(m.openBytes.http), 'KB', kb(base.openBytes.http)),
      result(`first paint of Home after switching to the server, p50, ${at}`, m.homePaint, 'ms', base.homePaint, ratioAtMost(2)),
      result(`first paint of the audit log after switching to the server, p50, ${at}`, m.auditPaint, 'ms', base.auditPaint, ratioAtMost(2)),
      result(`page JS heap once open (after a collection), ${at}`, kb(m.openHeap), 'KB', kb(base.openHeap), ratioAtMost(1.5)),
      result(`scrolling the audit log back ${SCROLL_BACK.toLocaleString('en')} events, ${at}`, m.scrollMs, 'ms', base.scrollMs, ratioAtMost(2)),
      result(`  bytes it read, ${at}`, kb(m.scrollBytes), 'KB', kb(base.scrollBytes)),
      result(`page JS heap scrolled back ${SCROLL_BACK.toLocaleString('en')} events, ${at}`, kb(m.scrolledHeap), 'KB', kb(base.scrolledHeap), ratioAtMost(1.5)),
    );
  }
  return results;
}

export const historyConsoleSuite: BenchSuite = {
  name: 'history-console',
  async run(): Promise<BenchResult[]> {
    await ensureConsoleBuilt();
    const log = (line: string) => process.stderr.write(`history-console: ${line}\n`);
    const results: BenchResult[] = [];
    for (const store of STORES) {
      const pg = store === 'postgres' ? await historyPostgres() : null;
      const measured: Measured[] = [];
      try {
        for (const size of SIZES) {
          log(`measuring the console against a ${size}-event server on ${store}…`);
          measured.push(await measure(pg, size, log));
        }
      } finally {
        await pg?.stop();
      }
      results.push(...compare(store, measured));
    }
    return results;
  },
};
