import { useEffect } from 'react';
import { openRun, startRunAndOpen } from '../home/incident-actions.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { DiffPanel } from '../diff/DiffPanel.js';
import { CanaryBand } from '../canary/CanaryBand.js';
import { SchedulePanel } from '../schedules/SchedulePanel.js';
import { Timeline } from '../timeline/Timeline.js';
import { useCanary } from '../store/canary-store.js';
import { useRuns } from '../store/runs-store.js';
import { useConnections } from '../store/connections-store.js';
import { useIncidents } from '../store/incidents-store.js';
import { selectIncidentFor, selectRole, selectSelectedWorkflow } from '../store/selectors.js';
import { useTimeline } from '../store/timeline-store.js';
import { useUi } from '../store/ui-store.js';
import { useWorkflows } from '../store/workflows-store.js';

/** One workflow: its state, its version timeline and the diff of the two versions picked. */
export function WorkflowView() {
  const wf = useWorkflows(selectSelectedWorkflow);
  const busy = useWorkflows((s) => s.busy);
  const actionError = useWorkflows((s) => s.actionError);
  const pauseAsked = useWorkflows((s) => s.pauseAsked !== null);
  const workflowId = wf?.id ?? null;
  const role = useConnections(selectRole);
  const failingRunId = useIncidents((s) => selectIncidentFor(workflowId)(s)?.latest_failed_run_id ?? null);

  useEffect(() => {
    if (workflowId) {
      void useTimeline.getState().load(workflowId);
      void useCanary.getState().loadHealth(workflowId);
    }
  }, [workflowId]);

  if (!wf) {
    return (
      <section className="empty-state" aria-label="No workflow selected">
        <h2 tabIndex={-1} data-view-heading>
          Pick a workflow
        </h2>
        <p className="muted">Choose one on the left, or press Ctrl+K and type its name.</p>
      </section>
    );
  }

  const showRuns = () => {
    void useRuns.getState().setFilter({ workflowId: wf.id, status: null });
    useUi.getState().setView('runs');
  };
  // The failed badge opens the failing run itself, beside the workflow's run list.
  const showFailed = () => {
    showRuns();
    if (failingRunId) openRun(failingRunId);
  };

  return (
    <section className="workflow-view" aria-label={`Workflow ${wf.name}`} data-testid="workflow-view">
      <header className="workflow-header">
        <div className="workflow-title">
          <h1 tabIndex={-1} data-view-heading data-testid="workflow-title" title={wf.name}>
            {wf.name}
          </h1>
          <StatusBadge status={wf.status} testId="workflow-header-status" />
          <span className="muted" data-testid="workflow-active-version">
            active {wf.active_version === null ? '—' : `v${wf.active_version}`}
          </span>
          <span className="muted">rev {wf.revision}</span>
          <span className="muted" title={wf.code_file ? 'Changed only in the code folder: edits through the console are refused' : undefined} data-testid="workflow-source">
            {wf.source_type}
            {wf.code_file ? ` · ${wf.code_file}` : ''}
          </span>
          {wf.template ? (
            <span className="muted" data-testid="workflow-template">
              from template {wf.template.name} v{wf.template.version}
            </span>
          ) : null}
        </div>
        <div className="workflow-actions">
          {wf.failed_runs > 0 ? (
            <button type="button" className="btn btn-warn" onClick={showFailed} data-testid="workflow-failed-runs">
              {wf.failed_runs} failed run{wf.failed_runs === 1 ? '' : 's'}
            </button>
          ) : (
            <button type="button" className="btn" onClick={showRuns} data-testid="workflow-runs">
              Runs
            </button>
          )}
          <GuardedButton
            action="start"
            role={role}
            disabled={busy || wf.status !== 'active' || wf.active_version === null}
            onClick={() => void startRunAndOpen(wf.id)}
            testId="workflow-start-run"
          >
            Run now
          </GuardedButton>
          <GuardedButton action="pause" role={role} disabled={busy} onClick={() => (wf.status === 'active' ? useWorkflows.getState().askPause(wf.id) : void useWorkflows.getState().togglePause(wf.id))} testId="workflow-pause-toggle">
            {wf.status === 'active' ? 'Pause' : 'Unpause'}
          </GuardedButton>
        </div>
      </header>
      <SchedulePanel workflow={wf} />
      {wf.description ? <p className="muted workflow-description">{wf.description}</p> : null}
      {actionError && !pauseAsked ? (
        <ErrorNotice error={actionError} onReload={() => void useWorkflows.getState().load()} onDismiss={() => useWorkflows.getState().clearActionError()} focusOnMount testId="workflow-error" />
      ) : null}
      <CanaryBand workflow={wf} />
      <div className="workflow-body">
        <Timeline workflow={wf} />
        <DiffPanel />
      </div>
    </section>
  );
}
