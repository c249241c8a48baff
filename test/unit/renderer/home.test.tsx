// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FailingWorkflow } from '../../../preload/contract/index.js';
import { IncidentHome } from '../../../renderer/home/IncidentHome.js';
import { absoluteTime, badLabel, homeSections, permission, relativeTime, suggestedAction, versionMarks } from '../../../renderer/home/home-model.js';
import { buildCommands, filterCommands } from '../../../renderer/palette/commands.js';
import { useApprovals } from '../../../renderer/store/approvals-store.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import { useIncidents } from '../../../renderer/store/incidents-store.js';
import { useRollback } from '../../../renderer/store/rollback-store.js';
import { selectIncidentFor, selectRole } from '../../../renderer/store/selectors.js';
import { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

let fake: FakeBridge;
beforeEach(() => {
  fake = freshConsole();
});

const failing = (over: Partial<FailingWorkflow> = {}): FailingWorkflow => ({ ...fake.world.incidents.failing[0]!, ...over });

async function asRole(role: 'viewer' | 'operator' | 'admin') {
  fake.world.connections = fake.world.connections.map((c) => (c.selected ? { ...c, role } : c));
  await useConnections.getState().load();
}

describe('incident home model', () => {
  it('has a section only for a kind with items: nothing is drawn for what the connection does not have', () => {
    expect(homeSections(null)).toEqual([]);
    expect(homeSections({ ...fake.world.incidents, failing: [] })).toEqual([]);
    expect(homeSections(fake.world.incidents).map((s) => s.kind)).toEqual(['failing']);
    const rollback = { seq: 9, ts: '2026-11-20T10:00:00Z', workflow_id: 'wf-ml', workflow_name: 'ml', actor: 'policy:canary', from_version: 2, to_version: 1 };
    expect(homeSections({ ...fake.world.incidents, recent_rollbacks: [rollback] }).map((s) => s.kind)).toEqual(['failing', 'rollbacks']);
    const dead = { webhook_id: 'wh_1', host: 'hooks.example.com', seq: 12, event_type: 'workflow_rollback', attempts: 15, last_error: 'HTTP 503', finished_at: '2026-11-20T10:05:00Z' };
    expect(homeSections({ ...fake.world.incidents, dead_letters: [dead] }).map((s) => s.kind)).toEqual(['failing', 'dead-letters']);
  });

  it('suggests the rollback to the last good version while the bad one is active, then the resume on it', () => {
    expect(suggestedAction(failing())).toMatchObject({ kind: 'rollback', version: 1, label: 'Roll back to v1 (last good)' });
    expect(suggestedAction(failing({ active_version: 1 }))).toMatchObject({ kind: 'resume', runId: 'run-failed', version: 1 });
    expect(suggestedAction(failing({ last_good: null }))).toMatchObject({ kind: 'open-run', runId: 'run-failed' });
  });

  it('labels the bad streak with its failures and marks its versions and the last good one', () => {
    expect(badLabel(failing())).toBe('bad since v2 (failing 1/1)');
    expect(badLabel(failing({ bad_since: null }))).toBeNull();
    expect([...versionMarks(failing())]).toEqual([
      [2, 'bad'],
      [1, 'last-good'],
    ]);
    expect(versionMarks(null).size).toBe(0);
  });

  it('reads times as the on-call does, with the absolute time and zone for the tooltip', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(relativeTime('2026-12-02T11:48:00Z', now)).toBe('12 min ago');
    expect(relativeTime('2026-12-02T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2026-11-28T12:00:00Z', now)).toBe('4 d ago');
    expect(relativeTime('2026-12-02T11:59:30Z', now)).toBe('just now');
    // In a snapshot, against the moment it was taken.
    expect(relativeTime('2026-12-02T11:48:00Z', now, 'snapshot')).toBe('12 min before the snapshot');
    expect(relativeTime('2026-12-02T12:03:00Z', now, 'snapshot')).toBe('at the snapshot');
    expect(absoluteTime('2026-12-02T11:48:05Z', 'Asia/Seoul')).toBe('2026-12-02 20:48:05 (Asia/Seoul, UTC+09:00)');
    expect(absoluteTime('2026-12-02T11:48:05Z', 'UTC')).toBe('2026-12-02 11:48:05 (UTC, UTC+00:00)');
  });

  it('names each refused action for what it is: a canary promote is not a "roll back"', () => {
    expect(permission('viewer', 'promote')).toMatchObject({ allowed: false, reason: expect.stringContaining('not promote a canary') });
    expect(permission('viewer', 'abort')).toMatchObject({ allowed: false, reason: expect.stringContaining('not abort a canary') });
    expect(permission('viewer', 'replay')).toMatchObject({ allowed: false, reason: expect.stringContaining('not replay runs') });
  });

  it('a viewer may not roll back, pause or resume, and is told why; an unknown role is left to the server', () => {
    for (const a of ['rollback', 'pause', 'resume'] as const) {
      expect(permission('viewer', a)).toMatchObject({ allowed: false, reason: expect.stringContaining('viewer') });
      expect(permission('operator', a)).toEqual({ allowed: true });
    }
    expect(permission(null, 'rollback')).toEqual({ allowed: true });
  });
});

