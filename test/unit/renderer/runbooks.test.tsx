// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../../renderer/App.js';
import { setApi } from '../../../renderer/api/client.js';
import { buildCommands } from '../../../renderer/palette/commands.js';
import { chartModel } from '../../../renderer/runbooks/history-chart.js';
import { faultLocation, formatClock, planFit } from '../../../renderer/runbooks/plan.js';
import { plannedMs } from '../../../preload/contract/index.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useHistory } from '../../../renderer/store/history-store.js';
import { startLive } from '../../../renderer/store/live.js';
import { isOlder, nextClock, useRehearsal } from '../../../renderer/store/rehearsal-store.js';
import { useRunbooks } from '../../../renderer/store/runbooks-store.js';
import { defaultSnapshotPath, useSnapshot } from '../../../renderer/store/snapshot-store.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { levelOneRunbook, rehearsalOf, sessionOf, type FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

let fake: FakeBridge;
beforeEach(() => {
  fake = freshConsole();
});

const INVALID = {
  code: 'INVALID_RUNBOOK' as const,
  message: "Step 2 ('Roll back to the previous version'): action.to: expected a version number or 'previous'",
  hint: 'Fix the field named in the message and import the runbook again.',
  details: { path: 'steps.1.action.to' },
};

async function openRunbooks() {
  await act(async () => {
    await useConnections.getState().load();
  });
  const view = render(<App />);
  fireEvent.click(screen.getByTestId('nav-runbooks'));
  await waitFor(() => expect(screen.getAllByTestId('runbook-row')).toHaveLength(1));
  return view;
}

describe('runbooks list', () => {
  it('shows level, step count and the plan against seed 003’s target', async () => {
    await openRunbooks();
    const row = screen.getAllByTestId('runbook-row')[0]!;
    expect(within(row).getByTestId('runbook-level').textContent).toBe('application');
    expect(within(row).getByTestId('runbook-steps').textContent).toBe('3 steps');
    expect(within(row).getByTestId('runbook-plan').textContent).toBe('plan 1 min 40 s · target 5–10 min');
    expect(within(row).getByTestId('runbook-plan').dataset.fit).toBe('within');
    expect(screen.getByTestId('runbook-title').textContent).toBe('Level 1 — application rollback');
  });

  it('judges a plan against its level', () => {
    const rb = levelOneRunbook().runbook;
    expect(plannedMs(rb)).toBe(100_000);
    expect(planFit(11 * 60_000, 'application')).toBe('over');
    expect(planFit(90 * 60_000, 'full-system')).toBe('within');
    expect(planFit(1, null)).toBeNull();
  });
});

describe('runbook editor', () => {
  it('shows the step and the field at fault when an import is refused', async () => {
    await openRunbooks();
    fireEvent.click(screen.getByTestId('runbook-new'));
    fireEvent.change(screen.getByTestId('runbook-text'), { target: { value: 'name: Bad\nsteps: []' } });
    fake.failNext('runbooks:import', INVALID);
    fireEvent.click(screen.getByTestId('runbook-import'));
    await waitFor(() => expect(screen.getByTestId('runbook-error-step').textContent).toBe('step 2'));
    expect(screen.getByTestId('runbook-error-field').textContent).toBe('action.to');
    expect(screen.getByTestId('runbook-error').textContent).toContain("expected a version number or 'previous'");
    expect(screen.getByTestId('runbook-error').textContent).toContain('The runbook is not valid');
  });

  it('reads the fault from the message when the error carries no path', () => {
    expect(faultLocation({ ...INVALID, details: undefined })).toEqual({ step: 2, field: 'action.to' });
    expect(faultLocation({ ...INVALID, message: 'Runbook: steps: expected at least one step', details: { path: 'steps' } })).toEqual({ step: null, field: 'steps' });
  });

  it('saves with Ctrl+Enter and selects the saved runbook', async () => {
    await openRunbooks();
    fireEvent.click(screen.getByTestId('runbook-new'));
    fireEvent.change(screen.getByTestId('runbook-text'), { target: { value: 'name: Drill\n' } });
    fireEvent.keyDown(screen.getByTestId('runbook-text'), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(screen.getByTestId('runbook-saved').textContent).toContain('Drill'));
    expect(fake.callsOf('runbooks:import')).toEqual([{ text: 'name: Drill\n', format: 'yaml' }]);
    expect(screen.getAllByTestId('runbook-row')).toHaveLength(2);
  });
});

