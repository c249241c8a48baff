import { type ActionResult, type RollbackResult, isReviewRequested } from '../../preload/contract/index.js';

/** The result of a publish, promote or rollback that acted (a connection without review); fails the test on a review request. */
export function acted(result: ActionResult): RollbackResult {
  if (isReviewRequested(result)) throw new Error(`Expected the action to apply, but it was sent for review: ${result.message}`);
  return result;
}
