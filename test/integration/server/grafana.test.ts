import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, dsls, eventually, repoRoot, startServer, uniqueName } from './harness.js';

/*
 * assets/grafana/rewind.json against a real server's /metrics: every PromQL query in the dashboard
 * (panels and template variables) may name only metrics the server exports, so no panel stays empty
 * because of a typo or a renamed metric.
 */

interface Target {
  expr: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; definition: string }> };
}

const dashboard = JSON.parse(readFileSync(join(repoRoot, 'assets/grafana/rewind.json'), 'utf8')) as Dashboard;

/** Metric names from the exposition's `# TYPE` lines, with the series names histograms and summaries add. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads: identifiers left once strings, label matchers, grouping
 * clauses, ranges, Grafana variables, durations and numbers are removed, that are neither functions nor keywords.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b\d+(?:ms|[smhdwy])\b/g, ' ')
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] !== undefined || PROMQL_WORDS.has(m[1]!.toLowerCase())) continue;
    names.push(m[1]!);
  }
  return names;
}

describe('the Grafana dashboard', () => {
  let s: TestServer;
  let exported: Set<string>;
  let exposition: string;
  let wfName: string;
  beforeAll(async () => {
    s = await startServer();
    // Some traffic, so the labelled series exist as they would in production.
    wfName = uniqueName('grafana');
    const wf = await s.backend.call('workflows:create', { name: wfName, dsl: dsls.v1 });
    expect((await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${wf.id}/runs`, { params: {}, wait: true })).status).toBeLessThan(300);
    await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${wf.id}/versions/1/rollback`, {});
    await eventually(async () => {
      const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } });
      exposition = await res.text();
      return exposition.includes('rewind_run_outcomes_total{');
    }, 10_000, 'the run outcome in /metrics');
    exported = exportedNames(exposition);
  });
  afterAll(async () => {
    await s.close();
  });

  it('reads metric names out of PromQL as Prometheus would', () => {
    expect(metricNames('sum by (le, route) (rate(rewind_x_bucket{route=~"/a|b", instance=~"$instance"}[$__rate_interval])) / on(job) up offset 5m')).toEqual(['rewind_x_bucket', 'up']);
    expect(metricNames('histogram_quantile(0.95, sum(rate(a_b[5m]))) * 60')).toEqual(['a_b']);
  });

  it('counts ended runs by workflow name, version and outcome', () => {
    expect(exposition).toMatch(new RegExp(`^rewind_run_outcomes_total\\{workflow="${wfName}",version="1",outcome="succeeded"\\} 1$`, 'm'));
  });

  it('queries only metrics /metrics exports, in every panel and variable', () => {
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...dashboard.templating.list.map((v) => ({ where: `variable $${v.name}`, expr: v.definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1') })),
    ];
    const panelsWithQueries = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panelsWithQueries.every((p) => (p.targets ?? []).length > 0)).toBe(true);
    const unknown: string[] = [];
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.where} names no metric: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) if (!exported.has(n)) unknown.push(`${q.where}: ${n}`);
    }
    expect(unknown).toEqual([]);
  });

  it('covers what operators watch: rollbacks, run outcomes, latency, stream clients, slow consumers', () => {
    const all = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
    for (const name of ['rewind_rollbacks_total', 'rewind_run_outcomes_total', 'rewind_http_request_duration_seconds_bucket', 'rewind_websocket_connections', 'rewind_ws_slow_consumers_closed_total']) {
      expect(all).toContain(name);
    }
  });
});