describe('rehearsal', () => {
  it('starts under the runbook’s scenario, ticks its timers, and confirms a checklist with Enter', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      await openRunbooks();
      const stop = startLive(fake.bridge);
      await waitFor(() => expect((screen.getByTestId('rehearse-scenario') as HTMLSelectElement).value).toBe('ml-registry-outage'));
      fireEvent.change(screen.getByTestId('rehearse-time-scale'), { target: { value: '0.01' } });
      fireEvent.click(screen.getByTestId('rehearse-start'));
      await waitFor(() => expect(screen.getByTestId('rehearsal-run').dataset.state).toBe('awaiting_confirmation'));
      // Paced by default: a timed rehearsal times the operator.
      expect(fake.callsOf('rehearsals:start')).toEqual([{ runbook: 'rb-1', scenario: 'ml-registry-outage', skip_steps: [], time_scale: 0.01, pace: 'paced' }]);

      const steps = screen.getAllByTestId('rehearsal-step');
      expect(steps.map((s) => s.dataset.state)).toEqual(['awaiting', 'pending', 'pending']);
      expect(screen.getByTestId('rehearsal-next').textContent).toContain('Roll back to the previous version');
      expect(within(steps[0]!).getAllByTestId('checklist-item').map((i) => i.textContent)).toEqual(['Record the active version', 'Tell the team']);

      const before = screen.getByTestId('step-timer').textContent;
      await act(() => vi.advanceTimersByTimeAsync(3000));
      expect(screen.getByTestId('step-timer').textContent).not.toBe(before);
      expect(screen.getByTestId('step-timer').textContent).toMatch(/^0:0[3-4]$/);

      expect(document.activeElement).toBe(screen.getByTestId('rehearsal-confirm'));
      fireEvent.keyDown(screen.getByTestId('rehearsal-run'), { key: 'Enter' });
      await waitFor(() => expect(screen.getAllByTestId('rehearsal-step').map((s) => s.dataset.state)).toEqual(['passed', 'current', 'pending']));
      expect(fake.callsOf('rehearsals:confirm')).toEqual([{ session_id: 'sess-1', index: 1, confirmed: true }]);

      // The end arrives as a push: pass, the total, and the history gains the new point.
      fake.world.rehearsals = [rehearsalOf('reh-3', 800, 40_000, true), ...fake.world.rehearsals];
      const done = sessionOf({ state: 'finished', current_index: null, next_title: null, passed: true, rehearsal_id: 'reh-3', steps: fake.world.sessions[0]!.steps });
      act(() => fake.push('rehearsals:progress', done));
      await waitFor(() => expect(screen.getByTestId('rehearsal-result').dataset.passed).toBe('true'));
      await waitFor(() => expect(screen.getByTestId('rehearsal-total').textContent).toBe('40.0 s'));
      fireEvent.click(screen.getByTestId('rehearsal-report'));
      await waitFor(() => expect(screen.getByTestId('report-text').textContent).toContain('Rehearsal reh-3'));
      stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('asks before aborting', async () => {
    await openRunbooks();
    fireEvent.click(screen.getByTestId('rehearse-start'));
    await waitFor(() => expect(screen.getByTestId('rehearsal-abort')).toBeTruthy());
    fireEvent.click(screen.getByTestId('rehearsal-abort'));
    expect(fake.callsOf('rehearsals:abort')).toHaveLength(0);
    fireEvent.click(screen.getByTestId('abort-confirm'));
    await waitFor(() => expect(screen.getByTestId('rehearsal-verdict').textContent).toBe('ABORTED'));
  });

  it('shows the LIVE banner on a server and wants the runbook name typed', async () => {
    fake.world.connections = fake.world.connections.map((c) => ({ ...c, selected: c.id === 'prod' }));
    await openRunbooks();
    expect(screen.getByTestId('live-banner').textContent).toContain('http://127.0.0.1:9');
    expect(screen.queryByTestId('rehearse-scenario')).toBeNull();
    const start = screen.getByTestId('rehearse-start') as HTMLButtonElement;
    expect(start.disabled).toBe(true);
    fireEvent.change(screen.getByTestId('rehearse-confirm-name'), { target: { value: 'Level 1 — application rollback' } });
    expect(start.disabled).toBe(false);
  });

  it('never lets an older picture of a session replace a newer one', () => {
    const running = sessionOf({ state: 'running', current_index: 2, steps: [rehearsalOf('x', 0, 1000, true).steps[0]!] });
    expect(isOlder(sessionOf(), running)).toBe(true);
    expect(isOlder(running, sessionOf())).toBe(false);
    expect(isOlder(sessionOf({ state: 'finished', current_index: null }), running)).toBe(false);
    useRehearsal.getState().applyProgress(running);
    useRehearsal.getState().applyProgress(sessionOf());
    expect(useRehearsal.getState().sessions['sess-1']!.current_index).toBe(2);
  });

  it('restarts the step clock only when the step changes', () => {
    const a = nextClock(undefined, sessionOf({ state: 'setting_up', current_index: null }), 1000);
    expect(a).toEqual({ index: null, since: 1000, runningSince: null });
    const b = nextClock(a, sessionOf({ state: 'running', current_index: 1 }), 2000);
    expect(b).toEqual({ index: 1, since: 2000, runningSince: 2000 });
    expect(nextClock(b, sessionOf({ state: 'awaiting_confirmation', current_index: 1 }), 5000)).toEqual(b);
    expect(formatClock(65_000)).toBe('1:05');
  });
});

describe('paced rehearsals and a sandbox already fixed', () => {
  it('offers to reset to the demo first when the scenario cannot be staged, and starts again with reset_first', async () => {
    await openRunbooks();
    await waitFor(() => expect((screen.getByTestId('rehearse-scenario') as HTMLSelectElement).value).toBe('ml-registry-outage'));
    expect((screen.getByTestId('rehearse-pace') as HTMLSelectElement).value).toBe('paced');
    fireEvent.change(screen.getByTestId('rehearse-pace'), { target: { value: 'automatic' } });
    fake.failNext('rehearsals:start', {
      code: 'SCENARIO_NEEDS_RESET',
      message: 'The scenario "ml-registry-outage" cannot be staged on this sandbox as it is: ml-training-pipeline runs v3, not its newest v4: it was rolled back already.',
      hint: 'Start it again with "reset to the demo first".',
      details: { scenario: 'ml-registry-outage', reason: 'ml-training-pipeline runs v3', resettable: true, scratch: true },
    });
    fireEvent.click(screen.getByTestId('rehearse-start'));
    const offer = await screen.findByTestId('rehearse-reset-offer');
    expect(offer.textContent).toContain('it was rolled back already');
    expect(offer.textContent).toContain('fresh demo copy, and your sandbox stays as it is');
    fireEvent.click(within(offer).getByTestId('rehearse-reset-first'));
    await waitFor(() => expect(fake.callsOf('rehearsals:start')).toHaveLength(2));
    expect(fake.callsOf('rehearsals:start')[1]).toEqual({ runbook: 'rb-1', scenario: 'ml-registry-outage', skip_steps: [], time_scale: 1, pace: 'automatic', reset_first: true });
  });

  it('names the go of a paced step for what it does, and labels an automatic run as timing the machine', async () => {
    fake.world.sessions = [sessionOf({ pace: 'paced', state: 'awaiting_confirmation', current_index: 2, steps: [] })];
    await openRunbooks();
    await act(() => useRehearsal.getState().loadSessions());
    expect(screen.getByTestId('rehearsal-pace').textContent).toBe('paced');
    expect(screen.getByTestId('rehearsal-confirm').textContent).toContain('Do it');
    act(() => useRehearsal.getState().applyProgress(sessionOf({ pace: 'automatic', state: 'finished', current_index: null, passed: true, rehearsal_id: null, steps: [] })));
    expect(screen.getByTestId('rehearsal-automatic-note').textContent).toContain('times the machine, not an operator');
  });
});

describe('rehearsal history', () => {
  it('charts each rehearsal oldest first, marks pass and fail, and draws the plan line', async () => {
    await openRunbooks();
    fireEvent.click(screen.getByTestId('runbook-tab-history'));
    await waitFor(() => expect(screen.getAllByTestId('history-point')).toHaveLength(2));
    expect(screen.getAllByTestId('history-point').map((p) => p.dataset.passed)).toEqual(['false', 'true']);
    expect(screen.getAllByTestId('history-row')).toHaveLength(2);
    expect(screen.getByTestId('history-plan-line')).toBeTruthy();

    fake.world.rehearsals = [rehearsalOf('reh-3', 400, 20_000, true), ...fake.world.rehearsals];
    await act(() => useHistory.getState().load('rb-1'));
    expect(screen.getByTestId('history-chart').dataset.points).toBe('3');

    fireEvent.click(screen.getAllByTestId('history-report')[0]!);
    // Rendered, not shown as Markdown source: the title is a heading, and no "#" is left.
    await waitFor(() => expect(screen.getByTestId('report-text').querySelector('h1')?.textContent).toContain('Post-incident report'));
    expect(screen.getByTestId('report-text').textContent).not.toContain('# Post-incident');
    // The steps table renders as a table: header cells, one row per step, inline Markdown inside.
    const table = screen.getByTestId('report-table');
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['#', 'Step', 'Outcome']);
    expect([...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))).toEqual([
      ['1', 'Roll back ml | v1', 'passed'],
      ['2', 'Resume run-failed', 'failed'],
    ]);
    expect(table.querySelector('td strong')?.textContent).toBe('ml');
    expect(table.querySelector('td code')?.textContent).toBe('run-failed');
    expect(screen.getByTestId('report-text').textContent).not.toContain('| ---');
    expect(screen.getByTestId('report-text').querySelector('p:last-child')?.textContent).toBe('Done.');
    expect(screen.getByTestId('report-copy')).toBeTruthy();
    expect(screen.getByTestId('report-download')).toBeTruthy();
  });

  it('places points by order and time to recover, the plan between them', () => {
    const m = chartModel([rehearsalOf('b', 300, 50_000, true), rehearsalOf('a', 100, 200_000, false)], 100_000);
    expect(m.points.map((p) => p.id)).toEqual(['a', 'b']);
    expect(m.points[0]!.x).toBe(m.plot.left);
    expect(m.points[1]!.x).toBe(m.plot.right);
    expect(m.points[0]!.y).toBeLessThan(m.planY);
    expect(m.points[1]!.y).toBeGreaterThan(m.planY);
    expect(m.yMaxMs).toBeCloseTo(230_000);
    expect(chartModel([rehearsalOf('only', 0, 1000, true)], 100_000).points[0]!.x).toBe((m.plot.left + m.plot.right) / 2);
  });
});

