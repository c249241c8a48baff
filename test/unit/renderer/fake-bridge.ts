import {
  consoleApiMethodNames,
  splitMethod,
  type ApiInput,
  type ApiOutput,
  type ApiResult,
  type Checkpoint,
  type ConnectionInfo,
  type ConsoleApiMethod,
  type ConsoleEvent,
  type ConsoleEventPayload,
  type Dsl,
  type IncidentRecord,
  type IncidentReport,
  type IncidentSummary,
  type RehearsalSession,
  type RewindBridge,
  type RewindErrorData,
  type RewindEvent,
  type Review,
  type Run,
  type ScenarioInfo,
  type StoredRehearsal,
  type StoredRunbook,
  type TargetHealth,
  type Workflow,
  type WorkflowVersion,
} from '../../../preload/contract/index.js';

/*
 * An in-memory RewindBridge for the renderer's unit tests only: just enough behaviour (rollback
 * with revisions, resume, events) to drive stores and components through the API boundary.
 */

type Handlers = { [M in ConsoleApiMethod]?: (input: ApiInput<M>) => ApiOutput<M> };

const T0 = Date.parse('2026-11-20T10:00:00Z');
export const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

export const dslV1: Dsl = {
  nodes: [
    { id: 'load', type: 'task', params: {}, next: ['train'] },
    { id: 'train', type: 'task', params: { epochs: 10 }, next: ['deploy'] },
    { id: 'deploy', type: 'task', params: { target: 'registry-v1' }, next: [] },
  ],
  defaults: {},
};
export const dslV2: Dsl = {
  nodes: [
    { id: 'load', type: 'task', params: {}, next: ['train'] },
    { id: 'train', type: 'task', params: { epochs: 20 }, next: ['deploy'] },
    { id: 'deploy', type: 'task', params: { target: 'registry-v2' }, next: [] },
  ],
  defaults: {},
};

/** The prompt of every fake approval gate. */
export const APPROVAL_PROMPT = 'Ship the nightly release to production?';

export interface FakeWorld {
  connections: ConnectionInfo[];
  workflows: Workflow[];
  versions: WorkflowVersion[];
  runs: Run[];
  checkpoints: Checkpoint[];
  events: RewindEvent[];
  runbooks: StoredRunbook[];
  rehearsals: StoredRehearsal[];
  scenarios: ScenarioInfo[];
  sessions: RehearsalSession[];
  /** What `incidents:summary` answers: the ML pipeline's v2 is bad, v1 its last good version. */
  incidents: IncidentSummary;
  /** Open and resolved incident records (`incidents:records`), and the report of each by id. */
  incidentRecords: IncidentRecord[];
  incidentReports: Record<string, IncidentReport>;
  /** The rollback preview's record of a target, by `workflow@version` (none: no record, as an older server). */
  targetHealth?: Record<string, TargetHealth>;
  /** Review requests (a server with --require-review); none: the sandbox's empty list. */
  reviews?: Review[];
  /** Rollbacks become review requests (a server started with --require-review rollback). */
  reviewRollbacks?: boolean;
}

/** Seed 003's level 1, shortened: a checklist, the rollback, a health check. */
export function levelOneRunbook(): StoredRunbook {
  return {
    id: 'rb-1',
    name: 'Level 1 — application rollback',
    level: 'application',
    created_by: 'mina.kim',
    created_at: iso(0),
    updated_at: iso(0),
    runbook: {
      name: 'Level 1 — application rollback',
      description: 'Roll the ML pipeline back to the previous version and verify.',
      level: 'application',
      scenario: 'ml-registry-outage',
      steps: [
        { kind: 'checklist', title: 'Before rolling back', expected_ms: 60000, items: ['Record the active version', 'Tell the team'] },
        { kind: 'action', title: 'Roll back to the previous version', expected_ms: 30000, action: { type: 'rollback', workflow: 'ml-training-pipeline', to: 'previous' } },
        { kind: 'health_check', title: 'Failure rate below 20 %', expected_ms: 10000, check: { type: 'workflow_failure_rate', workflow: 'ml-training-pipeline', window: 5, below: 0.2 } },
      ],
    },
  };
}

