// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FailingWorkflow } from '../../../preload/contract/index.js';
import { App } from '../../../renderer/App.js';
import { homeSections, suggestedAction } from '../../../renderer/home/home-model.js';
import { IncidentHome } from '../../../renderer/home/IncidentHome.js';
import { buildCommands } from '../../../renderer/palette/commands.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useIncidents } from '../../../renderer/store/incidents-store.js';
import { confirmationMet, rollbackWording, useRollback } from '../../../renderer/store/rollback-store.js';
import { useRuns } from '../../../renderer/store/runs-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import type { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/*
 * Rollback safety: a bad target warns and asks for its version too; a row above the active version
 * is "Make vN active again"; the result offers Resume for each resumable run. The incident card: the
 * error line, who put the bad version forward and when; a canary the policy rolled back moves to
 * "Recently rolled back", with no resume of its runs offered.
 */

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

beforeEach(() => {
  fake = freshConsole();
});

const badV2 = { runs: 3, failed: 2, failure_rate: 2 / 3, threshold: 0.2, bad: true, reason: 'v2 failed 2 of its 3 finished runs (66.7 %, above the 20 % threshold).' };

describe('rollback onto a bad version', () => {
  it('warns, and asks for the version number besides the name even off production; a good target needs the name only', async () => {
    // v1 active again, v2 (bad) deprecated: making v2 active again is the forward action.
    fake.world.versions = fake.world.versions.map((v) => (v.workflow_id !== 'wf-ml' ? v : { ...v, status: v.version === 1 ? 'active' : 'deprecated' }));
    fake.world.workflows = fake.world.workflows.map((w) => (w.id === 'wf-ml' ? { ...w, active_version: 1 } : w));
    fake.world.targetHealth = { 'wf-ml@2': badV2 };
    await act(async () => {
      await Promise.all([useConnections.getState().load(), useWorkflows.getState().load(), useRuns.getState().load()]);
    });
    render(<App />);
    fireEvent.click(screen.getAllByTestId('workflow-row')[0]!);
    const forward = await screen.findByRole('button', { name: /Make v2 active again \(marked bad\)|Make v2 active again/ });
    expect(forward.textContent).toBe('Make v2 active again');
    expect(forward.dataset.direction).toBe('forward');
    fireEvent.click(forward);
    const dialog = await screen.findByTestId('rollback-dialog');
    expect(within(dialog).getByRole('heading', { level: 2 }).textContent).toBe('Make v2 of ml-training-pipeline active again');
    expect(within(dialog).getByTestId('rollback-target-warning').textContent).toContain('v2 is marked bad. v2 failed 2 of its 3 finished runs');
    fireEvent.change(within(dialog).getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    expect((within(dialog).getByTestId('rollback-submit') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(within(dialog).getByTestId('rollback-confirm-version'), { target: { value: 'v2' } });
    expect((within(dialog).getByTestId('rollback-submit') as HTMLButtonElement).disabled).toBe(false);
    expect(within(dialog).getByTestId('rollback-submit').textContent).toBe('Make v2 active again');

    // The same preview with a healthy target: the name alone confirms it, off production.
    const preview = useRollback.getState().preview!;
    const healthy = { ...preview, target_health: { ...badV2, failed: 0, failure_rate: 0, bad: false, reason: null } };
    expect(confirmationMet({ preview: healthy, confirmName: 'ml-training-pipeline', confirmVersion: '' }, false)).toBe(true);
    expect(confirmationMet({ preview, confirmName: 'ml-training-pipeline', confirmVersion: '' }, false)).toBe(false);
  });

  it('names each action for what it is', () => {
    expect(rollbackWording({ from_version: 4, to_version: 3, workflow_name: 'etl' })).toMatchObject({ forward: false, title: 'Roll back etl to v3', action: 'Roll back to v3' });
    expect(rollbackWording({ from_version: 2, to_version: 4, workflow_name: 'etl' })).toMatchObject({ forward: true, title: 'Make v4 of etl active again', action: 'Make v4 active again' });
  });

  it('the result offers Resume for each resumable run, on the version rolled back to', async () => {
    await act(async () => {
      await Promise.all([useConnections.getState().load(), useWorkflows.getState().load()]);
    });
    render(<App />);
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    fireEvent.change(screen.getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    fireEvent.click(screen.getByTestId('rollback-submit'));
    const result = await screen.findByTestId('rollback-result');
    const resume = within(result).getByTestId('rollback-resume-run');
    expect(resume.textContent).toBe('Resume on v1');
    fireEvent.click(resume);
    await waitFor(() => expect(within(result).getByTestId('rollback-resumed-child').textContent).toBe('Resumed as run-failed-resumed'));
    expect(fake.callsOf('runs:resume')).toEqual([{ run_id: 'run-failed', version: 1 }]);
  });
});

describe('the incident card', () => {
  const card = (over: Partial<FailingWorkflow>): FailingWorkflow => ({ ...fake.world.incidents.failing[0]!, ...over });

  it('names the latest error line and who put the bad version forward, and when', async () => {
    fake.world.incidents = {
      ...fake.world.incidents,
      failing: [card({ latest_error: 'registry-v2 connection refused', latest_failed_node: 'deploy', bad_version: 2, bad_published_by: 'mina.kim', bad_published_at: fake.world.incidents.generated_at, policy_rollback: null })],
    };
    await act(() => useIncidents.getState().load());
    render(<IncidentHome />);
    const item = screen.getByTestId('incident-item');
    expect(within(item).getByTestId('incident-error').textContent).toBe('deploy: registry-v2 connection refused');
    expect(within(item).getByTestId('incident-published').textContent).toMatch(/^v2 published by mina\.kim /);
  });

  it('a canary the policy rolled back is under "Recently rolled back", says what the policy did, and offers no resume of its runs', async () => {
    const rolled = card({
      workflow_id: 'wf-ml',
      active_version: 1,
      last_good: 1,
      bad_since: 2,
      latest_failed_version: 2,
      bad_version: 2,
      bad_published_by: 'admin-bo',
      bad_published_at: fake.world.incidents.generated_at,
      policy_rollback: { seq: 40, ts: fake.world.incidents.generated_at, actor: 'policy:canary', from_version: 2, to_version: 1, reason: 'failure rate 66.7 % over 3 runs broke the limit of 30 %', runs: 3, failures: 2, failure_rate: 2 / 3 },
    });
    expect(suggestedAction(card({ active_version: 1, last_good: 1, latest_failed_version: 2 }))).toMatchObject({ kind: 'resume' });
    expect(suggestedAction(rolled)).toMatchObject({ kind: 'open-run' });
    fake.world.incidents = { ...fake.world.incidents, failing: [rolled] };
    expect(homeSections(fake.world.incidents).map((s) => s.kind)).toEqual(['rolled-back']);
    await act(() => useIncidents.getState().load());
    render(<IncidentHome />);
    expect(screen.queryByTestId('home-section-failing')).toBeNull();
    expect(screen.getByTestId('home-clear')).toBeTruthy();
    const section = screen.getByTestId('home-section-rolled-back');
    expect(within(section).getByRole('heading').textContent).toContain('Recently rolled back');
    expect(within(section).getByTestId('incident-policy').textContent).toContain('policy:canary rolled v2 back to v1: failure rate 66.7 % over 3 runs broke the limit of 30 %');
    expect(within(section).getByTestId('incident-action').dataset.action).toBe('open-run');
    expect(buildCommands().map((c) => c.title).filter((t) => t.startsWith('Resume run'))).toEqual([]);
  });
});