describe('incidents store and selectors', () => {
  it('loads the summary through the API and finds a workflow’s incident', async () => {
    await useIncidents.getState().load();
    expect(fake.callsOf('incidents:summary')).toEqual([{}]);
    expect(selectIncidentFor('wf-ml')(useIncidents.getState())?.bad_since).toBe(2);
    expect(selectIncidentFor('wf-etl')(useIncidents.getState())).toBeNull();
  });

  it('keeps the error with its code when the summary cannot be read', async () => {
    fake.failNext('incidents:summary', { code: 'UNREACHABLE', message: 'The server did not answer.', hint: 'Check the network.' });
    await useIncidents.getState().load();
    expect(useIncidents.getState()).toMatchObject({ summary: null, error: { code: 'UNREACHABLE' } });
  });

  it('the selected connection’s role', async () => {
    await asRole('viewer');
    expect(selectRole(useConnections.getState())).toBe('viewer');
  });
});

describe('palette on the incident', () => {
  it('"roll" lists the rollback that makes sense now first; running it opens the rollback dialog with its preview', async () => {
    await useConnections.getState().load();
    await useIncidents.getState().load();
    const shown = filterCommands(buildCommands(), 'roll');
    expect(shown[0]?.title).toBe('Roll back ml-training-pipeline to v1 (last good)');
    shown[0]!.run();
    await waitFor(() => expect(useRollback.getState().phase).toBe('ready'));
    expect(useRollback.getState()).toMatchObject({ workflowId: 'wf-ml', version: 1 });
    const titles = buildCommands().map((c) => c.title);
    expect(titles).toEqual(expect.arrayContaining(['Open failing run of ml-training-pipeline', 'Pause ml-training-pipeline…', 'Resume run run-failed of ml-training-pipeline on v1']));
  });

  it('lists for a viewer the actions it would be refused, disabled, each with the reason', async () => {
    await asRole('viewer');
    await useIncidents.getState().load();
    const commands = buildCommands();
    expect(commands.find((c) => c.title === 'Open failing run of ml-training-pipeline')?.disabledReason).toBeUndefined();
    const forbidden = commands.filter((c) => /^(Roll back|Pause|Resume run)/.test(c.title));
    expect(forbidden.map((c) => c.title)).toEqual(['Roll back ml-training-pipeline to v1 (last good)', 'Resume run run-failed of ml-training-pipeline on v1', 'Pause ml-training-pipeline…']);
    expect(forbidden.map((c) => c.disabledReason)).toEqual([
      expect.stringContaining('not roll back'),
      expect.stringContaining('not resume runs'),
      expect.stringContaining('not pause or unpause'),
    ]);
  });
});

