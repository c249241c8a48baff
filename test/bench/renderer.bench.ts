import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { chromium, type Page } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import { type BenchResult, type BenchSuite, percentile, result } from './lib.js';

/*
 * The renderer in Chromium: the real Timeline and CheckpointPanel components (bundled here with the
 * real stores and CSS), against the same rows written as one static HTML list — what React plus
 * virtualization cost, or save, compared with the browser doing nothing but layout.
 */

const root = resolve(import.meta.dirname, '../..');
const VERSIONS = 10_000;
/** The long history the timeline must scroll as smoothly as the 10,000 case (issue 13, point 9). */
const MANY_VERSIONS = 100_000;
const CHECKPOINTS = 1_000;
const FAILING = 1_000;
const RUNS = 11;
const SCROLL_FRAMES = 240;

const atMostTenth = { text: 'ratio ≤ 0.1×', met: (r: number) => r <= 0.1 };

/** The in-page harness: builds data, mounts a component or the static list, and times each. */
const harness = `
import { createElement } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import '${root}/renderer/styles/theme.css';
import '${root}/renderer/styles/app.css';
import { Timeline } from '${root}/renderer/timeline/Timeline.tsx';
import { CheckpointPanel } from '${root}/renderer/runs/CheckpointPanel.tsx';
import { buildRows, useTimeline } from '${root}/renderer/store/timeline-store.ts';
import { useInspector } from '${root}/renderer/store/inspector-store.ts';
import { formatShortTime } from '${root}/renderer/shared/format.ts';
import { IncidentHome } from '${root}/renderer/home/IncidentHome.tsx';
import { useIncidents } from '${root}/renderer/store/incidents-store.ts';

const wf = { id: 'wf', name: 'big-timeline', description: '', source_type: 'MANUAL', status: 'active', schedule: null, active_version: 1, revision: 1, failed_runs: 0, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', unregistered_at: null, code_file: null, template: null };
const dsl = { nodes: [{ id: 'extract', type: 'task', params: {}, next: [] }], defaults: {} };
const t0 = Date.UTC(2026, 0, 1);
function versions(n) {
  return Array.from({ length: n }, (_, i) => {
    const v = n - i;
    return { version_id: 'v' + v, workflow_id: 'wf', version: v, dsl_definition: dsl, change_log: 'tune extract to ' + v + ' ms', status: v === 1 ? 'active' : 'draft', created_by: 'load.test', published_at: null, created_at: new Date(t0 + v * 60000).toISOString() };
  });
}
function checkpoints(n) {
  return Array.from({ length: n }, (_, i) => ({ run_id: 'r', seq: i + 1, node_id: 'node_' + (i + 1), status: 'succeeded', state: { output: { rows: i }, context: { i } }, created_at: new Date(t0 + i * 1000).toISOString() }));
}
function failing(n) {
  return Array.from({ length: n }, (_, i) => ({
    workflow_id: 'wf-' + i, workflow_name: 'workflow-' + i, status: 'active', active_version: 4, revision: 9, open_failures: 1 + (i % 5),
    first_failure_at: new Date(t0 + i * 1000).toISOString(), last_failure_at: new Date(t0 + i * 2000).toISOString(),
    latest_failed_run_id: 'run-' + i, latest_failed_version: 4,
    by_version: [{ version: 4, runs: 3, failed: 3, succeeded: 0 }, { version: 3, runs: 5, failed: 0, succeeded: 5 }, { version: 2, runs: 2, failed: 1, succeeded: 1 }],
    bad_since: 4, last_good: 3,
  }));
}
function summary(n) {
  return { generated_at: new Date(t0 + 86400000).toISOString(), window_hours: 24, failing: failing(n), recent_rollbacks: [] };
}
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function host(cls) {
  const el = document.createElement('div');
  el.className = 'bench-host ' + cls;
  document.body.append(el);
  return el;
}
function settle() {
  document.body.getBoundingClientRect();
  return document.body.offsetHeight;
}
let mounted = null;
function clear() {
  if (mounted) mounted.root.unmount();
  mounted = null;
  document.body.replaceChildren();
}

window.bench = {
  mountTimeline(n) {
    clear();
    const vs = versions(n);
    useTimeline.setState({ workflowId: 'wf', versions: vs, total: n, nextOffset: null, lifecycle: [], rows: buildRows(vs, []), loading: false, selected: [] });
    const el = host('workflow-body');
    const r = createRoot(el);
    const start = performance.now();
    flushSync(() => r.render(createElement(Timeline, { workflow: wf })));
    settle();
    mounted = { root: r };
    return performance.now() - start;
  },
  staticTimeline(n) {
    clear();
    const vs = versions(n);
    const html = '<section class="timeline"><div class="vlist timeline-list static-list"><ul role="list">' + vs.map((v) =>
      '<li class="tl-row tl-version"><span class="tl-rail"><span class="tl-dot" data-status="' + v.status + '"></span></span><button class="row-button tl-pick">v' + v.version + '</button><span class="badge" data-status="' + v.status + '">' + v.status + '</span><span class="tl-log">' + esc(v.change_log) + '</span><span class="muted tl-actor">' + esc(v.created_by) + '</span><time class="muted tl-time">' + formatShortTime(v.created_at) + '</time><button class="btn btn-small">Roll back here</button></li>').join('') + '</ul></div></section>';
    const el = host('workflow-body');
    const start = performance.now();
    el.innerHTML = html;
    settle();
    return performance.now() - start;
  },
  mountHome(n) {
    clear();
    useIncidents.setState({ summary: summary(n), loading: false, error: null });
    const el = host('main');
    const r = createRoot(el);
    const start = performance.now();
    flushSync(() => r.render(createElement(IncidentHome)));
    settle();
    mounted = { root: r };
    return performance.now() - start;
  },
  staticHome(n) {
    clear();
    const s = summary(n);
    const html = '<section class="incident-home"><header class="home-header"><h1>What is wrong now</h1></header><section class="home-section"><h2>Failing now</h2><ul class="home-list">' + s.failing.map((f) =>
      '<li class="incident-item"><div class="incident-head"><button class="link-button incident-name">' + esc(f.workflow_name) + '</button><span class="badge" data-status="active">active</span><span class="muted">active v' + f.active_version + '</span></div>' +
      '<p class="incident-facts"><span class="incident-bad">bad since v' + f.bad_since + ' (failing 3/3)</span><span class="incident-good">last good: v' + f.last_good + '</span><span>' + f.open_failures + ' open failures · first <time>' + formatShortTime(f.first_failure_at) + '</time> · last <time>' + formatShortTime(f.last_failure_at) + '</time></span></p>' +
      '<table class="incident-rates"><thead><tr><th>version</th><th>failed / runs</th></tr></thead><tbody>' + f.by_version.map((h) => '<tr><td>v' + h.version + '</td><td>' + h.failed + '/' + h.runs + '</td></tr>').join('') + '</tbody></table>' +
      '<div class="incident-actions"><button class="btn btn-primary">Roll back to v' + f.last_good + ' (last good)</button><button class="btn">Open failing run</button><button class="btn btn-ghost">Timeline</button></div></li>').join('') + '</ul></section></section>';
    const el = host('main');
    const start = performance.now();
    el.innerHTML = html;
    settle();
    return performance.now() - start;
  },
  mountCheckpoints(n) {
    clear();
    const cps = checkpoints(n);
    useInspector.setState({ checkpoints: cps, selectedSeq: n, runId: 'r' });
    const el = host('run-inspector');
    const r = createRoot(el);
    const start = performance.now();
    flushSync(() => r.render(createElement(CheckpointPanel)));
    settle();
    mounted = { root: r };
    return performance.now() - start;
  },
  staticCheckpoints(n) {
    clear();
    const cps = checkpoints(n);
    const last = cps[cps.length - 1];
    const html = '<div class="checkpoints"><section class="checkpoint-list"><h3>Checkpoints (' + n + ')</h3><div class="vlist static-list"><ul role="list">' + cps.map((c) =>
      '<li><button class="row-button cp-row"><span class="mono cp-seq">#' + c.seq + '</span><span class="cp-node">' + c.node_id + '</span><span class="badge" data-status="succeeded">succeeded</span><span class="muted cp-time">' + formatShortTime(c.created_at).slice(6) + '</span></button></li>').join('') +
      '</ul></div></section><section class="checkpoint-state"><pre class="json-body">' + esc(JSON.stringify(last.state, null, 2)) + '</pre></section></div>';
    const el = host('run-inspector');
    const start = performance.now();
    el.innerHTML = html;
    settle();
    return performance.now() - start;
  },
  /** Scrolls the mounted list a few rows per frame and returns each frame's duration. */
  scroll(frames, step) {
    const scroller = document.querySelector('.vlist');
    return new Promise((done) => {
      const times = [];
      let last = 0;
      const tick = (now) => {
        if (last) times.push(now - last);
        last = now;
        if (times.length >= frames) return done(times);
        scroller.scrollTop = (scroller.scrollTop + step) % (scroller.scrollHeight - scroller.clientHeight);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  },
};
`;

