import type { Run, Workflow } from '../../preload/contract/entities.js';
import type { Backend, CallContext } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import { jsonEqual } from '../engine/executor/json-equal.js';
import type { HealthCheck } from '../engine/runbooks/format.js';

/*
 * Health checks, as seed 003's validation script runs them: a workflow's failure rate (trigger:
 * above 20 %), a run that must succeed, an HTTP probe with an expected status and body field, and
 * thresholds on a server's Prometheus /metrics (5xx rate, run failure rate, p95 latency).
 */

export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** The workflow a runbook names. A CODE workflow overrides a MANUAL one of the same name, so it wins. */
export async function resolveWorkflow(backend: Backend, name: string): Promise<Workflow> {
  const { workflows } = await backend.call('workflows:list', { query: name });
  const named = workflows.filter((w) => w.name === name);
  const chosen = named.find((w) => w.status !== 'overridden') ?? named[0];
  if (!chosen) {
    throw new RewindError('WORKFLOW_NOT_FOUND', `No workflow is named "${name}" on this connection.`, 'Check the workflow name in the runbook, or rehearse it against the connection it was written for.', {
      workflow: name,
    });
  }
  return chosen;
}

const FINISHED: ReadonlySet<Run['status']> = new Set(['succeeded', 'failed', 'interrupted']);
const HTTP_TIMEOUT_MS = 10_000;

/** `ctx` names the actor of the runs a check starts. */
export async function evaluateCheck(backend: Backend, check: HealthCheck, ctx: CallContext = {}): Promise<CheckResult> {
  switch (check.type) {
    case 'workflow_failure_rate':
      return failureRate(backend, check.workflow, check.window, check.below);
    case 'run_succeeds': {
      const wf = await resolveWorkflow(backend, check.workflow);
      const run = await backend.call('runs:start', { workflow_id: wf.id, params: check.params ?? {}, wait: true }, ctx);
      return run.status === 'succeeded'
        ? { ok: true, detail: `run ${run.run_id} on v${run.version} succeeded` }
        : { ok: false, detail: `run ${run.run_id} on v${run.version} ${run.status}${run.failed_node ? ` at ${run.failed_node}` : ''}: ${run.error ?? 'no error recorded'}` };
    }
    // A check of the connection's own server carries its token (Rewind's /metrics wants one); other URLs get none.
    case 'http':
      return httpProbe(check, (await backend.credentialsFor?.(check.url)) ?? {});
    case 'metrics':
      return metricsThreshold(check, (await backend.credentialsFor?.(check.url)) ?? {});
  }
}

/** The active version's share of failed runs among its last `window` finished ones: the runs new work gets. */
async function failureRate(backend: Backend, name: string, window: number, below: number): Promise<CheckResult> {
  const wf = await resolveWorkflow(backend, name);
  const judged: Run[] = [];
  // Newest first, a page at a time, until the window is full (at most 10,000 runs read, as one page once was).
  for (let read = 0, after: string | undefined; judged.length < window && read < 10_000; ) {
    const listed = await backend.call('runs:list', { workflow_id: wf.id, limit: 500, ...(after === undefined ? {} : { after }) });
    read += listed.runs.length;
    for (const r of listed.runs) if (r.version === wf.active_version && FINISHED.has(r.status) && judged.length < window) judged.push(r);
    if (!listed.next_cursor) break;
    after = listed.next_cursor;
  }
  // No finished run is no evidence of health: the check asks for some.
  if (judged.length === 0) return { ok: false, detail: `no finished runs on v${wf.active_version ?? '?'} yet; start one before judging its failure rate` };
  const failed = judged.filter((r) => r.status !== 'succeeded').length;
  const rate = failed / judged.length;
  const shown = `${failed} of the last ${judged.length} runs on v${wf.active_version ?? '?'} failed (${percent(rate)}, threshold ${percent(below)})`;
  return { ok: rate < below, detail: shown };
}

async function fetchWithTimeout(url: string, credentials: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), headers: { accept: 'application/json, text/plain', ...credentials } });
  } catch (err) {
    throw new RewindError('UNREACHABLE', `${url} did not answer: ${err instanceof Error ? err.message : String(err)}`, 'Check that the service is up and the URL is right.', { url });
  }
}

