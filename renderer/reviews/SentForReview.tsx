import type { ReviewRequested } from '../../preload/contract/index.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { reviewWhat } from './review-text.js';

/** A publish, promote or rollback this server reviews: said plainly, so nobody thinks it is done. */
export function SentForReview({ sent, onClose }: { sent: ReviewRequested; onClose?: () => void }) {
  const r = sent.review;
  return (
    <div className="sent-for-review" role="status" data-testid="sent-for-review" data-review-id={r.review_id}>
      <p>
        <StatusBadge status="waiting" label="sent for review" /> <strong>Sent for review — another person must approve.</strong>
      </p>
      <p className="muted">
        {reviewWhat(r)} of {r.workflow_name} waits on Home under “Waiting for review” until {new Date(r.expires_at).toLocaleTimeString()}; nothing has changed yet.
      </p>
      {onClose ? (
        <div className="form-actions">
          <button type="button" className="btn btn-primary" onClick={onClose} data-autofocus data-testid="sent-for-review-close">
            Close
          </button>
        </div>
      ) : null}
    </div>
  );
}