export function rehearsalOf(id: string, startedMinutes: number, totalMs: number, passed: boolean): StoredRehearsal {
  return {
    id,
    runbook_id: 'rb-1',
    runbook_name: 'Level 1 — application rollback',
    scenario: 'ml-registry-outage',
    started_at: iso(startedMinutes),
    finished_at: new Date(Date.parse(iso(startedMinutes)) + totalMs).toISOString(),
    total_ms: totalMs,
    passed,
    created_by: 'me',
    steps: [
      { index: 1, title: 'Before rolling back', kind: 'checklist', outcome: 'passed', expected_ms: 60000, duration_ms: totalMs / 2, detail: 'confirmed' },
      { index: 2, title: 'Roll back to the previous version', kind: 'action', outcome: passed ? 'passed' : 'failed', expected_ms: 30000, duration_ms: totalMs / 2, detail: passed ? 'v2 → v1' : 'refused' },
    ],
    rollbacks: passed ? [{ workflow: 'ml-training-pipeline', from_version: 2, to_version: 1 }] : [],
  };
}

/** A rehearsal session of `rb-1` on the sandbox; tests move it along by pushing changed copies. */
export function sessionOf(partial: Partial<RehearsalSession> = {}): RehearsalSession {
  return {
    session_id: 'sess-1',
    connection_id: 'sandbox',
    runbook_id: 'rb-1',
    runbook_name: 'Level 1 — application rollback',
    scenario: 'ml-registry-outage',
    mode: 'rehearsal',
    state: 'awaiting_confirmation',
    current_index: 1,
    next_title: 'Roll back to the previous version',
    started_at: iso(700),
    steps: [],
    rehearsal_id: null,
    passed: null,
    detail: null,
    ...partial,
  };
}