describe('incident home component', () => {
  it('shows the failing workflow with its bad and last good versions, and its action opens the rollback', async () => {
    await useConnections.getState().load();
    await useIncidents.getState().load();
    render(<IncidentHome />);
    expect(screen.getByTestId('incident-bad').textContent).toBe('bad since v2 (failing 1/1)');
    expect(screen.getByTestId('incident-last-good').textContent).toBe('last good: v1');
    expect(screen.queryByTestId('home-section-rollbacks')).toBeNull();
    const action = screen.getByTestId('incident-action');
    expect(action.textContent).toBe('Roll back to v1 (last good)');
    fireEvent.click(action);
    await waitFor(() => expect(useRollback.getState().phase).toBe('ready'));
  });

  it('says all clear when nothing fails, and draws no section', async () => {
    fake.world.incidents = { ...fake.world.incidents, failing: [] };
    await useIncidents.getState().load();
    render(<IncidentHome />);
    expect(screen.getByTestId('home-clear')).toBeTruthy();
    expect(screen.queryByTestId('home-section-failing')).toBeNull();
  });

  it('lists webhook deliveries that were given up, by receiver host, with the reason', async () => {
    const dead = { webhook_id: 'wh_1', host: 'hooks.example.com', seq: 12, event_type: 'workflow_rollback', attempts: 15, last_error: 'HTTP 503: maintenance', finished_at: '2026-11-20T10:05:00Z' };
    fake.world.incidents = { ...fake.world.incidents, dead_letters: [dead] };
    await useIncidents.getState().load();
    render(<IncidentHome />);
    const item = screen.getByTestId('home-dead-letter');
    expect(screen.getByTestId('home-section-dead-letters').querySelector('h2')?.textContent).toBe('Webhook deliveries given up 1');
    expect(item.textContent).toContain('hooks.example.com');
    expect(item.textContent).toContain('workflow_rollback #12');
    expect(item.textContent).toContain('HTTP 503: maintenance');
  });

  it('a viewer sees the action disabled with the reason', async () => {
    await asRole('viewer');
    await useIncidents.getState().load();
    render(<IncidentHome />);
    expect((screen.getByTestId('incident-action') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('incident-action-reason').textContent).toContain('viewer');
  });
});

describe('incident home: runs waiting for approval', () => {
  const gate = () => {
    const failed = fake.world.runs[0]!;
    fake.world.runs = [{ ...failed, run_id: 'run-gated', status: 'waiting', error: null, failed_node: null }, ...fake.world.runs];
  };

  it('lists each waiting run with its workflow, one Approve away; nothing is drawn when none waits', async () => {
    await useWorkflows.getState().load();
    await useApprovals.getState().load();
    const { unmount } = render(<IncidentHome />);
    expect(screen.queryByTestId('home-section-waiting')).toBeNull();
    unmount();

    gate();
    await useApprovals.getState().load();
    render(<IncidentHome />);
    const item = await screen.findByTestId('home-waiting');
    expect(item.dataset.runId).toBe('run-gated');
    expect(item.textContent).toContain('ml-training-pipeline');
    expect(item.textContent).toContain('run-gated · v2');
    fireEvent.click(screen.getByTestId('home-approve'));
    await waitFor(() => expect(fake.callsOf('runs:approve')).toEqual([{ run_id: 'run-gated', decision: 'approve' }]));
    await waitFor(() => expect(screen.queryByTestId('home-section-waiting')).toBeNull());
  });

  it('disables Approve for a viewer, with the reason', async () => {
    gate();
    await asRole('viewer');
    await useApprovals.getState().load();
    render(<IncidentHome />);
    const approve = (await screen.findByTestId('home-approve')) as HTMLButtonElement;
    expect(approve.disabled).toBe(true);
    expect(screen.getByTestId('home-approve-reason').textContent).toContain('viewer');
  });
});