async function httpProbe(check: Extract<HealthCheck, { type: 'http' }>, credentials: Record<string, string>): Promise<CheckResult> {
  const response = await fetchWithTimeout(check.url, credentials);
  const body = await response.text();
  if (response.status !== check.expect_status) return { ok: false, detail: `${check.url} answered ${response.status}, expected ${check.expect_status}` };
  if (check.field === undefined) return { ok: true, detail: `${check.url} answered ${response.status}` };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, detail: `${check.url} answered ${response.status} but its body is not JSON, so ${check.field} cannot be read` };
  }
  const value = check.field.split('.').reduce<unknown>((v, key) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined), json);
  if (value === undefined) return { ok: false, detail: `${check.url} answered ${response.status} without the field ${check.field}` };
  if (check.equals !== undefined && !jsonEqual(value, check.equals)) {
    return { ok: false, detail: `${check.field} is ${JSON.stringify(value)}, expected ${JSON.stringify(check.equals)}` };
  }
  return { ok: true, detail: `${check.url} answered ${response.status}, ${check.field} = ${JSON.stringify(value)}` };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition: `name{label="v",…} value`, comments skipped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  const line = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;
  const label = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    const m = line.exec(raw.trim());
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1] as string] = l[2] as string;
    const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
    if (!Number.isNaN(value)) samples.push({ name: m[1] as string, labels, value });
  }
  return samples;
}

const sum = (xs: Sample[]) => xs.reduce((a, s) => a + s.value, 0);

/** The metric's value from a scrape, or null when the scrape holds nothing to judge. Names match by suffix, so `sparklio_…` and `rewind_…` both work. */
export function metricValue(samples: Sample[], metric: '5xx_rate' | 'failure_rate' | 'p95_latency_ms'): number | null {
  switch (metric) {
    case '5xx_rate': {
      const requests = samples.filter((s) => s.name.endsWith('_http_requests_total'));
      const total = sum(requests);
      const errors = sum(requests.filter((s) => (s.labels.status ?? s.labels.status_code ?? '').startsWith('5')));
      return total === 0 ? null : errors / total;
    }
    case 'failure_rate': {
      const runs = samples.filter((s) => s.name.endsWith('_runs') && s.labels.status !== undefined);
      const of = (status: string) => sum(runs.filter((s) => s.labels.status === status));
      const finished = of('succeeded') + of('failed') + of('interrupted');
      return finished === 0 ? null : (of('failed') + of('interrupted')) / finished;
    }
    case 'p95_latency_ms':
      return p95Ms(samples.filter((s) => s.name.endsWith('_http_request_duration_seconds_bucket') && s.labels.le !== undefined));
  }
}

// Buckets are cumulative per label set; summing by `le` gives the whole server's histogram.
function p95Ms(buckets: Sample[]): number | null {
  const byLe = new Map<number, number>();
  for (const b of buckets) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + b.value);
  }
  const sorted = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  if (total === 0) return null;
  const target = 0.95 * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= target) {
      if (le === Infinity) return prevLe * 1000;
      const within = count === prevCount ? 1 : (target - prevCount) / (count - prevCount);
      return (prevLe + (le - prevLe) * within) * 1000;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe * 1000;
}

async function metricsThreshold(check: Extract<HealthCheck, { type: 'metrics' }>, credentials: Record<string, string>): Promise<CheckResult> {
  const response = await fetchWithTimeout(check.url, credentials);
  if (!response.ok) return { ok: false, detail: `${check.url} answered ${response.status}` };
  const value = metricValue(parsePrometheus(await response.text()), check.metric);
  // As seed 003's script: nothing recorded yet is a warning, not a failure.
  if (value === null) return { ok: true, detail: `${check.metric}: nothing recorded yet` };
  const shown = check.metric === 'p95_latency_ms' ? `${Math.round(value)} ms (threshold ${check.below} ms)` : `${percent(value)} (threshold ${percent(check.below)})`;
  return { ok: value < check.below, detail: `${check.metric} ${shown}` };
}

function percent(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}
