import { randomUUID } from 'node:crypto';
import type { RollbackResult } from '../../preload/contract/entities.js';
import type { Review, ReviewAction, ReviewAnswer, ReviewList, ReviewRequested, ReviewStatus } from '../../preload/contract/reviews.js';
import type { EngineCore } from './core.js';
import { RewindError } from './errors.js';
import type { WorkflowService } from './workflows.js';

/** 30 minutes: long enough to find a second person, short enough that an old request is not approved blindly. */
export const DEFAULT_REVIEW_EXPIRY_MS = 30 * 60_000;

interface ReviewRow {
  review_id: string;
  action: ReviewAction;
  workflow_id: string;
  workflow_name: string;
  version: number;
  from_version: number | null;
  canary_percent: number | null;
  input: string;
  revision: number;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  status: ReviewStatus;
  answered_by: string | null;
  answered_at: string | null;
  note: string | null;
  result_seq: number | null;
}

/** How a reviewed action is done: its own answer, from its input as asked (with the revision the request was based on). */
export type PerformAction = (action: ReviewAction, input: Record<string, unknown>, actor: string) => Promise<RollbackResult>;

const SELECT = 'SELECT r.*, w.name AS workflow_name FROM review_requests r JOIN workflows w ON w.id = r.workflow_id';
const BY_ID = `${SELECT} WHERE r.review_id = ?`;
const PENDING = `${SELECT} WHERE r.status = 'pending' AND r.expires_at > ? ORDER BY r.requested_at, r.review_id LIMIT ?`;
const PENDING_COUNT = "SELECT COUNT(*) AS n FROM review_requests WHERE status = 'pending' AND expires_at > ?";
const ALL = `${SELECT} ORDER BY r.requested_at DESC, r.review_id DESC LIMIT ?`;
const ALL_COUNT = 'SELECT COUNT(*) AS n FROM review_requests';
const SAME_PENDING = "SELECT review_id, requested_by FROM review_requests WHERE workflow_id = ? AND action = ? AND version = ? AND status = 'pending' AND expires_at > ?";
const DUE = "SELECT review_id FROM review_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, review_id";
const INSERT = `INSERT INTO review_requests (review_id, action, workflow_id, version, from_version, canary_percent, input, revision, requested_by, requested_at, expires_at, status)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`;
const ANSWER = "UPDATE review_requests SET status = ?, answered_by = ?, answered_at = ?, note = ? WHERE review_id = ? AND status = 'pending'";
const EXPIRE = "UPDATE review_requests SET status = 'expired' WHERE review_id = ? AND status = 'pending'";
const SET_RESULT = 'UPDATE review_requests SET result_seq = ? WHERE review_id = ?';

/** Thrown inside the rehearsal of an action, so its savepoint is rolled back whatever it wrote. */
const REHEARSED = Symbol('rehearsed');

/**
 * Review requests (a server's --require-review). A reviewed action is first rehearsed inside a
 * savepoint that is always rolled back: a request is made only for an action that would apply now
 * (a refusal is answered at once, with its own code), and the rehearsal says which versions it moves.
 * Approving runs the action for real in the same unit of work as the answer, as the requester, based
 * on the revision the request saw; every answer takes the chain-head lock (as every mutation does) and
 * re-reads the request, so of two reviewers answering at once the second finds it answered.
 */
export class ReviewService {
  constructor(
    private readonly core: EngineCore,
    private readonly workflows: WorkflowService,
    /** Who an expiry is recorded as (nobody answered: the engine notes it). */
    private readonly systemActor: string,
  ) {}

