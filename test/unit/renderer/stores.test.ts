// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { errorText } from '../../../renderer/api/error-text.js';
import { useAudit } from '../../../renderer/store/audit-store.js';
import { useInspector } from '../../../renderer/store/inspector-store.js';
import { isSomeoneElses, startLive } from '../../../renderer/store/live.js';
import { confirmationMet, useRollback } from '../../../renderer/store/rollback-store.js';
import { selectFilteredWorkflows, selectNodeStates } from '../../../renderer/store/selectors.js';
import { buildRows, useTimeline } from '../../../renderer/store/timeline-store.js';
import { useToasts } from '../../../renderer/store/toasts-store.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { RUNS_PAGE, useRuns } from '../../../renderer/store/runs-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

let fake: FakeBridge;
beforeEach(() => {
  fake = freshConsole();
});

describe('workflows', () => {
  it('loads and filters by name', async () => {
    await useWorkflows.getState().load();
    useWorkflows.getState().setQuery('ETL');
    expect(selectFilteredWorkflows(useWorkflows.getState()).map((w) => w.name)).toEqual(['nightly-orders-etl']);
  });
});

describe('starting a run', () => {
  it('starts the active version as a manual run and says which; a paused workflow refuses with its hint', async () => {
    await useWorkflows.getState().load();
    const run = await useWorkflows.getState().startRun('wf-ml');
    expect(fake.callsOf('runs:start').at(-1)).toMatchObject({ workflow_id: 'wf-ml', trigger: 'manual' });
    expect(run).toMatchObject({ workflow_id: 'wf-ml', status: 'running', trigger: 'manual' });
    expect(useToasts.getState().toasts.at(-1)?.title).toMatch(/^Started a run of .+ on v\d+$/);

    fake.world.workflows = fake.world.workflows.map((w) => (w.id === 'wf-ml' ? { ...w, status: 'paused' as const } : w));
    await useWorkflows.getState().load();
    expect(await useWorkflows.getState().startRun('wf-ml')).toBeNull();
    expect(useWorkflows.getState().actionError).toMatchObject({ code: 'WORKFLOW_PAUSED' });
  });
});

describe('runs paging', () => {
  it('holds the newest page, then asks for older ones after the last run held (keyset cursor), never one twice', async () => {
    fake.world.runs = Array.from({ length: 250 }, (_, i) => ({ ...fake.world.runs[0]!, run_id: `run-${String(250 - i).padStart(4, '0')}` }));
    await useRuns.getState().load();
    expect(useRuns.getState()).toMatchObject({ total: 250, nextCursor: 'run-0151' });
    expect(useRuns.getState().runs).toHaveLength(RUNS_PAGE);
    await useRuns.getState().loadMore();
    await useRuns.getState().loadMore();
    expect(useRuns.getState().nextCursor).toBeNull();
    expect(useRuns.getState().runs.map((r) => r.run_id)).toEqual(fake.world.runs.map((r) => r.run_id));
    expect(fake.callsOf('runs:list').map((c) => (c as { after?: string }).after ?? null)).toEqual([null, 'run-0151', 'run-0051']);
    // Nothing left: no more asking.
    await useRuns.getState().loadMore();
    expect(fake.callsOf('runs:list')).toHaveLength(3);
  });
});

describe('timeline paging', () => {
  it('loads versions without their DSL, a page at a time, as the list scrolls', async () => {
    await useTimeline.getState().load('wf-ml');
    const first = fake.callsOf('versions:list').at(-1);
    expect(first).toMatchObject({ workflow_id: 'wf-ml', include_dsl: false, limit: 500 });
    expect(useTimeline.getState().versions.every((v) => v.dsl_definition === undefined)).toBe(true);
    expect(useTimeline.getState()).toMatchObject({ total: 2, nextOffset: null });
  });

  it('asks for the next page from where the last one ended, never showing a version twice', async () => {
    fake.world.versions = Array.from({ length: 1200 }, (_, i) => ({ ...fake.world.versions[0]!, version: i + 1, version_id: `v-${i + 1}`, status: 'deprecated' as const, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }));
    await useTimeline.getState().load('wf-ml');
    expect(useTimeline.getState()).toMatchObject({ total: 1200, nextOffset: 500 });
    expect(useTimeline.getState().versions).toHaveLength(500);
    await useTimeline.getState().loadMore();
    await useTimeline.getState().loadMore();
    const s = useTimeline.getState();
    expect(s.nextOffset).toBeNull();
    expect(s.versions.map((v) => v.version)).toEqual(Array.from({ length: 1200 }, (_, i) => 1200 - i));
    expect(fake.callsOf('versions:list').map((c) => (c as { offset?: number }).offset ?? 0)).toEqual([0, 500, 1000]);
  });
});

