// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../../renderer/App.js';
import { useApprovals } from '../../../renderer/store/approvals-store.js';
import { useAudit } from '../../../renderer/store/audit-store.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useInspector } from '../../../renderer/store/inspector-store.js';
import { useRollback } from '../../../renderer/store/rollback-store.js';
import { useRuns } from '../../../renderer/store/runs-store.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import type { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

let fake: FakeBridge;

// happy-dom does no layout: give the virtual lists' scroll boxes a size so that rows render.
for (const [prop, px] of [['clientHeight', 600], ['clientWidth', 800]] as const) {
  const base = Object.getOwnPropertyDescriptor(HTMLElement.prototype, prop) ?? Object.getOwnPropertyDescriptor(Element.prototype, prop);
  Object.defineProperty(HTMLElement.prototype, prop, {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('vlist') ? px : (base?.get?.call(this) ?? 0);
    },
  });
}

async function renderApp() {
  await act(async () => {
    await Promise.all([useConnections.getState().load(), useWorkflows.getState().load(), useRuns.getState().load(), useAudit.getState().load()]);
  });
  return render(<App />);
}

beforeEach(() => {
  fake = freshConsole();
});

describe('workflow list and timeline', () => {
  it('marks failed runs and status, filters by search, and diffs two picked versions', async () => {
    await renderApp();
    const rows = screen.getAllByTestId('workflow-row');
    expect(rows.map((r) => r.dataset.workflowName)).toEqual(['ml-training-pipeline', 'nightly-orders-etl']);
    expect(within(rows[0]!).getByTestId('workflow-failed-badge').textContent).toBe('1 failed');
    expect(within(rows[1]!).getByTestId('workflow-status').textContent).toBe('paused');

    fireEvent.change(screen.getByTestId('workflow-search'), { target: { value: 'etl' } });
    expect(screen.getAllByTestId('workflow-row')).toHaveLength(1);
    fireEvent.change(screen.getByTestId('workflow-search'), { target: { value: '' } });

    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    await waitFor(() => expect(screen.getAllByTestId('timeline-version')).toHaveLength(2));
    // A publish is drawn on its version's row, not as a row of its own.
    expect(screen.queryAllByTestId('timeline-publish')).toHaveLength(0);
    expect(screen.getAllByTestId('timeline-published').map((p) => p.getAttribute('title'))).toEqual([
      expect.stringMatching(/^Published v2 \(was v1\) by mina\.kim, /),
      expect.stringMatching(/^Published v1 by mina\.kim, /),
    ]);
    const picks = screen.getAllByTestId('timeline-pick');
    fireEvent.click(picks[0]!);
    fireEvent.click(picks[1]!);
    await waitFor(() => expect(screen.getByTestId('diff-summary').textContent).toContain('changed train'));
    expect(screen.getByTestId('dsl-diff').textContent).toContain('registry-v2');
  });

  it('moves through the timeline with j/k and opens a rollback with r', async () => {
    await renderApp();
    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    await waitFor(() => expect(screen.getAllByTestId('timeline-pick')).toHaveLength(2));
    const first = screen.getAllByTestId('timeline-pick')[0]!;
    first.focus();
    // Rows: v2, v1 (each publish is drawn on its version's row).
    fireEvent.keyDown(first, { key: 'j' });
    await waitFor(() => expect(document.activeElement?.closest('[data-testid="timeline-version"]')?.getAttribute('data-version')).toBe('1'));
    fireEvent.keyDown(document.activeElement!, { key: 'r' });
    await waitFor(() => expect(screen.getByTestId('rollback-dialog')).toBeTruthy());
    expect(useRollback.getState().version).toBe(1);
  });
});

