import type { WaitingApproval } from '../../preload/contract/index.js';
import { askerText, doneText, promptText } from './approval-text.js';

/** What an approver judges by: the prompt, who asks, and what the run has done so far. */
export function ApprovalSummary({ approval }: { approval: WaitingApproval }) {
  const done = doneText(approval.done, approval.nodes_total || null);
  return (
    <div className="approval-summary">
      <p className="approval-prompt" data-testid="approval-prompt">
        {promptText(approval)}
      </p>
      <p className="muted approval-asker" data-testid="approval-asker">
        {askerText(approval)}
        {approval.node_id ? ` · waits at ${approval.node_id}` : ''}
      </p>
      {done ? (
        <p className="muted approval-done" data-testid="approval-done">
          {done}
        </p>
      ) : null}
    </div>
  );
}
