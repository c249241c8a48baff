import type { Review, Role } from '../../preload/contract/index.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { absoluteTime, relativeTime } from '../home/home-model.js';
import { openWorkflow } from '../home/incident-actions.js';
import { useConnections } from '../store/connections-store.js';
import { useReviews } from '../store/reviews-store.js';
import { selectActor, selectRole } from '../store/selectors.js';
import { expiresIn, mayAnswer, reviewWhat } from './review-text.js';

function ReviewItem({ review, now, role, me }: { review: Review; now: number; role: Role | null; me: string | null }) {
  const { ask } = useReviews.getState();
  const own = me !== null && review.requested_by === me;
  const expired = Date.parse(review.expires_at) <= now;
  const may = mayAnswer(role, review.action);
  const what = reviewWhat(review);
  return (
    <li className="waiting-item" data-testid="home-review" data-review-id={review.review_id} data-own={own ? 'true' : undefined}>
      <div className="incident-head">
        <button type="button" className="link-button incident-name" title={review.workflow_name} onClick={() => openWorkflow(review.workflow_id)}>
          {review.workflow_name}
        </button>
        <StatusBadge status={expired ? 'failed' : 'waiting'} label={expired ? 'expired' : own ? 'waiting for another person' : 'waiting for review'} />
      </div>
      <p className="incident-facts">
        <span data-testid="home-review-what">{what}</span>
        <span data-testid="home-review-who">
          asked by <strong>{review.requested_by}</strong>{' '}
          <time dateTime={review.requested_at} title={absoluteTime(review.requested_at)}>
            {relativeTime(review.requested_at, now)}
          </time>
        </span>
        <span className="muted" data-testid="home-review-expires" title={absoluteTime(review.expires_at)}>
          {expired ? 'expired' : `expires ${expiresIn(review.expires_at, now)}`}
        </span>
      </p>
      {expired ? null : (
        <div className="incident-actions">
          {own ? (
            <span className="muted" data-testid="home-review-own">
              Your request: another person must approve it.
            </span>
          ) : (
            <button
              type="button"
              className="btn btn-primary btn-small"
              disabled={!may.allowed}
              title={may.allowed ? undefined : may.reason}
              aria-label={`Approve: ${what} of ${review.workflow_name}, asked by ${review.requested_by}`}
              onClick={() => void ask(review, 'approve')}
              data-testid="home-review-approve"
            >
              Approve…
            </button>
          )}
          <button
            type="button"
            className="btn btn-small"
            disabled={!may.allowed}
            title={may.allowed ? undefined : may.reason}
            aria-label={`${own ? 'Withdraw' : 'Decline'}: ${what} of ${review.workflow_name}`}
            onClick={() => void ask(review, 'decline')}
            data-testid="home-review-decline"
          >
            {own ? 'Withdraw…' : 'Decline…'}
          </button>
          {may.allowed ? null : <span className="muted">{may.reason}</span>}
        </div>
      )}
    </li>
  );
}

/** Publishes, promotes and rollbacks this server holds for a second person: who asked, what, since when, until when. */
export function WaitingForReview({ now }: { now: number }) {
  const pending = useReviews((s) => s.pending);
  const more = useReviews((s) => s.more);
  const error = useReviews((s) => s.error);
  const role = useConnections(selectRole);
  const me = useConnections(selectActor);
  if (pending.length === 0 && !error) return null;
  return (
    <section className="home-section" aria-labelledby="home-reviews" data-testid="home-section-reviews">
      <h2 id="home-reviews">
        Waiting for review <span className="muted">{pending.length}{more ? '+' : ''}</span>
      </h2>
      {error ? <ErrorNotice error={error} onReload={() => void useReviews.getState().load()} testId="home-reviews-error" /> : null}
      <ul className="home-list">
        {pending.map((r) => (
          <ReviewItem key={r.review_id} review={r} now={now} role={role} me={me} />
        ))}
      </ul>
    </section>
  );
}