describe('pause', () => {
  it('asks first, pauses on yes, and the toast’s Undo unpauses', async () => {
    await renderApp();
    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    fireEvent.click(await screen.findByTestId('workflow-pause-toggle'));
    expect(screen.getByTestId('pause-confirm')).toBe(document.activeElement);
    fireEvent.keyDown(screen.getByTestId('pause-dialog'), { key: 'Escape' });
    expect(screen.queryByTestId('pause-dialog')).toBeNull();
    expect(fake.callsOf('workflows:pause')).toHaveLength(0);

    fireEvent.click(screen.getByTestId('workflow-pause-toggle'));
    fireEvent.click(screen.getByTestId('pause-confirm'));
    await waitFor(() => expect(screen.getByTestId('workflow-header-status').textContent).toBe('paused'));
    expect(screen.queryByTestId('pause-dialog')).toBeNull();
    const toast = screen.getAllByTestId('toast').find((t) => t.textContent?.includes('Paused ml-training-pipeline'))!;
    fireEvent.click(within(toast).getByTestId('toast-action'));
    await waitFor(() => expect(screen.getByTestId('workflow-header-status').textContent).toBe('active'));
    expect(fake.callsOf('workflows:unpause')).toHaveLength(1);
    expect(screen.queryAllByTestId('toast').filter((t) => t.textContent?.includes('Paused ml-training-pipeline'))).toHaveLength(0);
  });
});

describe('run now refused by the params a version declares', () => {
  it('shows the refusal with its title and hint on the workflow, focused', async () => {
    await renderApp();
    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    fake.failNext('runs:start', {
      code: 'MISSING_PARAM',
      message: "v2 of this workflow requires the run param 'model_name', and the run was not given it.",
      hint: 'Give the run a value for it: --param model_name=… on the CLI, params {"model_name":"…"} in the API, or the console’s Run now form.',
      details: { param: 'model_name', params: ['model_name'] },
    });
    fireEvent.click(await screen.findByTestId('workflow-start-run'));
    const notice = await screen.findByTestId('workflow-error');
    expect(notice.dataset.code).toBe('MISSING_PARAM');
    expect(notice.textContent).toContain('The run needs a parameter');
    expect(screen.getByTestId('workflow-error-hint').textContent).toBe('Give the run a value for it: --param model_name=… on the CLI, params {"model_name":"…"} in the API, or the console’s Run now form.');
    expect(document.activeElement).toBe(notice);
  });
});

describe('run now on a version that declares run params', () => {
  it('asks for them in a form built from the declarations, starts with typed values, and shows a refusal with its hint', async () => {
    const active = fake.world.versions.find((v) => v.workflow_id === 'wf-ml' && v.status === 'active')!;
    active.dsl_definition = {
      ...active.dsl_definition,
      params: {
        model_name: { type: 'string', required: true, description: 'The model to train.' },
        epochs: { type: 'integer', default: 10 },
        dry_run: { type: 'boolean', default: false },
      },
    };
    await renderApp();
    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    fireEvent.click(await screen.findByTestId('workflow-start-run'));
    const dialog = await screen.findByTestId('run-params-dialog');
    expect(within(dialog).getByRole('heading').textContent).toBe(`Run ml-training-pipeline (v${active.version})`);
    expect((screen.getByTestId('run-param-epochs') as HTMLInputElement).value).toBe('10');
    expect(document.activeElement).toBe(screen.getByTestId('run-param-model_name'));
    expect(fake.callsOf('runs:start')).toHaveLength(0);

    fake.failNext('runs:start', { code: 'MISSING_PARAM', message: "v2 of this workflow requires the run param 'model_name', and the run was not given it.", hint: 'Give the run a value for it: --param model_name=… on the CLI, params {"model_name":"…"} in the API, or the console’s Run now form.' });
    fireEvent.click(screen.getByTestId('run-params-start'));
    await waitFor(() => expect(screen.getByTestId('run-params-error').dataset.code).toBe('MISSING_PARAM'));
    expect(screen.getByTestId('run-params-error').textContent).toContain('The run needs a parameter');
    expect(screen.getByTestId('run-params-error-hint').textContent).toContain('--param model_name=…');

    fireEvent.change(screen.getByTestId('run-param-model_name'), { target: { value: '007' } });
    fireEvent.change(screen.getByTestId('run-param-epochs'), { target: { value: '3' } });
    fireEvent.click(screen.getByTestId('run-param-dry_run'));
    fireEvent.click(screen.getByTestId('run-params-start'));
    await waitFor(() => expect(screen.queryByTestId('run-params-dialog')).toBeNull());
    expect(fake.callsOf('runs:start').at(-1)).toEqual({ workflow_id: 'wf-ml', params: { model_name: '007', epochs: 3, dry_run: true }, trigger: 'manual' });
    await waitFor(() => expect(useInspector.getState().runId).toBe(`wf-ml-run-${fake.world.runs.length}`));
  });
});

