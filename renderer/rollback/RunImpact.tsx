import type { RollbackPreview } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useConnections } from '../store/connections-store.js';
import type { RollbackState } from '../store/rollback-store.js';
import { selectRole } from '../store/selectors.js';

/**
 * The runs a rollback touches: those in flight, and the failed ones of the incident window that could
 * resume on the target. After the rollback (`onResume`), each resumable one offers its Resume.
 */
export function RunImpact({
  preview,
  onOpenRun,
  resumableOnly = false,
  resumes = {},
  onResume,
}: {
  preview: RollbackPreview;
  onOpenRun: (runId: string) => void;
  resumableOnly?: boolean;
  resumes?: RollbackState['resumes'];
  onResume?: (runId: string) => void;
}) {
  const role = useConnections(selectRole);
  return (
    <div className="run-impact">
      {resumableOnly ? null : (
        <section aria-label="Runs in flight" data-testid="rollback-in-flight">
          <h3>In flight ({preview.in_flight.length})</h3>
          {preview.in_flight.length === 0 ? (
            <p className="muted">No run is queued or running on another version.</p>
          ) : (
            <ul className="plain-list">
              {preview.in_flight.map((r) => (
                <li key={r.run_id}>
                  <StatusBadge status={r.status} /> <span className="mono">{r.run_id}</span> on v{r.version} — finishes on its version
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <section aria-label="Resumable runs" data-testid="rollback-resumable">
        {resumableOnly ? null : <h3>Failed or interrupted in the last 24 hours ({preview.resumable.length})</h3>}
        {preview.resumable.length === 0 ? (
          resumableOnly ? null : <p className="muted">No failed run of the last 24 hours waits for a resume.</p>
        ) : (
          <ul className="plain-list">
            {preview.resumable.map(({ run, compatibility }) => (
              <li key={run.run_id} data-testid="rollback-resumable-run" data-run-id={run.run_id}>
                <StatusBadge status={run.status} /> <span className="mono">{run.run_id}</span> (v{run.version}
                {run.failed_node ? `, failed at ${run.failed_node}` : ''}){' '}
                {compatibility.compatible ? (
                  <StatusBadge status="succeeded" label={`resumable on v${compatibility.version}`} testId="compat-ok" />
                ) : (
                  <StatusBadge status="failed" label={`missing ${compatibility.missing_nodes.join(', ')}`} testId="compat-missing" />
                )}{' '}
                {onResume && compatibility.compatible ? (
                  resumes[run.run_id]?.child ? (
                    <button type="button" className="btn btn-small" onClick={() => onOpenRun(resumes[run.run_id]!.child!.run_id)} data-testid="rollback-resumed-child">
                      Resumed as {resumes[run.run_id]!.child!.run_id}
                    </button>
                  ) : (
                    <GuardedButton
                      action="resume"
                      role={role}
                      className="btn btn-primary btn-small"
                      disabled={resumes[run.run_id]?.busy === true}
                      onClick={() => onResume(run.run_id)}
                      testId="rollback-resume-run"
                      label={`Resume ${run.run_id} on v${compatibility.version}`}
                    >
                      Resume on v{compatibility.version}
                    </GuardedButton>
                  )
                ) : null}{' '}
                <button type="button" className="btn btn-small" onClick={() => onOpenRun(run.run_id)}>
                  Inspect
                </button>
                {resumes[run.run_id]?.error ? <ErrorNotice error={resumes[run.run_id]!.error!} testId="rollback-resume-error" /> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