describe('snapshots and sandbox files', () => {
  it('shows the progress of a snapshot with phase and counts, then opens it with its banner', async () => {
    fake.world.connections = fake.world.connections.map((c) => ({ ...c, selected: c.id === 'prod' }));
    await act(async () => {
      await useConnections.getState().load();
    });
    render(<App />);
    const stop = startLive(fake.bridge);
    fireEvent.click(screen.getByTestId('connection-menu'));
    fireEvent.click(screen.getByTestId('connection-menu-snapshot'));
    const path = screen.getByTestId('snapshot-path') as HTMLInputElement;
    expect(path.value).toMatch(/^\/tmp\/snapshot-127\.0\.0\.1-9-\d{8}-\d{4}\.db$/);

    let finish: (() => void) | null = null;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const create = fake.bridge.snapshots.create;
    fake.bridge.snapshots.create = async (input) => {
      await gate;
      return create(input);
    };
    fireEvent.click(screen.getByTestId('snapshot-start'));
    await waitFor(() => expect(screen.getByTestId('snapshot-progress')).toBeTruthy());
    act(() => fake.push('snapshots:progress', { path: path.value, phase: 'events', done: 120, total: 340, detail: null }));
    expect(screen.getByTestId('snapshot-progress').dataset.phase).toBe('events');
    expect(screen.getByTestId('snapshot-counts').textContent).toBe(' · 120 / 340');
    expect((screen.getByTestId('snapshot-bar') as HTMLProgressElement).value).toBe(120);
    // Another file's progress is not ours.
    act(() => fake.push('snapshots:progress', { path: '/elsewhere.db', phase: 'runs', done: 1, total: 2, detail: null }));
    expect(useSnapshot.getState().progress?.phase).toBe('events');

    act(() => finish!());
    await waitFor(() => expect(screen.getByTestId('snapshot-result').textContent).toContain('12 runs'));
    fireEvent.click(screen.getByTestId('snapshot-open'));
    await waitFor(() => expect(screen.getByTestId('snapshot-banner').textContent).toContain('Snapshot of http://127.0.0.1:9 taken at'));
    expect(screen.getByTestId('snapshot-banner').dataset.complete).toBe('false');
    expect(screen.getByTestId('snapshot-incomplete')).toBeTruthy();
    expect(fake.callsOf('connections:openSandbox')).toEqual([{ path: path.value }]);
    stop();
  });

  it('in browser mode asks for no path: the finished snapshot downloads through the browser, and a failed one resumes its own file', async () => {
    setApi(fake.bridge, 'browser');
    fake.world.connections = fake.world.connections.map((c) => ({ ...c, selected: c.id === 'prod' }));
    await act(async () => {
      await useConnections.getState().load();
    });
    window.history.replaceState(null, '', '/?token=t%2Bk');
    const clicks: Array<{ href: string; download: string }> = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.getAttribute('href') ?? '', download: this.download });
    });
    render(<App />);
    const stop = startLive(fake.bridge);
    fireEvent.click(screen.getByTestId('connection-menu'));
    fireEvent.click(screen.getByTestId('connection-menu-snapshot'));
    expect(screen.queryByTestId('snapshot-path')).toBeNull();
    expect(screen.getByTestId('snapshot-start').textContent).toBe('Download snapshot');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('snapshot-start')));

    // The folder beside the sandbox file; the console names the file in it, and progress says which.
    const file = '/tmp/snapshots/snapshot-127.0.0.1-9-20261202T170000Z.db';
    const create = fake.bridge.snapshots.create;
    fake.bridge.snapshots.create = async (input) => {
      fake.push('snapshots:progress', { path: file, phase: 'events', done: 1, total: 2, detail: null });
      return create(input);
    };
    fake.failNext('snapshots:create', { code: 'UNREACHABLE', message: 'The server went away.', hint: 'Try again.' });
    fireEvent.click(screen.getByTestId('snapshot-start'));
    await waitFor(() => expect(screen.getByTestId('snapshot-error')).toBeTruthy());
    fireEvent.click(screen.getByTestId('snapshot-start'));
    await waitFor(() => expect(screen.getByTestId('snapshot-downloaded').textContent).toBe('Downloaded as snapshot-127.0.0.1-9-20261202T170000Z.db.'));
    expect(fake.callsOf('snapshots:create').map((c) => (c as { path: string }).path)).toEqual(['/tmp/snapshots/', file]);
    expect(clicks).toEqual([{ href: '/download/snapshot/snapshot-127.0.0.1-9-20261202T170000Z.db?token=t%2Bk', download: 'snapshot-127.0.0.1-9-20261202T170000Z.db' }]);
    fireEvent.click(screen.getByTestId('snapshot-download-again'));
    expect(clicks).toHaveLength(2);
    click.mockRestore();
    stop();
  });

  it('names the default snapshot file after the server, in the data folder', () => {
    expect(defaultSnapshotPath('/data/rewind/sandbox.db', 'https://ops.example.com:8443', new Date(2026, 10, 24, 9, 5))).toBe('/data/rewind/snapshot-ops.example.com-8443-20261124-0905.db');
    expect(defaultSnapshotPath('C:\\Users\\op\\sandbox.db', 'http://h', new Date(2026, 0, 2, 3, 4))).toBe('C:\\Users\\op\\snapshot-h-20260102-0304.db');
  });

  it('replaces a token from the connection menu', async () => {
    fake.world.connections = fake.world.connections.map((c) => ({ ...c, selected: c.id === 'prod' }));
    await act(async () => {
      await useConnections.getState().load();
    });
    render(<App />);
    fireEvent.click(screen.getByTestId('connection-menu'));
    fireEvent.click(screen.getByTestId('connection-menu-token'));
    fireEvent.change(screen.getByTestId('token-input'), { target: { value: 's3cret' } });
    fireEvent.click(screen.getByTestId('token-submit'));
    await waitFor(() => expect(screen.queryByTestId('token-dialog')).toBeNull());
    expect(fake.callsOf('connections:setToken')).toEqual([{ id: 'prod', token: 's3cret' }]);
  });
});

describe('command palette', () => {
  it('offers rehearsals, history, the editor and the connection actions', async () => {
    fake.world.connections = fake.world.connections.map((c) => ({ ...c, selected: c.id === 'prod' }));
    await useConnections.getState().load();
    await useRunbooks.getState().load();
    const ids = buildCommands().map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['view:runbooks', 'runbook:new', 'runbook:rehearse:rb-1', 'runbook:history:rb-1', 'runbook:edit:rb-1', 'connection:snapshot', 'connection:token', 'connection:openSandbox']));
    buildCommands().find((c) => c.id === 'runbook:history:rb-1')!.run();
    expect(useUi.getState().view).toBe('runbooks');
    expect(useRunbooks.getState().tab).toBe('history');
  });
});