describe('timeline', () => {
  it('draws a publish on its version’s row: one row per publish, newest first', async () => {
    await useTimeline.getState().load('wf-ml');
    const rows = useTimeline.getState().rows;
    expect(rows.map((r) => (r.kind === 'version' ? `v${r.version.version}` : r.kind))).toEqual(['v2', 'v1']);
    expect(rows.map((r) => (r.kind === 'version' ? r.published?.seq : null))).toEqual([4, 2]);
  });

  it('orders rows of the same second by seq, whatever their milliseconds say', () => {
    const second = '2026-12-02T10:00:05';
    const base = fake.world.versions[0]!;
    const versions = [
      { ...base, version: 3, status: 'draft' as const, created_at: `${second}.100Z` },
      { ...base, version: 2, status: 'active' as const, created_at: '2026-12-02T09:00:00.000Z' },
    ];
    const ev = (seq: number, type: string, payload: Record<string, unknown>, ts: string) => ({ ...fake.world.events[0]!, seq, type, payload, ts });
    // The rollback (seq 10) came first; the draft v3 (seq 11) after it, though its clock read earlier.
    const rows = buildRows(versions, [ev(11, 'version_created', { version: 3 }, `${second}.100Z`), ev(10, 'workflow_rollback', { from_version: 1, to_version: 2 }, `${second}.900Z`)]);
    expect(rows.map((r) => (r.kind === 'version' ? `v${r.version.version}` : r.kind))).toEqual(['v3', 'rollback', 'v2']);
  });

  it('keeps a standalone publish row only when its version is not loaded', () => {
    const base = fake.world.versions[1]!;
    const rows = buildRows([base], [{ ...fake.world.events[3]!, payload: { from_version: 1, to_version: 7 } }]);
    expect(rows.map((r) => r.kind)).toEqual(['publish', 'version']);
  });

  it('loads the diff once two versions are picked, and keeps only the last two', async () => {
    await useTimeline.getState().load('wf-ml');
    const t = useTimeline.getState();
    t.toggleSelect(2);
    t.toggleSelect(1);
    await vi.waitFor(() => expect(useTimeline.getState().diff).not.toBeNull());
    expect(fake.callsOf('versions:diff')).toEqual([{ workflow_id: 'wf-ml', from: 1, to: 2 }]);
    useTimeline.getState().toggleSelect(1);
    expect(useTimeline.getState().selected).toEqual([2]);
    expect(useTimeline.getState().diff).toBeNull();
  });

  it('applies a rollback from the stream without reloading every version', async () => {
    await useTimeline.getState().load('wf-ml');
    await fake.bridge.versions.rollback({ workflow_id: 'wf-ml', version: 1 });
    const e = fake.world.events[fake.world.events.length - 1]!;
    await useTimeline.getState().applyEvent(e);
    const s = useTimeline.getState();
    expect(s.versions.find((v) => v.version === 1)?.status).toBe('active');
    expect(s.versions.find((v) => v.version === 2)?.status).toBe('deprecated');
    expect(s.rows[0]).toMatchObject({ kind: 'rollback', from: 2, to: 1 });
    expect(fake.callsOf('versions:list')).toHaveLength(1);
  });

  it('orders 10,000 versions newest first (speed is the renderer bench’s job)', () => {
    const base = useTimeline.getState().versions;
    expect(base).toEqual([]);
    const versions = Array.from({ length: 10000 }, (_, i) => ({
      ...fake.world.versions[0]!,
      version: 10000 - i,
      created_at: new Date(Date.UTC(2026, 0, 1) + (10000 - i) * 1000).toISOString(),
    }));
    const rows = buildRows(versions, []);
    expect(rows).toHaveLength(10000);
    expect(rows[0]).toMatchObject({ kind: 'version', version: { version: 10000 } });
    expect(rows[9999]).toMatchObject({ kind: 'version', version: { version: 1 } });
  });
});

