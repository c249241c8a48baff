// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { IncidentHome } from '../../../renderer/home/IncidentHome.js';
import { IncidentReportDialog } from '../../../renderer/incidents/IncidentReportDialog.js';
import { incidentTimes } from '../../../renderer/incidents/incident-times.js';
import { RollbackPlanDialog } from '../../../renderer/incidents/RollbackPlanDialog.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useIncidentRecords } from '../../../renderer/store/incident-records-store.js';
import { useIncidents } from '../../../renderer/store/incidents-store.js';
import { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/* The incident record on the home's card, its report (read, edit, save over a revision, export) and the rollback plan. */

let fake: FakeBridge;
beforeEach(async () => {
  fake = freshConsole();
  await useIncidents.getState().load();
  await useIncidentRecords.getState().load();
});

function renderHome() {
  return render(
    <>
      <IncidentHome />
      <IncidentReportDialog />
      <RollbackPlanDialog />
    </>,
  );
}

describe('incident records in the console', () => {
  it('shows the open record on the failing card, and "I’m on it" records who and how long it took', async () => {
    renderHome();
    const record = screen.getByTestId('incident-record');
    expect(record.dataset.incidentId).toBe('inc-ml');
    expect(screen.getByTestId('incident-record-stage').textContent).toBe('open');
    expect(record.textContent).toContain('nobody has acknowledged it yet');
    fireEvent.click(screen.getByTestId('incident-ack'));
    await waitFor(() => expect(screen.getByTestId('incident-record-stage').textContent).toBe('acknowledged'));
    expect(screen.getByTestId('incident-record-times').textContent).toContain('acknowledged by mina.kim in 2 min');
    expect(screen.queryByTestId('incident-ack')).toBeNull();
  });

  it('a viewer may not acknowledge: the button is disabled and says why', async () => {
    fake.world.connections = fake.world.connections.map((c) => (c.selected ? { ...c, role: 'viewer' as const } : c));
    await useConnections.getState().load();
    renderHome();
    const ack = screen.getByTestId('incident-ack') as HTMLButtonElement;
    expect(ack.disabled).toBe(true);
  });

  it('opens the report, saves the human fields over their revision, and keeps the draft when another save came first', async () => {
    renderHome();
    fireEvent.click(screen.getByTestId('incident-report'));
    await waitFor(() => expect(screen.getByTestId('incident-report-text').textContent).toContain('Post-incident report: ml-pipeline v2'));
    expect(screen.getByTestId('incident-report-revision').textContent).toContain('revision 0');
    fireEvent.change(screen.getByTestId('incident-report-root_cause'), { target: { value: 'registry URL changed' } });
    fireEvent.click(screen.getByTestId('incident-report-save'));
    await waitFor(() => expect(screen.getByTestId('incident-report-revision').textContent).toContain('revision 1'));
    expect(screen.getByTestId('incident-report-text').textContent).toContain('registry URL changed');

    // Someone else saves in between: the save is refused, shown, and this draft stays to merge.
    fake.world.incidentReports['inc-ml'] = { ...fake.world.incidentReports['inc-ml']!, revision: 2, edited_by: 'jun.park' };
    fireEvent.change(screen.getByTestId('incident-report-lessons'), { target: { value: 'canary the registry switch' } });
    fireEvent.click(screen.getByTestId('incident-report-save'));
    await waitFor(() => expect(screen.getByTestId('incident-report-error').textContent).toContain('jun.park'));
    expect((screen.getByTestId('incident-report-lessons') as HTMLTextAreaElement).value).toBe('canary the registry switch');
  });

  it('plans the rollback, copyable, and attaches the plan to the report', async () => {
    renderHome();
    fireEvent.click(screen.getByTestId('incident-plan'));
    await waitFor(() => expect(screen.getByTestId('rollback-plan-text').textContent).toContain('Target version: v1 (the last good version)'));
    expect(screen.getByTestId('rollback-plan-copy')).toBeTruthy();
    fireEvent.click(screen.getByTestId('rollback-plan-attach'));
    await waitFor(() => expect(screen.getByTestId('rollback-plan-attach').textContent).toBe('Attached to the report'));
    expect(fake.world.incidentReports['inc-ml']?.fields.rollback_plan).toContain('# Rollback plan: ml-pipeline');
  });

  it('words the times from the first failure', () => {
    const r = fake.world.incidentRecords[0]!;
    expect(incidentTimes(r)).toEqual([]);
    expect(
      incidentTimes({
        ...r,
        acknowledged: { by: 'bob', at: r.first_failure_at, seq: 6 },
        time_to_acknowledge_s: 60,
        mitigated: { by: 'policy:canary', action: 'rollback', at: r.first_failure_at, seq: 7 },
        time_to_mitigate_s: 150,
      }),
    ).toEqual(['acknowledged by bob in 1 min', 'mitigated (rollback by policy:canary) in 2 min 30 s']);
  });
});
