import type { RollbackPreview } from '../../preload/contract/index.js';
import { StatusBadge } from '../shared/StatusBadge.js';

/** The runs a rollback touches: those in flight, and the failed ones that could resume on the target. */
export function RunImpact({ preview, onOpenRun, resumableOnly = false }: { preview: RollbackPreview; onOpenRun: (runId: string) => void; resumableOnly?: boolean }) {
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
        {resumableOnly ? null : <h3>Failed or interrupted ({preview.resumable.length})</h3>}
        {preview.resumable.length === 0 ? (
          resumableOnly ? null : <p className="muted">No failed run waits for a resume.</p>
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
                <button type="button" className="btn btn-small" onClick={() => onOpenRun(run.run_id)}>
                  Inspect
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