export function demoWorld(): FakeWorld {
  const wf: Workflow = {
    id: 'wf-ml',
    name: 'ml-training-pipeline',
    description: 'Trains and deploys the classifier.',
    source_type: 'MANUAL',
    status: 'active',
    schedule: null,
    active_version: 2,
    version: 2,
    revision: 5,
    failed_runs: 1,
    created_at: iso(0),
    updated_at: iso(30),
    unregistered_at: null,
    code_file: null,
    template: null,
  };
  const etl: Workflow = { ...wf, id: 'wf-etl', name: 'nightly-orders-etl', failed_runs: 0, status: 'paused', active_version: 1, revision: 2 };
  const version = (n: number, status: WorkflowVersion['status'], dsl: Dsl, workflow_id = wf.id): WorkflowVersion => ({
    version_id: `${workflow_id}-v${n}`,
    workflow_id,
    version: n,
    dsl_definition: dsl,
    change_log: `change ${n}`,
    status,
    created_by: 'mina.kim',
    published_at: status === 'draft' ? null : iso(n * 10 + 1),
    created_at: iso(n * 10),
  });
  const failed: Run = {
    run_id: 'run-failed',
    workflow_id: wf.id,
    version: 2,
    status: 'failed',
    kind: 'start',
    params: {},
    seed: 1,
    faults: {},
    parent_run_id: null,
    resumed_from_seq: null,
    trigger: 'manual',
    logical_date: null,
    started_at: iso(40),
    finished_at: iso(41),
    error: 'registry-v2 connection refused',
    failed_node: 'deploy',
    created_by: 'scheduler',
    created_at: iso(40),
  };
  const cp = (seq: number, node_id: string, status: Checkpoint['status']): Checkpoint => ({
    run_id: failed.run_id,
    seq,
    node_id,
    status,
    state: { output: { node: node_id, accuracy: 0.93 }, context: { model: 'defect-classifier' } },
    created_at: iso(40),
  });
  const ev = (seq: number, type: string, payload: Record<string, unknown>, extra: Partial<RewindEvent> = {}): RewindEvent => ({
    seq,
    ts: iso(seq * 5),
    type,
    workflow_id: wf.id,
    run_id: null,
    actor: 'mina.kim',
    payload,
    prev_hash: `h${seq - 1}`,
    hash: `h${seq}`,
    ...extra,
  });
  return {
    connections: [
      { id: 'sandbox', name: 'Local sandbox', kind: 'sandbox', url: '/tmp/s.db', environment: 'sandbox', color: '#3fb950', state: 'connected', detail: null, has_token: false, selected: true, actor: 'me', snapshot: null, alarm: null, server_environment: 'sandbox', notifications_muted: false, sign_in: 'token' },
      { id: 'prod', name: 'Prod server', kind: 'remote', url: 'http://127.0.0.1:9', environment: 'production', color: '#f85149', state: 'connected', detail: null, has_token: true, selected: false, actor: 'me-on-prod', snapshot: null, alarm: null, server_environment: 'production', notifications_muted: false, sign_in: 'token' },
    ],
    workflows: [wf, etl],
    versions: [version(1, 'deprecated', dslV1), version(2, 'active', dslV2), version(1, 'active', dslV1, etl.id)],
    runs: [failed],
    checkpoints: [cp(1, 'load', 'succeeded'), cp(2, 'train', 'succeeded'), cp(3, 'deploy', 'failed')],
    events: [ev(1, 'workflow_created', { name: wf.name }), ev(2, 'version_published', { from_version: null, to_version: 1 }), ev(3, 'version_created', { version: 2 }), ev(4, 'version_published', { from_version: 1, to_version: 2 })],
    runbooks: [levelOneRunbook()],
    rehearsals: [rehearsalOf('reh-2', 300, 95_000, true), rehearsalOf('reh-1', 200, 130_000, false)],
    scenarios: [{ name: 'ml-registry-outage', description: 'Every run fails at deploy.', level: 'application' }],
    sessions: [],
    incidents: {
      generated_at: iso(40),
      window_hours: 24,
      failing: [
        {
          workflow_id: wf.id,
          workflow_name: wf.name,
          status: 'active',
          active_version: 2,
          revision: 5,
          open_failures: 1,
          first_failure_at: iso(28),
          last_failure_at: iso(28),
          latest_failed_run_id: failed.run_id,
          latest_failed_version: 2,
          by_version: [
            { version: 2, runs: 1, failed: 1, succeeded: 0 },
            { version: 1, runs: 3, failed: 0, succeeded: 3 },
          ],
          bad_since: 2,
          last_good: 1,
        },
      ],
      recent_rollbacks: [],
    },
    incidentRecords: [
      {
        incident_id: 'inc-ml',
        workflow_id: wf.id,
        workflow_name: wf.name,
        version: 2,
        status: 'open',
        rehearsal: false,
        opened_at: iso(28),
        opened_seq: 5,
        first_failure_at: iso(28),
        first_run_id: failed.run_id,
        acknowledged: null,
        mitigated: null,
        resolved: null,
        time_to_acknowledge_s: null,
        time_to_mitigate_s: null,
        time_to_resolve_s: null,
        report_revision: 0,
      },
    ],
    incidentReports: {
      'inc-ml': {
        incident_id: 'inc-ml',
        markdown: '# Post-incident report: ml-pipeline v2\n\n## Basic information\n\n- Affected version: v2\n',
        fields: { root_cause: '', prevention: '', lessons: '', rollback_plan: '' },
        revision: 0,
        edited_by: null,
        edited_at: null,
      },
    },
  };
}

export class FakeBridgeError extends Error {
  constructor(readonly data: RewindErrorData) {
    super(data.message);
  }
}

const err = (code: RewindErrorData['code'], message: string, hint: string) => new FakeBridgeError({ code, message, hint });

export class FakeBridge {
  readonly world: FakeWorld;
  readonly calls: { method: string; input: unknown }[] = [];
  private failures = new Map<string, RewindErrorData>();
  private listeners = new Map<string, Set<(p: unknown) => void>>();
  readonly bridge: RewindBridge;
  /**
   * As the server's SCAN_BUDGET (main/engine/event-query.ts): a filtered backward page looks at no
   * more than this many events and answers the seq where it stopped; null: unbounded.
   */
  eventScanBudget: number | null = null;

  constructor(world: FakeWorld = demoWorld()) {
    this.world = world;
    const handlers = this.handlers();
    const namespaces: Record<string, Record<string, (input: unknown) => Promise<ApiResult<unknown>>>> = {};
    for (const name of consoleApiMethodNames) {
      const [ns, m] = splitMethod(name);
      (namespaces[ns] ??= {})[m] = async (input: unknown) => {
        this.calls.push({ method: name, input });
        await Promise.resolve();
        const failure = this.failures.get(name);
        if (failure) {
          this.failures.delete(name);
          return { ok: false, error: failure };
        }
        const h = handlers[name] as ((i: unknown) => unknown) | undefined;
        if (!h) return { ok: false, error: { code: 'NOT_FOUND', message: `${name} is not faked`, hint: '' } };
        try {
          return { ok: true, value: h(input ?? {}) };
        } catch (e) {
          if (e instanceof FakeBridgeError) return { ok: false, error: e.data };
          throw e;
        }
      };
    }
    const on = (event: string, l: (p: unknown) => void) => {
      const set = this.listeners.get(event) ?? new Set();
      this.listeners.set(event, set);
      set.add(l);
      return () => set.delete(l);
    };
    this.bridge = { ...namespaces, on } as unknown as RewindBridge;
  }

