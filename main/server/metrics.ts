import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type EventHead, type RewindEvent, runStatusSchema } from '../../preload/contract/index.js';
import type { Backend } from '../backends/backend.js';

/** The events that end a run: `run_<status>`. */
const RUN_END = /^run_(succeeded|failed|cancelled|interrupted|denied)$/;

export interface MetricsSources {
  backend: Backend;
  openSockets: () => number;
  headSeq: () => number;
  /** The log's last link and the chain status at start, as `/health` gives them. */
  head: () => Promise<EventHead>;
}

/**
 * The server's Prometheus metrics, in a registry of its own (so several servers can share a process,
 * as tests do). What seed 003's rollback triggers watch: 5xx rate and latency per route, failure rate
 * of runs, plus rollbacks, open WebSockets and the event seq.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method'>;
  private readonly rollbacks: Counter<'outcome'>;
  readonly slowConsumers: Counter;
  private readonly runOutcomes: Counter<'workflow' | 'version' | 'outcome'>;
  private readonly timeToMitigate: Histogram;
  private readonly timeToResolve: Histogram;
  /** Workflow id → name, for the run-outcome labels (a name reads better on a dashboard; it never changes). */
  private readonly workflowNames = new Map<string, string>();
  private readonly backend: Backend;
  private readonly unsubscribe: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.backend = sources.backend;
    collectDefaultMetrics({ register: this.registry, prefix: 'rewind_process_' });
    this.requests = new Counter({
      name: 'rewind_http_requests_total',
      help: 'HTTP requests by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'rewind_http_request_duration_seconds',
      help: 'HTTP request latency by route template and method.',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rollbacks = new Counter({ name: 'rewind_rollbacks_total', help: 'Rollback requests by outcome (applied or refused).', labelNames: ['outcome'], registers });
    this.slowConsumers = new Counter({ name: 'rewind_ws_slow_consumers_closed_total', help: 'Stream sockets closed for falling too far behind.', registers });
    this.runOutcomes = new Counter({
      name: 'rewind_run_outcomes_total',
      help: 'Runs that ended since the server started, by workflow name, version and outcome (succeeded, failed, cancelled, interrupted, denied).',
      labelNames: ['workflow', 'version', 'outcome'],
      registers,
    });
    // The MTTR figures of incident records (seconds from the first failure); rehearsals stay out.
    const incidentBuckets = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
    this.timeToMitigate = new Histogram({
      name: 'rewind_incident_time_to_mitigate_seconds',
      help: "Incidents mitigated since the server started: seconds from the first failure to the rollback, pause or cancel that stopped new failures (rehearsals excluded).",
      buckets: incidentBuckets,
      registers,
    });
    this.timeToResolve = new Histogram({
      name: 'rewind_incident_time_to_resolve_seconds',
      help: 'Incidents resolved since the server started: seconds from the first failure to the resolution (rehearsals excluded).',
      buckets: incidentBuckets,
      registers,
    });
    // Counted from the event log as it grows, so runs started by any client (or another process) count.
    this.unsubscribe = sources.backend.subscribe({ after: sources.headSeq(), onEvent: (event) => void this.observeEvent(event) });
    new Gauge({
      name: 'rewind_websocket_connections',
      help: 'Open event-stream WebSockets.',
      registers,
      collect() {
        this.set(sources.openSockets());
      },
    });
    new Gauge({
      name: 'rewind_event_seq',
      help: 'The last event seq the server has streamed.',
      registers,
      collect() {
        this.set(sources.headSeq());
      },
    });
    // The head as an outside monitor checks it: the seq as a value, and seq with hash together as the
    // labels of an info gauge that holds only the current head (reset on each scrape, so old ones do not linger).
    const readHead = () => sources.head();
    new Gauge({
      name: 'rewind_event_head_seq',
      help: "The event log's last seq (compare with rewind_event_head_info's hash to detect a truncated log).",
      registers,
      async collect() {
        this.set((await readHead()).seq);
      },
    });
    new Gauge({
      name: 'rewind_event_head_info',
      help: "The event log's last link: always 1, with the seq and hash as labels.",
      labelNames: ['seq', 'hash'],
      registers,
      async collect() {
        const { seq, hash } = await readHead();
        this.reset();
        this.set({ seq: String(seq), hash }, 1);
      },
    });
    new Gauge({
      name: 'rewind_chain_ok',
      help: 'Whether the hash chain is whole as far as this server knows (at start, as events arrive, by whole-chain walks).',
      registers,
      async collect() {
        this.set((await readHead()).chain.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rewind_chain_verified_seq',
      help: 'How far this server has walked the whole hash chain from the first event (the background walk; it follows the head once a walk has ended).',
      registers,
      async collect() {
        this.set((await readHead()).chain.verified_seq ?? 0);
      },
    });
    new Gauge({
      name: 'rewind_runs',
      help: 'Runs by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        for (const status of runStatusSchema.options) {
          const { total } = await sources.backend.call('runs:list', { status, limit: 1 });
          this.set({ status }, total);
        }
      },
    });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  observeRollback(applied: boolean): void {
    this.rollbacks.inc({ outcome: applied ? 'applied' : 'refused' });
  }

  private async observeEvent(event: RewindEvent): Promise<void> {
    if (event.type === 'incident_mitigated' || event.type === 'incident_resolved') return this.observeIncident(event);
    const outcome = RUN_END.exec(event.type)?.[1];
    if (outcome === undefined || event.workflow_id === null) return;
    const version = typeof event.payload.version === 'number' ? String(event.payload.version) : 'unknown';
    this.runOutcomes.inc({ workflow: await this.workflowName(event.workflow_id), version, outcome });
  }

  private observeIncident(event: RewindEvent): void {
    const p = event.payload;
    if (p.rehearsal === true) return;
    const seconds = event.type === 'incident_mitigated' ? p.time_to_mitigate_s : p.time_to_resolve_s;
    if (typeof seconds !== 'number') return;
    (event.type === 'incident_mitigated' ? this.timeToMitigate : this.timeToResolve).observe(seconds);
  }

  private async workflowName(id: string): Promise<string> {
    let name = this.workflowNames.get(id);
    if (name === undefined) {
      name = await this.backend.call('workflows:get', { workflow_id: id }).then(
        (w) => w.name,
        () => id,
      );
      this.workflowNames.set(id, name);
    }
    return name;
  }

  close(): void {
    this.unsubscribe();
  }
}