  request(
    ask: { action: ReviewAction; workflow_id: string; input: Record<string, unknown>; expected_revision: number | undefined; canary_percent: number | null },
    actor: string,
    expiryMs: number,
    perform: PerformAction,
  ): Promise<ReviewRequested> {
    return this.core.mutate(async () => {
      const wf = await this.workflows.get(ask.workflow_id);
      this.workflows.checkRevision(wf, ask.expected_revision);
      const preview = await this.rehearse(() => perform(ask.action, ask.input, actor));
      const ts = this.core.now();
      const same = await this.core.q().get<{ review_id: string; requested_by: string }>(SAME_PENDING, [wf.id, ask.action, preview.version, ts]);
      if (same) {
        throw new RewindError(
          'REVIEW_PENDING',
          `The ${ask.action} of "${wf.name}" to v${preview.version} already waits for review (${same.review_id}, asked by ${same.requested_by}).`,
          'Ask another person to approve that request (rewind review list), or decline it before asking again.',
          { review_id: same.review_id },
        );
      }
      const review: Omit<ReviewRow, 'workflow_name' | 'input'> = {
        review_id: randomUUID(),
        action: ask.action,
        workflow_id: wf.id,
        version: preview.version,
        from_version: preview.from_version,
        canary_percent: ask.canary_percent,
        revision: wf.revision,
        requested_by: actor,
        requested_at: ts,
        expires_at: new Date(new Date(ts).getTime() + expiryMs).toISOString(),
        status: 'pending',
        answered_by: null,
        answered_at: null,
        note: null,
        result_seq: null,
      };
      const input = { ...ask.input, expected_revision: wf.revision };
      await this.core.q().run(INSERT, [
        review.review_id, review.action, review.workflow_id, review.version, review.from_version, review.canary_percent, JSON.stringify(input),
        review.revision, review.requested_by, review.requested_at, review.expires_at,
      ]);
      await this.core.append({
        type: 'review_requested',
        workflow_id: wf.id,
        actor,
        ts,
        payload: { review_id: review.review_id, action: review.action, workflow_id: wf.id, version: review.version, from_version: review.from_version, requested_by: actor, expires_at: review.expires_at },
      });
      const what = ask.action === 'publish' ? `Publishing v${review.version}` : ask.action === 'promote' ? `Promoting the canary v${review.version}` : `Rolling back to v${review.version}`;
      return {
        review_requested: true,
        message: `Sent for review — another person must approve. ${what} of "${wf.name}" waits for their answer until ${review.expires_at}.`,
        review: { ...review, workflow_name: wf.name },
      };
    });
  }

  /** The action's answer as it would be now, every write undone. */
  private async rehearse(perform: () => Promise<RollbackResult>): Promise<RollbackResult> {
    let result: RollbackResult | null = null;
    try {
      await this.core.mutate(async () => {
        result = await perform();
        throw REHEARSED;
      });
    } catch (err) {
      if (err !== REHEARSED) throw err;
    }
    return result!;
  }

  async list(status: 'pending' | 'all', limit: number): Promise<ReviewList> {
    const now = this.core.now();
    const q = this.core.q();
    const rows = status === 'pending' ? await q.all<ReviewRow>(PENDING, [now, limit]) : await q.all<ReviewRow>(ALL, [limit]);
    const { n } = (status === 'pending' ? await q.get<{ n: number }>(PENDING_COUNT, [now]) : await q.get<{ n: number }>(ALL_COUNT))!;
    return { reviews: rows.map((r) => this.toReview(r, now)), total: Number(n) };
  }

  async get(reviewId: string): Promise<Review> {
    return this.toReview(await this.row(reviewId), this.core.now());
  }