  /** The next call of `method` answers with this error. */
  failNext(method: ConsoleApiMethod, error: RewindErrorData): void {
    this.failures.set(method, error);
  }

  push<E extends ConsoleEvent>(event: E, payload: ConsoleEventPayload<E>): void {
    for (const l of this.listeners.get(event) ?? []) l(payload);
  }

  /** Appends an event to the log as another operator would, and pushes it. */
  appendEvent(partial: Pick<RewindEvent, 'type' | 'payload'> & Partial<RewindEvent>): RewindEvent {
    const seq = (this.world.events[this.world.events.length - 1]?.seq ?? 0) + 1;
    const e: RewindEvent = { seq, ts: iso(600 + seq), workflow_id: 'wf-ml', run_id: null, actor: 'other.operator', prev_hash: `h${seq - 1}`, hash: `h${seq}`, ...partial };
    this.world.events.push(e);
    this.push('events:appended', { connection_id: 'sandbox', event: e });
    return e;
  }

  callsOf(method: ConsoleApiMethod): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.input);
  }

  private handlers(): Handlers {
    const w = this.world;
    const wf = (id: string) => {
      const found = w.workflows.find((x) => x.id === id);
      if (!found) throw err('WORKFLOW_NOT_FOUND', `No workflow ${id}`, 'Reload the list.');
      return found;
    };
    const ver = (id: string, n: number) => {
      const found = w.versions.find((v) => v.workflow_id === id && v.version === n);
      if (!found) throw err('VERSION_NOT_FOUND', `No v${n}`, 'Pick another version.');
      return found;
    };
    const run = (id: string) => {
      const found = w.runs.find((r) => r.run_id === id);
      if (!found) throw err('RUN_NOT_FOUND', `No run ${id}`, 'Reload.');
      return found;
    };
    const compat = (runId: string, version: number) => {
      const nodes = new Set(ver(run(runId).workflow_id, version).dsl_definition.nodes.map((n) => n.id));
      const done = w.checkpoints.filter((c) => c.run_id === runId && c.status !== 'failed');
      const missing = done.map((c) => c.node_id).filter((n) => !nodes.has(n));
      return {
        run_id: runId,
        version,
        compatible: missing.length === 0,
        completed_nodes: done.map((c) => c.node_id),
        missing_nodes: missing,
        resume_after_seq: done[done.length - 1]?.seq ?? null,
        reason: missing.length === 0 ? 'every completed node exists' : `missing ${missing.join(', ')}`,
      };
    };
    const appendOwn = (type: string, workflow_id: string, payload: Record<string, unknown>, run_id: string | null = null) => {
      const seq = (w.events[w.events.length - 1]?.seq ?? 0) + 1;
      const e: RewindEvent = { seq, ts: iso(600 + seq), type, workflow_id, run_id, actor: 'me', payload, prev_hash: `h${seq - 1}`, hash: `h${seq}` };
      w.events.push(e);
      return e;
    };
    const answerReview = (reviewId: string, answer: 'approved' | 'declined', note: string | undefined) => {
      const found = (w.reviews ?? []).find((r) => r.review_id === reviewId);
      if (!found) throw err('REVIEW_NOT_FOUND', `No review request ${reviewId}.`, 'Reload the list.');
      if (found.status !== 'pending') throw err('REVIEW_ANSWERED', `${reviewId} was already ${found.status}.`, 'Another reviewer answered first; reload the list to see the outcome.');
      const answered: Review = { ...found, status: answer, answered_by: 'me', answered_at: iso(610), note: note ?? null };
      w.reviews = (w.reviews ?? []).map((r) => (r.review_id === reviewId ? answered : r));
      appendOwn('review_answered', found.workflow_id, { review_id: reviewId, answer, by: 'me' });
      return { review: answered, result: null };
    };
    return {
      'connections:list': () => ({ connections: w.connections }),
      'connections:select': ({ id }) => {
        w.connections = w.connections.map((c) => ({ ...c, selected: c.id === id }));
        // As main does: every window hears of the new selection, here before the caller's own answer.
        this.push('connections:changed', { connections: w.connections });
        return w.connections.find((c) => c.id === id)!;
      },
      'workflows:list': () => ({ workflows: w.workflows, total: w.workflows.length }),
      'workflows:get': ({ workflow_id }) => wf(workflow_id),
      'workflows:pause': ({ workflow_id }) => {
        const next = { ...wf(workflow_id), status: 'paused' as const };
        w.workflows = w.workflows.map((x) => (x.id === workflow_id ? next : x));
        return next;
      },
      'workflows:unpause': ({ workflow_id }) => {
        const next = { ...wf(workflow_id), status: 'active' as const };
        w.workflows = w.workflows.map((x) => (x.id === workflow_id ? next : x));
        return next;
      },
      'versions:list': ({ workflow_id, offset = 0, limit = 100000, include_dsl }) => {
        const all = w.versions.filter((v) => v.workflow_id === workflow_id).sort((a, b) => b.version - a.version);
        const page = all.slice(offset, offset + limit).map(({ dsl_definition, ...rest }) => (include_dsl === false ? rest : { ...rest, dsl_definition }));
        return { versions: page, total: all.length, next_offset: offset + page.length < all.length ? offset + page.length : null };
      },
      'versions:get': ({ workflow_id, version }) => ver(workflow_id, version),
      'versions:diff': ({ workflow_id, from, to }) => ({
        workflow_id,
        from: ver(workflow_id, from),
        to: ver(workflow_id, to),
        diff: { added: [], removed: [], changed: [{ node_id: 'train', changes: [{ path: 'params.epochs', before: 10, after: 20 }] }], defaults_changed: [], identical: false },
      }),
      'versions:rollbackPreview': ({ workflow_id, version }) => {
        const f = wf(workflow_id);
        const target = ver(workflow_id, version);
        return {
          workflow_id,
          workflow_name: f.name,
          from_version: f.active_version,
          to_version: version,
          revision: f.revision,
          diff: target.status === 'active' ? null : { added: [], removed: [], changed: [{ node_id: 'deploy', changes: [{ path: 'params.target', before: 'registry-v2', after: 'registry-v1' }] }], defaults_changed: [], identical: false },
          refusal: target.status === 'active' ? { code: 'ROLLBACK_ALREADY_ACTIVE', message: `v${version} is already active`, hint: 'Pick another version.' } : null,
          in_flight: [],
          resumable: w.runs.filter((r) => r.workflow_id === workflow_id && r.status === 'failed').map((r) => ({ run: r, compatibility: compat(r.run_id, version) })),
          ...(w.targetHealth?.[`${workflow_id}@${version}`] ? { target_health: w.targetHealth[`${workflow_id}@${version}`] } : {}),
        };
      },
      'versions:rollback': ({ workflow_id, version, expected_revision }) => {
        const f = wf(workflow_id);
        if (w.reviewRollbacks) {
          const review: Review = {
            review_id: `rev-${(w.reviews?.length ?? 0) + 1}`, action: 'rollback', workflow_id, workflow_name: f.name, version, from_version: f.active_version, canary_percent: null,
            revision: f.revision, requested_by: 'me', requested_at: iso(600), expires_at: iso(630), status: 'pending', answered_by: null, answered_at: null, note: null, result_seq: null,
          };
          w.reviews = [...(w.reviews ?? []), review];
          return { review_requested: true as const, message: 'Sent for review — another person must approve.', review };
        }
        if (expected_revision !== undefined && expected_revision !== f.revision) {
          throw new FakeBridgeError({ code: 'STALE_REVISION', message: `Revision ${expected_revision} is stale; the workflow is at ${f.revision}.`, hint: 'Reload the workflow and retry.', details: { current_revision: f.revision } });
        }
        const from = f.active_version;
        w.versions = w.versions.map((v) =>
          v.workflow_id !== workflow_id ? v : v.version === version ? { ...v, status: 'active' } : v.version === from ? { ...v, status: 'deprecated' } : v,
        );
        const next = { ...f, active_version: version, revision: f.revision + 1 };
        w.workflows = w.workflows.map((x) => (x.id === workflow_id ? next : x));
        const e = appendOwn('workflow_rollback', workflow_id, { from_version: from, to_version: version });
        return { success: true as const, message: `Rolled back to v${version}`, workflow_id, version, from_version: from, seq: e.seq, revision: next.revision };
      },
      'runs:list': ({ workflow_id, status, parent_run_id, limit, after }) => {
        const all = w.runs.filter((r) => (!workflow_id || r.workflow_id === workflow_id) && (!status || r.status === status) && (!parent_run_id || r.parent_run_id === parent_run_id));
        // Cursors are the run ids here: enough for a console that passes back what it was given.
        const from = after === undefined ? 0 : all.findIndex((r) => r.run_id === after) + 1;
        const runs = all.slice(from, from + (limit ?? 500));
        const more = from + runs.length < all.length;
        return { runs, total: all.length, has_more: more, next_cursor: more ? runs[runs.length - 1]!.run_id : null, prev_cursor: runs[0]?.run_id ?? null };
      },
      'runs:get': ({ run_id }) => run(run_id),
      'runs:compatibility': ({ run_id, version }) => compat(run_id, version),
      'runs:resume': ({ run_id, version, again }) => {
        const parent = run(run_id);
        const earlier = w.runs.find((r) => r.parent_run_id === run_id && r.kind === 'resume');
        if (earlier && !again) throw new FakeBridgeError({ code: 'ALREADY_RESUMED', message: `Run ${run_id} was already resumed as ${earlier.run_id}.`, hint: 'Open it.', details: { child_run_id: earlier.run_id } });
        const child: Run = { ...parent, run_id: earlier ? `${run_id}-resumed-again` : `${run_id}-resumed`, version: version ?? parent.version, status: 'succeeded', kind: 'resume', trigger: 'resume', parent_run_id: run_id, resumed_from_seq: 2, error: null, failed_node: null };
        w.runs = [child, ...w.runs];
        return child;
      },
      'runs:start': ({ workflow_id, trigger }) => {
        const wf = w.workflows.find((x) => x.id === workflow_id);
        if (!wf) throw err('WORKFLOW_NOT_FOUND', `No workflow has the id "${workflow_id}".`, 'List the workflows.');
        if (wf.status !== 'active') throw err('WORKFLOW_PAUSED', `"${wf.name}" is ${wf.status}; new runs do not start.`, 'Unpause it first, or resume a specific run.');
        const started: Run = { ...w.runs[0]!, run_id: `${workflow_id}-run-${w.runs.length + 1}`, workflow_id, version: wf.active_version ?? 1, status: 'running', kind: 'start', trigger: trigger ?? 'api', parent_run_id: null, resumed_from_seq: null, error: null, failed_node: null, logical_date: null };
        w.runs = [started, ...w.runs];
        return started;
      },
      'runs:approve': ({ run_id, decision, comment }) => {
        const waiting = run(run_id);
        if (waiting.status !== 'waiting') throw err('RUN_NOT_WAITING', `Run ${run_id} is ${waiting.status}, not waiting for an approval.`, 'Only a waiting run can be answered.');
        const answered: Run = decision === 'approve' ? { ...waiting, status: 'succeeded' } : { ...waiting, status: 'denied', failed_node: 'gate', error: `Approval node 'gate': denied by me${comment ? `: ${comment}` : ''}.` };
        w.runs = w.runs.map((r) => (r.run_id === run_id ? answered : r));
        return answered;
      },
      // Every waiting run asks the same question at its gate, after load and train.
      'reviews:list': ({ status = 'pending' }) => {
        const reviews = (w.reviews ?? []).filter((r) => status === 'all' || r.status === 'pending');
        return { reviews, total: reviews.length };
      },
      'reviews:approve': ({ review_id, note }) => answerReview(review_id, 'approved', note),
      'reviews:decline': ({ review_id, note }) => answerReview(review_id, 'declined', note),
      'approvals:list': ({ run_id, workflow_id }) => {
        const waiting = w.runs.filter((r) => r.status === 'waiting' && (!run_id || r.run_id === run_id) && (!workflow_id || r.workflow_id === workflow_id));
        return {
          approvals: waiting.map((r) => ({
            run: r,
            workflow_name: wf(r.workflow_id).name,
            node_id: 'gate',
            prompt: APPROVAL_PROMPT,
            requested_at: iso(45),
            timeout_ms: null,
            done: ['load', 'train'],
            nodes_total: 4,
          })),
          total: waiting.length,
        };
      },
      'checkpoints:list': ({ run_id }) => ({ checkpoints: w.checkpoints.filter((c) => c.run_id === run_id) }),
      // The server's paging and filters (main/engine/event-query.ts), over the events in memory.
      'events:list': ({ after = 0, before, limit = 1000, workflow_id, run_id, type, actor, since, until }) => {
        const types = type?.split(',');
        const hits = w.events.filter(
          (e) =>
            e.seq > after &&
            (before === undefined || e.seq < before) &&
            (!workflow_id || e.workflow_id === workflow_id) &&
            (!run_id || e.run_id === run_id) &&
            (!types || types.includes(e.type)) &&
            (!actor || e.actor === actor) &&
            (!since || Date.parse(e.ts) >= Date.parse(since)) &&
            (!until || Date.parse(e.ts) < Date.parse(until)),
        );
        if (before === undefined) {
          const events = hits.slice(0, limit);
          return { events, next_after: events.length === limit ? events[events.length - 1]!.seq : null };
        }
        const filtered = Boolean(workflow_id || run_id || type || actor || since || until);
        const floor = filtered && this.eventScanBudget !== null ? before - this.eventScanBudget : 0;
        const events = hits.filter((e) => e.seq >= floor).reverse().slice(0, limit);
        if (events.length === limit) return { events, next_before: events[events.length - 1]!.seq };
        return { events, next_before: floor > 1 ? floor : null };
      },
      'events:head': () => {
        const last = w.events[w.events.length - 1];
        return { seq: last?.seq ?? 0, hash: last?.hash ?? '', chain: { ok: true, first_broken_seq: null, reason: null } };
      },
      'connections:openSandbox': ({ path }) => {
        const info: ConnectionInfo = {
          id: 'snap',
          name: 'snapshot',
          kind: 'sandbox',
          url: path,
          environment: 'sandbox',
          server_environment: 'sandbox',
          color: '#8b949e',
          state: 'connected',
          detail: null,
          has_token: false,
          selected: false,
          actor: 'me',
          snapshot: { source_url: 'http://127.0.0.1:9', taken_at: iso(900), complete: false, runs: 12, events: 340 },
          alarm: null,
          notifications_muted: false,
          sign_in: 'token',
        };
        w.connections = [...w.connections.filter((c) => c.id !== info.id), info];
        return info;
      },
      'notifications:mute': ({ connection_id, muted }) => {
        w.connections = w.connections.map((c) => (c.id === connection_id ? { ...c, notifications_muted: muted } : c));
        return w.connections.find((c) => c.id === connection_id)!;
      },
      'notifications:show': () => ({ shown: false, page: true }),
      'connections:setToken': ({ id }) => {
        w.connections = w.connections.map((c) => (c.id === id ? { ...c, has_token: true, state: 'connected' } : c));
        return w.connections.find((c) => c.id === id)!;
      },
      'snapshots:create': ({ path }) => ({ path, source_url: 'http://127.0.0.1:9', taken_at: iso(900), workflows: 2, versions: 3, runs: 12, checkpoints: 30, events: 340, runbooks: 1, rehearsals: 2, resumed: false }),
      'runbooks:list': () => ({ runbooks: w.runbooks }),
      'runbooks:export': ({ runbook, format = 'yaml' }) => {
        const found = w.runbooks.find((r) => r.id === runbook || r.name === runbook);
        if (!found) throw err('RUNBOOK_NOT_FOUND', `No runbook ${runbook}`, 'Reload the list.');
        return { text: format === 'json' ? JSON.stringify(found.runbook, null, 2) : `name: ${found.name}\n`, format };
      },
      'runbooks:import': ({ text }) => {
        const name = /name: (.+)/.exec(text)?.[1] ?? 'Imported';
        const stored: StoredRunbook = { ...levelOneRunbook(), id: `rb-${w.runbooks.length + 1}`, name };
        w.runbooks = [...w.runbooks, stored];
        return stored;
      },
      'rehearsals:list': ({ runbook }) => ({ rehearsals: w.rehearsals.filter((r) => r.runbook_id === runbook) }),
      'rehearsals:report': ({ rehearsal_id }) => ({
        markdown: [
          '# Post-incident report',
          '',
          `Rehearsal ${rehearsal_id}`,
          '',
          '| # | Step | Outcome |',
          '| --- | --- | --- |',
          '| 1 | Roll back **ml** \\| v1 | passed |',
          '| 2 | Resume `run-failed` | failed |',
          '',
          'Done.',
          '',
        ].join('\n'),
      }),
      'scenarios:list': () => ({ scenarios: w.scenarios }),
      'rehearsals:sessions': () => ({ sessions: w.sessions }),
      'rehearsals:start': ({ runbook, scenario = null }) => {
        const session = sessionOf({ runbook_id: runbook, scenario, state: 'awaiting_confirmation' });
        w.sessions = [session];
        return session;
      },
      'rehearsals:confirm': ({ session_id, index, confirmed }) => {
        const s = w.sessions.find((x) => x.session_id === session_id);
        if (!s || s.state !== 'awaiting_confirmation' || s.current_index !== index) throw err('REHEARSAL_NOT_ACTIVE', 'No step awaits confirmation', 'See the history.');
        const step = { index, title: 'Before rolling back', kind: 'checklist' as const, outcome: confirmed ? ('passed' as const) : ('failed' as const), expected_ms: 60000, duration_ms: 4000, detail: confirmed ? 'confirmed' : 'not done' };
        const next: RehearsalSession = { ...s, state: 'running', current_index: index + 1, next_title: 'Failure rate below 20 %', steps: [...s.steps, step] };
        w.sessions = [next];
        return next;
      },
      'rehearsals:abort': ({ session_id }) => {
        const s = w.sessions.find((x) => x.session_id === session_id);
        if (!s) throw err('REHEARSAL_NOT_ACTIVE', 'No such session', 'See the history.');
        const next: RehearsalSession = { ...s, state: 'aborted', current_index: null, next_title: null, passed: false, rehearsal_id: 'reh-aborted', detail: 'aborted by the operator' };
        w.sessions = [next];
        return next;
      },
      'incidents:summary': () => w.incidents,
      'incidents:records': ({ status }) => ({ records: w.incidentRecords.filter((r) => status === 'all' || status === undefined || r.status === status), next_before: null }),
      'incidents:acknowledge': ({ incident_id }) => {
        const i = w.incidentRecords.findIndex((r) => r.incident_id === incident_id);
        if (i < 0) throw err('INCIDENT_NOT_FOUND', `No incident ${incident_id}`, 'List the incidents.');
        const r = w.incidentRecords[i]!;
        const next: IncidentRecord = r.acknowledged ? r : { ...r, acknowledged: { by: 'mina.kim', at: iso(30), seq: 9 }, time_to_acknowledge_s: 120 };
        w.incidentRecords[i] = next;
        return next;
      },
      'incidents:report': ({ incident_id }) => {
        const report = w.incidentReports[incident_id];
        if (!report) throw err('INCIDENT_NOT_FOUND', `No incident ${incident_id}`, 'List the incidents.');
        return report;
      },
      'incidents:saveReport': ({ incident_id, expected_revision, ...fields }) => {
        const report = w.incidentReports[incident_id];
        if (!report) throw err('INCIDENT_NOT_FOUND', `No incident ${incident_id}`, 'List the incidents.');
        if (report.revision !== expected_revision) throw err('STALE_REVISION', `The report was changed by ${report.edited_by ?? 'someone'} since you opened it.`, 'Reload the report, merge your text into theirs, and save again.');
        const merged = { ...report.fields, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
        const next: IncidentReport = { ...report, fields: merged, revision: report.revision + 1, edited_by: 'mina.kim', markdown: `${report.markdown}\n1. **Root cause**: ${merged.root_cause}\n` };
        w.incidentReports[incident_id] = next;
        return next;
      },
      'incidents:rollbackPlan': ({ incident_id }) => ({
        incident_id,
        workflow_id: w.workflows[0]!.id,
        current_version: 2,
        target_version: 1,
        markdown: '# Rollback plan: ml-pipeline\n\n- Target version: v1 (the last good version)\n',
      }),
      'events:verify': () => ({ ok: true, length: w.events.length, head_hash: w.events[w.events.length - 1]?.hash ?? '', first_broken_seq: null, reason: null }),
    };
  }
}
