import { ErrorNotice } from '../shared/ErrorNotice.js';
import { useInspector } from '../store/inspector-store.js';

/** A run held at an approval node: approve lets it continue, deny fails it. */
export function ApprovalPanel() {
  const comment = useInspector((s) => s.approval.comment);
  const busy = useInspector((s) => s.approval.busy);
  const error = useInspector((s) => s.approval.error);
  const { setApprovalComment, answerApproval } = useInspector.getState();
  return (
    <section className="approval-panel" aria-label="Approval" data-testid="approval-panel">
      <h3>Waiting for approval</h3>
      <label>
        Comment (optional)
        <input type="text" value={comment} maxLength={2000} onChange={(e) => setApprovalComment(e.target.value)} data-testid="approval-comment" />
      </label>
      <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void answerApproval('approve')} data-testid="approval-approve">
        Approve
      </button>
      <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void answerApproval('deny')} data-testid="approval-deny">
        Deny
      </button>
      {error ? <ErrorNotice error={error} testId="approval-error" /> : null}
    </section>
  );
}