const benchCss = `.bench-host { position: fixed; inset: 0; display: flex; flex-direction: column; width: 1000px; height: 800px; overflow: hidden; }
.bench-host.workflow-body { display: grid; grid-template-columns: 1fr; }
.static-list ul { list-style: none; margin: 0; padding: 0; }
.static-list .tl-row { height: 44px; }
.static-list .cp-row { height: 30px; }`;

async function bundle(): Promise<{ js: string; css: string }> {
  const out = await build({
    configFile: false,
    root,
    logLevel: 'silent',
    mode: 'production',
    plugins: [
      react(),
      {
        name: 'bench-harness',
        resolveId: (id) => (id === 'virtual:bench' ? '\0virtual:bench' : null),
        load: (id) => (id === '\0virtual:bench' ? harness : null),
      },
    ],
    build: { write: false, minify: true, cssCodeSplit: false, rolldownOptions: { input: 'virtual:bench', output: { format: 'iife' } } },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as Rolldown.RolldownOutput[];
  let js = '';
  let css = '';
  for (const o of outputs.flatMap((x) => x.output)) {
    if (o.type === 'chunk') js += o.code;
    else if (o.fileName.endsWith('.css')) css += typeof o.source === 'string' ? o.source : new TextDecoder().decode(o.source);
  }
  return { js, css };
}

async function median(page: Page, fn: string, n: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await page.evaluate(([f, count]) => (window as unknown as Record<'bench', Record<string, (n: number) => number>>).bench[f]!(count), [fn, n] as const));
  return percentile(samples, 50);
}

async function scrollP95(page: Page, mount: string, n = VERSIONS): Promise<number> {
  await page.evaluate(([m, count]) => (window as unknown as Record<'bench', Record<string, (n: number) => number>>).bench[m]!(count), [mount, n] as const);
  const frames = await page.evaluate(
    ([f, s]) => (window as unknown as Record<'bench', { scroll: (f: number, s: number) => Promise<number[]> }>).bench.scroll(f, s),
    [SCROLL_FRAMES, 44 * 5] as const,
  );
  return percentile(frames, 95);
}

export const rendererSuite: BenchSuite = {
  name: 'renderer',
  async run(): Promise<BenchResult[]> {
    const { js, css } = await bundle();
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      // Frames uncapped (no vsync, no 60 Hz limit): a frame's time is then the work it took, not the display's clock.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu-vsync', '--disable-frame-rate-limit'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      await page.setContent('<!doctype html><html data-theme="dark"><head></head><body></body></html>');
      await page.addStyleTag({ content: css + benchCss });
      await page.addScriptTag({ content: js });
      // Warm up both paths once so JIT and style caches do not favour the second measured.
      await median(page, 'mountTimeline', 100);
      await median(page, 'staticTimeline', 100);

      const timeline = await median(page, 'mountTimeline', VERSIONS);
      const timelineStatic = await median(page, 'staticTimeline', VERSIONS);
      const cps = await median(page, 'mountCheckpoints', CHECKPOINTS);
      const cpsStatic = await median(page, 'staticCheckpoints', CHECKPOINTS);
      await median(page, 'mountHome', 10);
      await median(page, 'staticHome', 10);
      const home = await median(page, 'mountHome', FAILING);
      const homeStatic = await median(page, 'staticHome', FAILING);
      const scroll = await scrollP95(page, 'mountTimeline');
      const scrollStatic = await scrollP95(page, 'staticTimeline');
      // Every one of 100,000 versions loaded (an operator who paged to the very end): the virtual list keeps the frame cost flat.
      const scrollMany = await scrollP95(page, 'mountTimeline', MANY_VERSIONS);
      return [
        result(`first render, timeline of ${VERSIONS} versions (vs static list)`, timeline, 'ms', timelineStatic, atMostTenth),
        result(`first render, run of ${CHECKPOINTS} checkpoints (vs static list)`, cps, 'ms', cpsStatic, atMostTenth),
        result(`first render, incident home of ${FAILING} failing workflows (vs static list)`, home, 'ms', homeStatic, atMostTenth),
        result('timeline scroll frame time p95 (vs static list)', scroll, 'ms', scrollStatic, { text: 'p95 ≤ 16.7 ms', met: () => scroll <= 16.7 }),
        result(`timeline scroll frame time p95, ${MANY_VERSIONS} versions (vs ${VERSIONS})`, scrollMany, 'ms', scroll, {
          text: 'ratio ≤ 1.25× and p95 ≤ 16.7 ms',
          met: (r: number) => r <= 1.25 && scrollMany <= 16.7,
        }),
      ];
    } finally {
      await browser.close();
    }
  },
};
