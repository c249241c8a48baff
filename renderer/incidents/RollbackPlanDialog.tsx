import { ReportMarkdown } from '../runbooks/ReportMarkdown.js';
import { CopyButton } from '../shared/CopyButton.js';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useIncidentRecords } from '../store/incident-records-store.js';

/** Seed 003's rollback plan for an open incident, filled from the rollback preview: read and copy it before acting, attach it to the report. */
export function RollbackPlanDialog() {
  const plan = useIncidentRecords((s) => s.plan);
  const loading = useIncidentRecords((s) => s.planLoading);
  const error = useIncidentRecords((s) => s.planError);
  const attached = useIncidentRecords((s) => s.planAttached);
  if (!plan && !loading && !error) return null;
  const store = useIncidentRecords.getState();
  return (
    <Dialog title={`Rollback plan${plan ? ` — ${plan.incident_id}` : ''}`} onClose={() => store.closePlan()} testId="rollback-plan-dialog" wide>
      {loading ? <Progress label="Reading the rollback preview…" /> : null}
      {error ? <ErrorNotice error={error} testId="rollback-plan-error" /> : null}
      {plan ? (
        <>
          <div className="form-actions report-actions">
            <CopyButton text={plan.markdown} label="Copy Markdown" testId="rollback-plan-copy" />
            {/* Stays enabled once attached: a disabled button would drop the keyboard's focus out of the dialog. */}
            <button type="button" className="btn" onClick={() => void store.attachPlan()} data-autofocus data-testid="rollback-plan-attach">
              {attached ? 'Attached to the report' : 'Attach to the report'}
            </button>
          </div>
          <article className="report-rendered" tabIndex={0} aria-label="Rollback plan" data-testid="rollback-plan-text">
            <ReportMarkdown markdown={plan.markdown} />
          </article>
        </>
      ) : null}
    </Dialog>
  );
}