describe('rollback', () => {
  it('needs the typed name, and for production the version too', async () => {
    await useRollback.getState().openFor('wf-ml', 1);
    const s = useRollback.getState();
    expect(s.phase).toBe('ready');
    expect(confirmationMet(s, false)).toBe(false);
    s.setConfirmName('ml-training-pipeline');
    expect(confirmationMet(useRollback.getState(), false)).toBe(true);
    expect(confirmationMet(useRollback.getState(), true)).toBe(false);
    useRollback.getState().setConfirmVersion('v1');
    expect(confirmationMet(useRollback.getState(), true)).toBe(true);
  });

  it('sends the preview revision and shows the result', async () => {
    await useRollback.getState().openFor('wf-ml', 1);
    useRollback.getState().setConfirmName('ml-training-pipeline');
    await useRollback.getState().submit(false);
    expect(fake.callsOf('versions:rollback')).toEqual([{ workflow_id: 'wf-ml', version: 1, expected_revision: 5 }]);
    expect(useRollback.getState()).toMatchObject({ phase: 'done', result: { version: 1, from_version: 2 } });
  });

  it('is refused on a stale revision with a reload-and-retry hint; reload picks up the new revision', async () => {
    await useRollback.getState().openFor('wf-ml', 1);
    fake.world.workflows[0] = { ...fake.world.workflows[0]!, revision: 9 };
    useRollback.getState().setConfirmName('ml-training-pipeline');
    await useRollback.getState().submit(false);
    const s = useRollback.getState();
    expect(s.phase).toBe('failed');
    expect(s.error?.code).toBe('STALE_REVISION');
    expect(errorText(s.error!)).toMatchObject({ action: 'reload', hint: 'Reload the workflow and retry.' });
    await s.reload();
    expect(useRollback.getState().preview?.revision).toBe(9);
  });

  it('shows a refusal from the preview and never submits', async () => {
    await useRollback.getState().openFor('wf-ml', 2);
    const s = useRollback.getState();
    expect(s.preview?.refusal?.code).toBe('ROLLBACK_ALREADY_ACTIVE');
    s.setConfirmName('ml-training-pipeline');
    await useRollback.getState().submit(false);
    expect(fake.callsOf('versions:rollback')).toHaveLength(0);
  });
});

describe('run inspector', () => {
  it('colours nodes from checkpoints and checks compatibility for the resume', async () => {
    await useInspector.getState().open('run-failed');
    const s = useInspector.getState();
    expect(selectNodeStates(s)).toEqual({ load: 'succeeded', train: 'succeeded', deploy: 'failed' });
    expect(s.selectedSeq).toBe(3);
    await vi.waitFor(() => expect(useInspector.getState().resume.compat?.compatible).toBe(true));
    // The run failed on v2, still active: the resume defaults to v1, where a rollback would go, not to the bad v2.
    expect(useInspector.getState().resume.version).toBe(1);
  });

  it('a resumed run shows its child and is not offered for resume again; again: true only on purpose', async () => {
    await useInspector.getState().open('run-failed');
    await useInspector.getState().resumeRun();
    await useInspector.getState().open('run-failed');
    expect(useInspector.getState().resumedBy.map((r) => r.run_id)).toEqual(['run-failed-resumed']);
    expect(useInspector.getState().resume.compat).toBeNull();
    // A second plain resume (another window still showing the offer) is refused by the server and names the child.
    await useInspector.getState().resumeRun();
    expect(useInspector.getState().resume.error).toMatchObject({ code: 'ALREADY_RESUMED', details: { child_run_id: 'run-failed-resumed' } });
    expect(useInspector.getState().run?.run_id).toBe('run-failed');
    const child = await useInspector.getState().resumeRun(true);
    expect(child?.run_id).toBe('run-failed-resumed-again');
    expect(fake.callsOf('runs:resume').at(-1)).toEqual({ run_id: 'run-failed', version: 1, again: true });
  });

  it('resumes and opens the child run', async () => {
    await useInspector.getState().open('run-failed');
    await useInspector.getState().setResumeVersion(1);
    await useInspector.getState().resumeRun();
    expect(fake.callsOf('runs:resume')).toEqual([{ run_id: 'run-failed', version: 1 }]);
    expect(useInspector.getState().run).toMatchObject({ run_id: 'run-failed-resumed', status: 'succeeded', parent_run_id: 'run-failed' });
  });

  it('picks the latest checkpoint of a node clicked in the graph', async () => {
    await useInspector.getState().open('run-failed');
    useInspector.getState().selectNode('train');
    expect(useInspector.getState().selectedSeq).toBe(2);
  });
});

