import { DiffSummary } from '../diff/DiffSummary.js';
import { Dialog } from '../shared/Dialog.js';
import { ErrorNotice } from '../shared/ErrorNotice.js';
import { Progress } from '../shared/Progress.js';
import { useReviews } from '../store/reviews-store.js';
import { diffVersions, reviewWhat } from './review-text.js';

/** Approving shows what it will do (the diff from the active version) and asks once more; declining takes an optional note. */
export function ReviewAnswerDialog() {
  const confirming = useReviews((s) => s.confirming);
  const diff = useReviews((s) => s.diff);
  const diffError = useReviews((s) => s.diffError);
  const note = useReviews((s) => s.note);
  const sending = useReviews((s) => s.sending);
  const error = useReviews((s) => s.answerError);
  if (!confirming) return null;
  const { review, answer } = confirming;
  const { setNote, confirm, cancel } = useReviews.getState();
  const what = reviewWhat(review);
  const versions = diffVersions(review);
  const approve = answer === 'approve';
  const returnFocus = () => document.querySelector<HTMLElement>(`[data-testid="home-review"][data-review-id="${review.review_id}"] [data-testid="home-review-${answer}"]`);
  return (
    <Dialog title={approve ? `Approve: ${what}?` : `Decline: ${what}?`} onClose={cancel} testId="review-answer-dialog" returnFocus={returnFocus} wide={approve}>
      <form
        className="form confirm-form"
        onSubmit={(e) => {
          e.preventDefault();
          void confirm();
        }}
      >
        <p data-testid="review-answer-consequence">
          {approve
            ? `${what} of ${review.workflow_name} happens now, recorded as ${review.requested_by}'s, with you as the reviewer.`
            : `Nothing happens to ${review.workflow_name}; ${review.requested_by} sees the request declined.`}
        </p>
        {approve ? (
          <div className="review-diff" data-testid="review-answer-diff">
            {versions ? <h3>What changes: v{versions.from} → v{versions.to}</h3> : null}
            {diff ? <DiffSummary diff={diff} /> : null}
            {versions && !diff && !diffError ? <Progress label="Reading the diff…" /> : null}
            {diffError ? <ErrorNotice error={diffError} testId="review-answer-diff-error" /> : null}
          </div>
        ) : null}
        <label>
          <span>Note (optional, kept in the audit log)</span>
          <input className="input" value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} autoComplete="off" data-testid="review-answer-note" />
        </label>
        {error ? <ErrorNotice error={error} focusOnMount testId="review-answer-error" /> : null}
        <div className="form-actions">
          <button type="button" className="btn" onClick={cancel} data-testid="review-answer-cancel">
            Cancel
          </button>
          <button type="submit" className={approve ? 'btn btn-primary' : 'btn btn-danger'} disabled={sending} data-autofocus data-testid="review-answer-submit">
            {approve ? `Approve: ${what}` : 'Decline'}
          </button>
        </div>
        {sending ? <Progress label={approve ? 'Approving…' : 'Declining…'} /> : null}
      </form>
    </Dialog>
  );
}
