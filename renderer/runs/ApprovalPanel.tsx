import { ApprovalSummary } from '../approvals/ApprovalSummary.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { GuardedButton } from '../shared/GuardedButton.js';
import { useApprovalAnswer } from '../store/approval-answer-store.js';
import { useConnections } from '../store/connections-store.js';
import { useInspector } from '../store/inspector-store.js';
import { selectRole } from '../store/selectors.js';

/** A run held at an approval node: what it asks, who asks, what it has done; approve lets it go on, deny ends it denied. */
export function ApprovalPanel() {
  const request = useInspector((s) => s.approvalRequest);
  const run = useInspector((s) => s.run);
  const comment = useInspector((s) => s.approval.comment);
  const role = useConnections(selectRole);
  const busy = useApprovalAnswer((s) => s.sendingRunId !== null && s.sendingRunId === run?.run_id);
  const error = useApprovalAnswer((s) => (s.error && s.error.runId === run?.run_id && !s.confirming ? s.error.error : null));
  if (!run) return null;
  const approval = request ?? { run, workflow_name: run.workflow_id, node_id: null, prompt: null, requested_at: null, timeout_ms: null, done: [], nodes_total: 0 };
  const answer = (decision: 'approve' | 'deny') => void useApprovalAnswer.getState().ask(approval, decision, 'inspector', comment);
  return (
    <section className="approval-panel" aria-label="Approval" data-testid="approval-panel">
      <h3>Waiting for approval</h3>
      <ApprovalSummary approval={approval} />
      <label>
        Comment (optional)
        <input type="text" className="input" value={comment} maxLength={2000} onChange={(e) => useInspector.getState().setApprovalComment(e.target.value)} data-testid="approval-comment" />
      </label>
      <div className="form-actions">
        <GuardedButton action="approve" role={role} className="btn btn-primary" disabled={busy} onClick={() => answer('approve')} testId="approval-approve">
          Approve
        </GuardedButton>
        <GuardedButton action="approve" role={role} className="btn btn-danger" disabled={busy} onClick={() => answer('deny')} testId="approval-deny">
          Deny
        </GuardedButton>
      </div>
      {error ? <ErrorNotice error={error} testId="approval-error" /> : null}
    </section>
  );
}
