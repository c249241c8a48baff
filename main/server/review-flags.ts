import { type ReviewAction, reviewActions } from '../../preload/contract/reviews.js';
import { DEFAULT_REVIEW_EXPIRY_MS } from '../engine/reviews.js';
import { RewindError } from '../engine/errors.js';
import type { ReviewPolicy } from '../backends/engine-backend.js';

/*
 * --require-review publish,promote[,rollback] and --review-expiry DURATION: which actions a second
 * person must approve on this server, and how long a request waits. Bad values are refused at start
 * (the server exits 2 naming them), never ignored: a typo must not leave production unreviewed.
 */

const known: ReadonlySet<string> = new Set(reviewActions);

/** The actions a comma-separated list names (an empty list, or `none`: no review). */
export function parseReviewActions(value: string, source: string): ReadonlySet<ReviewAction> {
  const words = value.split(',').map((w) => w.trim().toLowerCase()).filter((w) => w !== '');
  if (words.length === 1 && words[0] === 'none') return new Set();
  const bad = words.filter((w) => !known.has(w));
  if (bad.length > 0) {
    throw new RewindError(
      'VALIDATION_FAILED',
      `${source} names ${bad.map((w) => `"${w}"`).join(', ')}, which ${bad.length === 1 ? 'is not an action' : 'are not actions'} Rewind can review.`,
      `List some of ${reviewActions.join(', ')}, comma-separated (e.g. --require-review publish,promote), or none.`,
    );
  }
  return new Set(words as ReviewAction[]);
}

const units: Record<string, number> = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** A duration such as 30m, 90s, 2h (a bare number is minutes); at least a second. */
export function parseReviewExpiry(value: string, source: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$/i.exec(value);
  const ms = m ? Number(m[1]) * units[(m[2] ?? 'm').toLowerCase()]! : Number.NaN;
  if (!(ms >= 1000) || !Number.isFinite(ms)) {
    throw new RewindError('VALIDATION_FAILED', `${source} must be a duration such as 30m, 90s or 2h; got "${value}".`, 'Pass e.g. --review-expiry 30m (the default).');
  }
  return Math.round(ms);
}

/** The server's review policy from its flags or environment; null when nothing is reviewed. */
export function reviewPolicyFrom(
  flags: { 'require-review'?: string | undefined; 'review-expiry'?: string | undefined },
  env: Record<string, string | undefined>,
): ReviewPolicy | null {
  const listFlag = flags['require-review'];
  const list = listFlag ?? (env.REWIND_REQUIRE_REVIEW || undefined);
  const expiryFlag = flags['review-expiry'];
  const expiry = expiryFlag ?? (env.REWIND_REVIEW_EXPIRY || undefined);
  const expiryMs = expiry === undefined ? DEFAULT_REVIEW_EXPIRY_MS : parseReviewExpiry(expiry, expiryFlag === undefined ? 'REWIND_REVIEW_EXPIRY' : '--review-expiry');
  if (list === undefined) return null;
  const actions = parseReviewActions(list, listFlag === undefined ? 'REWIND_REQUIRE_REVIEW' : '--require-review');
  return actions.size === 0 ? null : { actions, expiryMs };
}

export const reviewUsage = `  --require-review LIST  a second person approves these actions: publish, promote, rollback
                      (comma-separated; rollbacks are the emergency exit, so only when listed) [none]  REWIND_REQUIRE_REVIEW
  --review-expiry D   how long a review request waits for an answer (30m, 90s, 2h)  [30m]  REWIND_REVIEW_EXPIRY`;
