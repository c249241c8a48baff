import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useApprovalAnswer } from '../store/approval-answer-store.js';
import { ApprovalSummary } from './ApprovalSummary.js';

/** On a production connection, Approve and Deny ask first: the prompt named, the decision spelled out. */
export function ApprovalConfirmDialog() {
  const confirming = useApprovalAnswer((s) => s.confirming);
  const comment = useApprovalAnswer((s) => s.comment);
  const sending = useApprovalAnswer((s) => s.sendingRunId !== null);
  const error = useApprovalAnswer((s) => s.error);
  if (!confirming) return null;
  const { approval, decision } = confirming;
  const { setComment, confirm, cancel } = useApprovalAnswer.getState();
  const verb = decision === 'approve' ? 'Approve' : 'Deny';
  const runId = approval.run.run_id;
  // Back where the answer was asked: the request's row on the home, else the inspector's button.
  const returnFocus = () =>
    document.querySelector<HTMLElement>(`[data-testid="home-waiting"][data-run-id="${runId}"] [data-testid="home-${decision}"]`) ??
    document.querySelector<HTMLElement>(`[data-testid="approval-${decision}"]`);
  return (
    <Dialog title={`${verb} on production?`} onClose={cancel} testId="approval-confirm-dialog" returnFocus={returnFocus}>
      <form
        className="form confirm-form"
        onSubmit={(e) => {
          e.preventDefault();
          void confirm();
        }}
      >
        <p className="production-warning">
          <StatusBadge status="production" label="PRODUCTION" />{' '}
          {decision === 'approve' ? `The run of ${approval.workflow_name} goes on past this gate.` : `The run of ${approval.workflow_name} ends denied; it does not go on.`}
        </p>
        <ApprovalSummary approval={approval} />
        <label>
          <span>Comment (optional, kept in the audit log)</span>
          <input className="input" value={comment} maxLength={2000} onChange={(e) => setComment(e.target.value)} autoComplete="off" data-testid="approval-confirm-comment" />
        </label>
        {error && error.runId === runId ? <ErrorNotice error={error.error} focusOnMount testId="approval-confirm-error" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={cancel} data-testid="approval-confirm-cancel">
            Cancel
          </button>
          <button type="submit" className={decision === 'approve' ? 'btn btn-primary' : 'btn btn-danger'} disabled={sending} data-autofocus data-testid="approval-confirm-submit">
            {verb}: {approval.prompt ?? `the approval at ${approval.node_id ?? 'its gate'}`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
