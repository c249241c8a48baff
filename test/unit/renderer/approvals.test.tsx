// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RewindEvent } from '../../../preload/contract/index.js';
import { App } from '../../../renderer/App.js';
import { useApprovals } from '../../../renderer/store/approvals-store.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useInspector } from '../../../renderer/store/inspector-store.js';
import { notificationFor } from '../../../renderer/store/notifications-store.js';
import { selectNodeStates } from '../../../renderer/store/selectors.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import { APPROVAL_PROMPT, type FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/*
 * Approvals an operator can judge: the prompt, who asks and what the run has done, on the home, in
 * the inspector and in the notification; on production Approve and Deny ask first, naming the
 * prompt; after an answer the home stays the home, the next request focused; a deny has its badge.
 */

let fake: FakeBridge;
beforeEach(() => {
  fake = freshConsole();
});

function gate(ids: string[] = ['run-gated', 'run-gated-2']) {
  const failed = fake.world.runs.find((r) => r.run_id === 'run-failed')!;
  fake.world.runs = [...ids.map((run_id) => ({ ...failed, run_id, status: 'waiting' as const, error: null, failed_node: null, trigger: 'schedule' as const })), ...fake.world.runs];
}

async function production() {
  fake.world.connections = fake.world.connections.map((c) => (c.selected ? { ...c, environment: 'production' as const, server_environment: 'production', role: 'operator' as const } : c));
  await useConnections.getState().load();
}

async function renderHome() {
  await act(async () => {
    await Promise.all([useConnections.getState().load(), useWorkflows.getState().load(), useApprovals.getState().load()]);
  });
  useUi.getState().setView('home');
  return render(<App />);
}

describe('approvals on the home', () => {
  it('show the prompt, who asks and what the run has done; Approve answers at once, the home stays, the next request is focused', async () => {
    gate();
    await renderHome();
    const items = await screen.findAllByTestId('home-waiting');
    expect(items.map((i) => i.dataset.runId)).toEqual(['run-gated', 'run-gated-2']);
    const first = items[0]!;
    expect(within(first).getByTestId('approval-prompt').textContent).toBe(`“${APPROVAL_PROMPT}”`);
    expect(within(first).getByTestId('approval-asker').textContent).toBe('run run-gated · v2 · schedule · started by scheduler · waits at gate');
    expect(within(first).getByTestId('approval-done').textContent).toBe('done 2 of 4: load, train');

    fireEvent.click(within(first).getByTestId('home-approve'));
    await waitFor(() => expect(fake.callsOf('runs:approve')).toEqual([{ run_id: 'run-gated', decision: 'approve' }]));
    await waitFor(() => expect(screen.getAllByTestId('home-waiting').map((i) => i.dataset.runId)).toEqual(['run-gated-2']));
    expect(useUi.getState().view).toBe('home');
    await waitFor(() => expect(document.activeElement).toBe(within(screen.getByTestId('home-waiting')).getByTestId('home-approve')));

    // Deny the last one: nothing is left, so focus lands on the home's heading, never on <body>.
    fireEvent.click(within(screen.getByTestId('home-waiting')).getByTestId('home-deny'));
    await waitFor(() => expect(fake.callsOf('runs:approve')).toEqual([{ run_id: 'run-gated', decision: 'approve' }, { run_id: 'run-gated-2', decision: 'deny' }]));
    await waitFor(() => expect(screen.queryByTestId('home-section-waiting')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('home-title')));
  });

  it('on production, Approve and Deny ask for a confirmation naming the prompt; Cancel sends nothing', async () => {
    gate();
    await production();
    await renderHome();
    const first = (await screen.findAllByTestId('home-waiting'))[0]!;
    fireEvent.click(within(first).getByTestId('home-approve'));
    const dialog = await screen.findByTestId('approval-confirm-dialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('Approve on production?');
    expect(within(dialog).getByTestId('approval-prompt').textContent).toBe(`“${APPROVAL_PROMPT}”`);
    expect(within(dialog).getByTestId('approval-confirm-submit').textContent).toBe(`Approve: ${APPROVAL_PROMPT}`);
    expect(document.activeElement).toBe(within(dialog).getByTestId('approval-confirm-submit'));
    expect(fake.callsOf('runs:approve')).toEqual([]);
    fireEvent.click(within(dialog).getByTestId('approval-confirm-cancel'));
    await waitFor(() => expect(screen.queryByTestId('approval-confirm-dialog')).toBeNull());
    expect(fake.callsOf('runs:approve')).toEqual([]);

    fireEvent.click(within(screen.getAllByTestId('home-waiting')[0]!).getByTestId('home-deny'));
    const deny = await screen.findByTestId('approval-confirm-dialog');
    expect(within(deny).getByRole('heading').textContent).toBe('Deny on production?');
    fireEvent.change(within(deny).getByTestId('approval-confirm-comment'), { target: { value: 'not on a Friday' } });
    fireEvent.submit(within(deny).getByTestId('approval-confirm-submit').closest('form')!);
    await waitFor(() => expect(fake.callsOf('runs:approve')).toEqual([{ run_id: 'run-gated', decision: 'deny', comment: 'not on a Friday' }]));
    await waitFor(() => expect(screen.queryByTestId('approval-confirm-dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(within(screen.getByTestId('home-waiting')).getByTestId('home-approve')));
    expect(useUi.getState().view).toBe('home');
  });
});

describe('approvals in the run inspector', () => {
  it('shows what the run asks; a deny ends it denied, with its own badge and node state', async () => {
    gate(['run-gated']);
    await renderHome();
    fireEvent.click(screen.getByTestId('nav-runs'));
    await act(async () => {
      await useInspector.getState().open('run-gated');
    });
    const panel = screen.getByTestId('approval-panel');
    expect(within(panel).getByTestId('approval-prompt').textContent).toBe(`“${APPROVAL_PROMPT}”`);
    expect(within(panel).getByTestId('approval-done').textContent).toBe('done 2 of 4: load, train');
    fireEvent.click(within(panel).getByTestId('approval-deny'));
    await waitFor(() => expect(screen.getByTestId('inspector-status').textContent).toBe('denied'));
    expect(screen.getByTestId('inspector-status').dataset.status).toBe('denied');
    expect(screen.getByTestId('inspector-run-error').className).toBe('run-denied');
    expect(selectNodeStates({ ...useInspector.getState(), dsl: { nodes: [{ id: 'gate', type: 'approval', params: {}, next: [] }], defaults: {} }, checkpoints: [{ run_id: 'run-gated', seq: 1, node_id: 'gate', status: 'failed', state: {}, created_at: '' }] }).gate).toBe('denied');
  });
});

describe('the approval notification', () => {
  it('names the prompt, who asks (run, version, trigger) and what the run has done', () => {
    const e: RewindEvent = {
      seq: 9,
      ts: '2026-12-01T10:00:00Z',
      type: 'approval_requested',
      workflow_id: 'wf-rel',
      run_id: 'run-7',
      actor: 'rewind',
      payload: { node_id: 'gate', version: 3, prompt: APPROVAL_PROMPT, trigger: 'schedule', started_by: 'scheduler', done: ['build', 'test'] },
      prev_hash: 'a',
      hash: 'b',
    };
    expect(notificationFor(e, 'me', false, 'release-gate')).toEqual({
      title: 'Approval wanted: release-gate',
      body: `“${APPROVAL_PROMPT}” · Run run-7 v3 (schedule) by scheduler waits at gate · done: build, test`,
      target: { kind: 'run', id: 'run-7' },
    });
  });
});
