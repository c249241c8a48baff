import { ErrorNotice } from '../shared/ErrorNotice.js';
import { formatDuration, formatTime } from '../shared/format.js';
import { Progress } from '../shared/Progress.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useInspector } from '../store/inspector-store.js';
import { ApprovalPanel } from './ApprovalPanel.js';
import { CheckpointPanel } from './CheckpointPanel.js';
import { DagView } from './DagView.js';
import { ReplayPanel } from './ReplayPanel.js';
import { ResumePanel } from './ResumePanel.js';
import { RunTimeline } from './RunTimeline.js';

/** One run: its graph, its checkpoints, and what can be done with it (resume, replay). */
export function RunInspector() {
  const run = useInspector((s) => s.run);
  const runId = useInspector((s) => s.runId);
  const loading = useInspector((s) => s.loading);
  const error = useInspector((s) => s.error);

  if (!runId) {
    return (
      <section className="run-inspector empty-state" aria-label="Run inspector">
        <h2>Pick a run</h2>
        <p className="muted">Its graph, checkpoints, resume and replay appear here.</p>
      </section>
    );
  }
  return (
    <section className="run-inspector" aria-label={`Run ${runId}`} data-testid="run-inspector" data-run-id={runId}>
      {loading ? <Progress label="Loading the run…" /> : null}
      {error ? <ErrorNotice error={error} onReload={() => void useInspector.getState().open(runId)} testId="inspector-error" /> : null}
      {run ? (
        <>
          <header className="inspector-header">
            <h2 className="mono" tabIndex={-1} data-testid="inspector-title">
              {run.run_id}
            </h2>
            <StatusBadge status={run.status} testId="inspector-status" />
            <span className="muted" data-testid="inspector-trigger">
              v{run.version} · {run.trigger}
              {run.logical_date ? ` for the tick ${formatTime(run.logical_date)}` : ''}
            </span>
            <span className="muted">started {formatTime(run.started_at)}</span>
            <span className="muted">{formatDuration(run.started_at, run.finished_at)}</span>
            {run.parent_run_id ? (
              <button type="button" className="btn btn-small" onClick={() => void useInspector.getState().open(run.parent_run_id!)} data-testid="inspector-parent">
                parent {run.parent_run_id}
                {run.resumed_from_seq === null ? '' : ` (after #${run.resumed_from_seq})`}
              </button>
            ) : null}
          </header>
          {run.error ? (
            <p className={run.status === 'denied' ? 'run-denied' : 'run-error'} data-testid="inspector-run-error">
              {run.failed_node ? <strong>{run.failed_node}: </strong> : null}
              {run.error}
            </p>
          ) : null}
          {run.status === 'waiting' ? <ApprovalPanel /> : null}
          <DagView />
          <RunTimeline />
          <CheckpointPanel />
          {run.status === 'failed' || run.status === 'interrupted' || run.status === 'denied' ? <ResumePanel /> : null}
          {run.status === 'queued' || run.status === 'running' || run.status === 'waiting' ? null : <ReplayPanel />}
        </>
      ) : null}
    </section>
  );
}