  /**
   * Approves or declines a pending request as `by`. Approving runs the action as the requester's, in
   * the same unit of work as the answer: both commit, or neither (a refusal of the action leaves the
   * request pending). A request past its expiry is first recorded as expired, and refused.
   */
  async answer(reviewId: string, answer: 'approved' | 'declined', by: string, note: string | undefined, perform: PerformAction): Promise<ReviewAnswer> {
    await this.expireDue();
    return this.core.mutate(async () => {
      const row = await this.row(reviewId);
      const current = this.toReview(row, this.core.now());
      if (current.status === 'expired') {
        throw new RewindError('REVIEW_EXPIRED', `The review request ${reviewId} expired unanswered at ${row.expires_at}.`, `Nothing was done. ${row.requested_by} must ask for the ${row.action} again if it is still wanted.`, {
          review_id: reviewId,
          expires_at: row.expires_at,
        });
      }
      if (current.status !== 'pending') {
        throw new RewindError(
          'REVIEW_ANSWERED',
          `The review request ${reviewId} was already ${current.status} by ${row.answered_by ?? '?'} at ${row.answered_at ?? '?'}.`,
          'Another reviewer answered first; reload the list to see the outcome.',
          { review_id: reviewId, status: current.status, answered_by: row.answered_by },
        );
      }
      if (answer === 'approved' && by === row.requested_by) {
        throw new RewindError('SELF_REVIEW', `${by} asked for this ${row.action}, so ${by} cannot approve it.`, 'Another person with the role to do it must approve it; you can decline (withdraw) your own request.', {
          review_id: reviewId,
          requested_by: row.requested_by,
        });
      }
      const wf = await this.workflows.get(row.workflow_id);
      if (answer === 'approved' && wf.revision !== row.revision) {
        throw new RewindError(
          'STALE_REVISION',
          `"${wf.name}" changed since the ${row.action} was asked for (revision ${row.revision} then, ${wf.revision} now): approving it would act on a workflow the requester did not see.`,
          `Decline this request; ${row.requested_by} can look at the workflow as it is now and ask again.`,
          { current_revision: wf.revision, expected_revision: row.revision, workflow: wf, review_id: reviewId },
        );
      }
      const ts = this.core.now();
      const noted = note === undefined || note === '' ? null : note;
      await this.core.q().run(ANSWER, [answer, by, ts, noted, reviewId]);
      await this.core.append({
        type: 'review_answered',
        workflow_id: row.workflow_id,
        actor: by,
        ts,
        payload: { review_id: reviewId, answer, by, ...(noted === null ? {} : { note: noted }), action: row.action, version: row.version, requested_by: row.requested_by },
      });
      let result: RollbackResult | null = null;
      if (answer === 'approved') {
        result = await perform(row.action, JSON.parse(row.input) as Record<string, unknown>, row.requested_by);
        await this.core.q().run(SET_RESULT, [result.seq, reviewId]);
      }
      return { review: this.toReview(await this.row(reviewId), ts), result };
    });
  }

  /** Records every pending request past its expiry as expired (`review_expired`); how many. */
  async expireDue(): Promise<number> {
    // Read first, outside the lock: the sweep runs every few seconds on every replica and usually finds nothing.
    if (!this.core.inMutation() && !(await this.core.store.read.get(DUE, [this.core.now()]))) return 0;
    return this.core.mutate(async () => {
      const now = this.core.now();
      const due = await this.core.q().all<{ review_id: string }>(DUE, [now]);
      for (const { review_id } of due) {
        const row = await this.row(review_id);
        await this.core.q().run(EXPIRE, [review_id]);
        await this.core.append({
          type: 'review_expired',
          workflow_id: row.workflow_id,
          actor: this.systemActor,
          ts: now,
          payload: { review_id, action: row.action, workflow_id: row.workflow_id, version: row.version, requested_by: row.requested_by, expires_at: row.expires_at },
        });
      }
      return due.length;
    });
  }

  private async row(reviewId: string): Promise<ReviewRow> {
    const row = await this.core.q().get<ReviewRow>(BY_ID, [reviewId]);
    if (!row) throw new RewindError('REVIEW_NOT_FOUND', `No review request ${reviewId}.`, 'List the requests (rewind review list, or GET /api/v1/reviews?status=all) for their ids.', { review_id: reviewId });
    return row;
  }

  /** A pending request past its expiry reads as expired before its `review_expired` is recorded. */
  private toReview(row: ReviewRow, now: string): Review {
    const { input: _input, ...rest } = row;
    const status = row.status === 'pending' && row.expires_at <= now ? 'expired' : row.status;
    return { ...rest, canary_percent: row.canary_percent === null ? null : Number(row.canary_percent), status };
  }
}