describe('rollback dialog', () => {
  it('previews, needs the typed name, rolls back and shows the result', async () => {
    await renderApp();
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    const dialog = screen.getByTestId('rollback-dialog');
    expect(within(dialog).getByTestId('rollback-preview').textContent).toContain('Active now: v2');
    expect(within(dialog).getByTestId('rollback-resumable-run').textContent).toContain('resumable on v1');
    const submit = within(dialog).getByTestId('rollback-submit') as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.change(within(dialog).getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    expect(submit.disabled).toBe(false);
    fireEvent.click(submit);
    await waitFor(() => expect(screen.getByTestId('rollback-result').textContent).toContain('Rolled back to v1'));
  });

  it('asks for the version as well on a production connection', async () => {
    fake.world.connections = fake.world.connections.map((c) => ({ ...c, selected: c.id === 'prod' }));
    await renderApp();
    expect(screen.getByTestId('connection-production')).toBeTruthy();
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    fireEvent.change(screen.getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    const submit = screen.getByTestId('rollback-submit') as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.change(screen.getByTestId('rollback-confirm-version'), { target: { value: 'v1' } });
    expect(submit.disabled).toBe(false);
  });

  it('shows the stale-revision hint with a reload that fetches a fresh preview', async () => {
    await renderApp();
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    fake.world.workflows[0] = { ...fake.world.workflows[0]!, revision: 42 };
    fireEvent.change(screen.getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    fireEvent.click(screen.getByTestId('rollback-submit'));
    await waitFor(() => expect(screen.getByTestId('rollback-error-hint').textContent).toBe('Reload the workflow and retry.'));
    expect(screen.getByTestId('rollback-error').textContent).toContain('Someone else changed this workflow first');
    fireEvent.click(screen.getByTestId('rollback-error-reload'));
    await waitFor(() => expect(useRollback.getState().preview?.revision).toBe(42));
  });

  it('shows who may do it when the token is a viewer', async () => {
    await renderApp();
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    fake.failNext('versions:rollback', { code: 'FORBIDDEN', message: 'viewer may not roll back', hint: 'Ask an operator or an admin to roll back.' });
    fireEvent.change(screen.getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    fireEvent.click(screen.getByTestId('rollback-submit'));
    await waitFor(() => expect(screen.getByTestId('rollback-error-hint').textContent).toBe('Ask an operator or an admin to roll back.'));
    expect(screen.queryByTestId('rollback-error-reload')).toBeNull();
  });

  it('closes on Escape', async () => {
    await renderApp();
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    fireEvent.keyDown(screen.getByTestId('rollback-dialog'), { key: 'Escape' });
    expect(screen.queryByTestId('rollback-dialog')).toBeNull();
  });
});

describe('run inspector', () => {
  it('draws the DAG by checkpoint state, searches the state, and resumes', async () => {
    await renderApp();
    fireEvent.click(screen.getByTestId('nav-runs'));
    fireEvent.click(screen.getAllByTestId('run-row')[0]!);
    await waitFor(() => expect(screen.getAllByTestId('dag-node')).toHaveLength(3));
    expect(screen.getAllByTestId('dag-node').map((n) => n.getAttribute('data-state'))).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(screen.getAllByTestId('checkpoint-row')).toHaveLength(3);
    expect(screen.getAllByTestId('dag-node').map((n) => n.dataset.work)).toEqual(['simulated', 'simulated', 'simulated']);
    expect(screen.queryByTestId('dag-legend')).toBeNull();

    fireEvent.click(screen.getAllByTestId('dag-node')[1]!);
    expect(useInspector.getState().selectedSeq).toBe(2);
    fireEvent.change(screen.getByTestId('checkpoint-json-search'), { target: { value: 'accuracy' } });
    expect(screen.getByTestId('checkpoint-json-matches').textContent).toBe('1 matching line');

    await waitFor(() => expect(screen.getByTestId('resume-compat').dataset.compatible).toBe('true'));
    fireEvent.click(screen.getByTestId('resume-submit'));
    await waitFor(() => expect(screen.getByTestId('inspector-status').textContent).toBe('succeeded'));
    expect(screen.getByTestId('inspector-parent').textContent).toContain('run-failed');
  });
});

describe('real nodes in the run graph', () => {
  it('marks http, command, wait and approval nodes as real work, apart from simulated ones', async () => {
    fake.world.versions = fake.world.versions.map((v) =>
      v.workflow_id === 'wf-ml' && v.version === 2
        ? {
            ...v,
            dsl_definition: {
              defaults: {},
              nodes: [
                { id: 'load', type: 'task', params: {}, next: ['train'] },
                { id: 'train', type: 'http', params: { method: 'POST', url: 'http://127.0.0.1:9/train' }, next: ['gate'] },
                { id: 'gate', type: 'approval', params: {}, next: ['deploy'] },
                { id: 'deploy', type: 'judgment', params: {}, next: [] },
              ],
            },
          }
        : v,
    );
    await renderApp();
    fireEvent.click(screen.getByTestId('nav-runs'));
    fireEvent.click(screen.getAllByTestId('run-row')[0]!);
    await waitFor(() => expect(screen.getAllByTestId('dag-node')).toHaveLength(4));
    const nodes = screen.getAllByTestId('dag-node');
    expect(nodes.map((n) => `${n.dataset.nodeId}:${n.dataset.work}`)).toEqual(['load:simulated', 'train:real', 'gate:real', 'deploy:simulated']);
    expect(nodes.map((n) => n.querySelector('[data-testid="dag-real-mark"]') !== null)).toEqual([false, true, true, false]);
    expect(nodes[1]!.querySelector('title')?.textContent).toBe('train: http, real work, succeeded');
    expect(screen.getByTestId('dag-legend').textContent).toContain('real work (http, command, wait, approval)');
  });
});

describe('run timeline in the inspector', () => {
  it('labels a takeover: which replica continued the run from which, after which checkpoint', async () => {
    const run = fake.world.runs.find((r) => r.run_id === 'run-failed')!;
    const base = fake.world.events[fake.world.events.length - 1]!;
    const at = (seq: number, type: string, payload: Record<string, unknown>) => ({ ...base, seq, type, run_id: run.run_id, payload, ts: base.ts });
    fake.world.events.push(
      at(base.seq + 1, 'run_started', { version: run.version, kind: 'start' }),
      at(base.seq + 2, 'run_taken_over', { run_id: run.run_id, from_replica: 'replica-a', to_replica: 'replica-b', after_seq: 2 }),
      at(base.seq + 3, 'run_failed', { error: 'deploy failed' }),
    );
    await renderApp();
    fireEvent.click(screen.getByTestId('nav-runs'));
    await act(() => useInspector.getState().open(run.run_id));
    await waitFor(() => expect(screen.getAllByTestId('run-takeover')).toHaveLength(1));
    const takeover = screen.getByTestId('run-takeover');
    expect(takeover.textContent).toContain('takeover');
    expect(takeover.textContent).toContain('taken over by replica-b from replica-a, after checkpoint #2');
    expect(within(screen.getByTestId('run-timeline')).getAllByRole('listitem').map((li) => li.getAttribute('data-type'))).toEqual(['run_started', 'run_taken_over', 'run_failed']);
  });
});

describe('approval in the run inspector', () => {
  it('shows Approve / Deny for a waiting run; approving lets it finish, a refusal shows its error', async () => {
    const failed = fake.world.runs.find((r) => r.run_id === 'run-failed')!;
    fake.world.runs = [{ ...failed, run_id: 'run-gated', status: 'waiting', error: null, failed_node: null }, ...fake.world.runs];
    await renderApp();
    fireEvent.click(screen.getByTestId('nav-runs'));
    await act(async () => {
      await useInspector.getState().open('run-gated');
    });
    expect(screen.getByTestId('inspector-status').textContent).toBe('waiting');
    fake.failNext('runs:approve', { code: 'FORBIDDEN', message: 'Answering an approval needs the operator role.', hint: 'Ask an admin for an operator token.' });
    fireEvent.click(screen.getByTestId('approval-approve'));
    await waitFor(() => expect(screen.getByTestId('approval-error').dataset.code).toBe('FORBIDDEN'));
    fireEvent.change(screen.getByTestId('approval-comment'), { target: { value: 'looks good' } });
    fireEvent.click(screen.getByTestId('approval-approve'));
    await waitFor(() => expect(screen.getByTestId('inspector-status').textContent).toBe('succeeded'));
    expect(screen.queryByTestId('approval-panel')).toBeNull();
  });
});

describe('runs waiting for approval', () => {
  const gate = () => {
    const failed = fake.world.runs.find((r) => r.run_id === 'run-failed')!;
    fake.world.runs = [{ ...failed, run_id: 'run-gated', status: 'waiting', error: null, failed_node: null }, { ...failed, run_id: 'run-gated-2', status: 'waiting', error: null, failed_node: null }, ...fake.world.runs];
  };

  it('shows their number on the workflow, and the palette approves one and sends the operator to deny another', async () => {
    gate();
    await act(() => useApprovals.getState().load());
    await renderApp();
    const [ml, etl] = screen.getAllByTestId('workflow-row');
    expect(within(ml!).getByTestId('workflow-waiting-badge').textContent).toBe('2 to approve');
    expect(within(etl!).queryByTestId('workflow-waiting-badge')).toBeNull();

    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    fireEvent.change(await screen.findByTestId('palette-input'), { target: { value: 'approve run-gated-2' } });
    expect(screen.getAllByTestId('palette-item').map((i) => i.textContent)).toEqual([expect.stringContaining('Approve run run-gated-2 of ml-training-pipeline (v2)')]);
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('inspector-status').textContent).toBe('succeeded'));
    expect(fake.callsOf('runs:approve')).toEqual([{ run_id: 'run-gated-2', decision: 'approve' }]);
    await waitFor(() => expect(within(screen.getAllByTestId('workflow-row')[0]!).getByTestId('workflow-waiting-badge').textContent).toBe('1 to approve'));

    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    fireEvent.change(await screen.findByTestId('palette-input'), { target: { value: 'deny run' } });
    expect(screen.getAllByTestId('palette-item').map((i) => i.textContent)).toEqual([expect.stringContaining('Deny run run-gated of ml-training-pipeline (v2): “Ship the nightly release to production?”…')]);
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    // Denying ends the run: the palette stops at the inspector's Deny button, focused, for the operator's yes.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('approval-deny')));
    expect(fake.callsOf('runs:approve')).toHaveLength(1);
  });

  it('lists Approve and Deny to a viewer disabled, with the reason, and Enter answers nothing', async () => {
    gate();
    fake.world.connections = fake.world.connections.map((c) => (c.selected ? { ...c, role: 'viewer' as const } : c));
    await act(() => useApprovals.getState().load());
    await renderApp();
    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    fireEvent.change(await screen.findByTestId('palette-input'), { target: { value: 'run-gated' } });
    const items = screen.getAllByTestId('palette-item');
    expect(items.map((i) => i.dataset.commandId)).toEqual([
      'approval:approve:run-gated',
      'approval:deny:run-gated',
      'approval:approve:run-gated-2',
      'approval:deny:run-gated-2',
      'run:run-gated',
      'run:run-gated-2',
    ]);
    expect(items.slice(0, 4).map((i) => i.getAttribute('aria-disabled'))).toEqual(['true', 'true', 'true', 'true']);
    expect(within(items[0]!).getByTestId('palette-item-reason').textContent).toContain('not approve or deny');
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    expect(screen.getByTestId('palette-input')).toBeTruthy();
    expect(fake.callsOf('runs:approve')).toHaveLength(0);
  });
});

describe('command palette and theme', () => {
  it('opens with Ctrl+K and runs a command by name', async () => {
    await renderApp();
    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    const input = await screen.findByTestId('palette-input');
    fireEvent.change(input, { target: { value: 'audit log' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(screen.queryByTestId('palette')).toBeNull();
    expect(useUi.getState().view).toBe('audit');
    expect(screen.getByTestId('audit-count').textContent).toBe('4 events');
  });

  it('reaches a rollback of the open workflow from the palette', async () => {
    await renderApp();
    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    await waitFor(() => expect(screen.getAllByTestId('timeline-version')).toHaveLength(2));
    fireEvent.keyDown(window, { key: 'k', metaKey: true });
    fireEvent.change(await screen.findByTestId('palette-input'), { target: { value: 'roll back v1' } });
    expect(screen.getAllByTestId('palette-item').map((i) => i.dataset.commandId)).toEqual(['rollback:wf-ml:1']);
    fireEvent.keyDown(screen.getByTestId('palette-input'), { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('rollback-preview')).toBeTruthy());
  });

  it('defaults to dark and toggles to light', async () => {
    await renderApp();
    expect(document.documentElement.dataset.theme).toBe('dark');
    fireEvent.click(screen.getByTestId('theme-toggle'));
    expect(document.documentElement.dataset.theme).toBe('light');
  });
});

describe('audit log', () => {
  it('filters by type and verifies the chain', async () => {
    await renderApp();
    fireEvent.click(screen.getByTestId('nav-audit'));
    fireEvent.change(screen.getByTestId('audit-filter-type'), { target: { value: 'version_published' } });
    // The server filters: the view shows what it answered for the type asked.
    await waitFor(() => expect(screen.getAllByTestId('audit-row').map((r) => r.dataset.seq)).toEqual(['4', '2']));
    expect(fake.callsOf('events:list').at(-1)).toMatchObject({ type: 'version_published', before: 5 });
    expect(screen.getByTestId('audit-count').textContent).toBe('2 matching');
    fireEvent.click(screen.getByTestId('chain-verify'));
    await waitFor(() => expect(screen.getByTestId('chain-status').dataset.ok).toBe('true'));
  });
});

describe('the alarm banner', () => {
  it('shows a connection whose log is tampered or truncated in a red alert, and clears it with the alarm', async () => {
    await renderApp();
    expect(screen.queryByTestId('alarm-banner')).toBeNull();
    const alarm = { code: 'LOG_TRUNCATED' as const, message: 'Prod server no longer has event 42 (hash abc…), which was verified here before.', hint: 'Treat the audit log as tampered.' };
    // As main's `connections:changed` push lands in the store.
    act(() => useConnections.getState().applyPush(fake.world.connections.map((c) => (c.id === 'prod' ? { ...c, alarm } : c))));
    const banner = await screen.findByTestId('alarm-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    const item = within(banner).getByTestId('alarm-item');
    expect(item.dataset.code).toBe('LOG_TRUNCATED');
    expect(item.textContent).toContain('Prod server: Prod server no longer has event 42');
    expect(item.textContent).toContain('Treat the audit log as tampered.');
    act(() => useConnections.getState().applyPush(fake.world.connections));
    await waitFor(() => expect(screen.queryByTestId('alarm-banner')).toBeNull());
  });
});