describe('audit and live stream', () => {
  it('prepends pushes newest first, once each, and reads a gap of missed pushes', async () => {
    await useAudit.getState().load();
    expect(useAudit.getState().headSeq).toBe(4);
    const e5 = { ...fake.world.events[3]!, seq: 5, hash: 'h5' };
    fake.world.events.push(e5);
    useAudit.getState().append(e5);
    useAudit.getState().append(e5);
    expect(useAudit.getState().events.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    fake.world.events.push({ ...e5, seq: 6 }, { ...e5, seq: 7 });
    useAudit.getState().append({ ...e5, seq: 7 });
    await vi.waitFor(() => expect(useAudit.getState().headSeq).toBe(7));
    expect(useAudit.getState().events.map((e) => e.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it("toasts another operator's rollback but not our own, told apart by the connection's actor", async () => {
    await useConnections.getState().load();
    await useWorkflows.getState().load();
    await useAudit.getState().load();
    const stop = startLive(fake.bridge);
    fake.appendEvent({ type: 'workflow_rollback', payload: { from_version: 2, to_version: 1 } });
    expect(useToasts.getState().toasts.map((t) => t.title)).toEqual(['Rolled back v2 → v1']);
    expect(useToasts.getState().toasts[0]!.body).toBe('other.operator · ml-training-pipeline');

    // Our own change, pushed before or after its answer alike: same actor as the connection, no toast.
    fake.appendEvent({ type: 'workflow_rollback', actor: 'me', payload: { from_version: 1, to_version: 2 } });
    expect(useToasts.getState().toasts).toHaveLength(1);
    expect(useAudit.getState().headSeq).toBe(6);

    // The same name on a connection where we act as someone else is another operator's.
    useConnections.setState({ connections: fake.world.connections.map((c) => ({ ...c, actor: c.id === 'sandbox' ? 'me-elsewhere' : c.actor })) });
    fake.appendEvent({ type: 'workflow_paused', actor: 'me', payload: {} });
    expect(useToasts.getState().toasts.map((t) => t.title)).toEqual(['Rolled back v2 → v1', 'Paused the workflow']);
    stop();
  });

  it('decides whose an event is by actor, and treats our own rehearsal scenario as ours', () => {
    const e = fake.world.events[0]!;
    expect(isSomeoneElses(e, 'mina.kim', false)).toBe(false);
    expect(isSomeoneElses(e, 'me', false)).toBe(true);
    // No actor known yet: nothing can be called ours.
    expect(isSomeoneElses(e, null, false)).toBe(true);
    const staged = { ...e, actor: 'scenario' };
    expect(isSomeoneElses(staged, 'me', true)).toBe(false);
    // A scenario no rehearsal of ours started is someone else's.
    expect(isSomeoneElses(staged, 'me', false)).toBe(true);
  });

  it('switching connection loads each view once, and a view opened meanwhile stays open', async () => {
    await useConnections.getState().load();
    const stop = startLive(fake.bridge);
    useUi.getState().setView('audit');
    const before = fake.callsOf('workflows:list').length;
    const switching = useConnections.getState().select('prod');
    // Main's push of the new selection resets the views; the operator then opens one while the switch's own answers are on their way.
    await vi.waitFor(() => expect(useUi.getState().view).toBe('home'));
    useUi.getState().setView('runs');
    await switching;
    expect(fake.callsOf('workflows:list').length - before).toBe(1);
    expect(useUi.getState().view).toBe('runs');
    stop();
  });

  it('ignores events of another connection', async () => {
    await useConnections.getState().load();
    await useAudit.getState().load();
    const stop = startLive(fake.bridge);
    fake.push('events:appended', { connection_id: 'prod', event: { ...fake.world.events[0]!, seq: 99 } });
    expect(useAudit.getState().headSeq).toBe(4);
    stop();
  });
});
