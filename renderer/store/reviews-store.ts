import { create } from 'zustand';
import type { DslDiff, Review, RewindErrorData } from '../../preload/contract/index.js';
import { api, toErrorData, unwrap } from '../api/client.js';
import { focusWhenReady } from '../shared/focus.js';
import { diffVersions } from '../reviews/review-text.js';

/*
 * The review requests waiting on this connection (a server started with --require-review; a sandbox
 * has none), and the one answer being given.
 *
 * answering: idle → confirming (approve: the diff of what it will do; decline: a note) → sending → idle
 *                                                                                      ↘ confirming with the refusal
 */

export type ReviewAnswerKind = 'approve' | 'decline';

export interface ReviewsState {
  /** Oldest request first: the one that has waited longest is answered first. */
  pending: Review[];
  more: boolean;
  error: RewindErrorData | null;
  confirming: { review: Review; answer: ReviewAnswerKind } | null;
  /** What approving would change: the DSL diff from the active version to the one it makes active (null while read, or when there is none). */
  diff: DslDiff | null;
  diffError: RewindErrorData | null;
  note: string;
  sending: boolean;
  answerError: RewindErrorData | null;
}

export const reviewsInitialState: ReviewsState = { pending: [], more: false, error: null, confirming: null, diff: null, diffError: null, note: '', sending: false, answerError: null };

const LIMIT = 200;

interface ReviewsActions {
  load(): Promise<void>;
  ask(review: Review, answer: ReviewAnswerKind): Promise<void>;
  setNote(note: string): void;
  confirm(): Promise<void>;
  cancel(): void;
}

export const useReviews = create<ReviewsState & ReviewsActions>()((set, get) => ({
  ...reviewsInitialState,
  async load() {
    try {
      const answer = await api().reviews.list({ status: 'pending', limit: LIMIT });
      // A server from before review requests has no such route: nothing waits there.
      if (!answer.ok && answer.error.code === 'NOT_FOUND') {
        set({ pending: [], more: false, error: null });
        return;
      }
      const { reviews, total } = await unwrap(Promise.resolve(answer));
      set({ pending: reviews, more: total > reviews.length, error: null });
    } catch (e) {
      set({ error: toErrorData(e) });
    }
  },
  async ask(review, answer) {
    if (get().sending) return;
    set({ confirming: { review, answer }, diff: null, diffError: null, note: '', answerError: null });
    const versions = answer === 'approve' ? diffVersions(review) : null;
    if (!versions) return;
    try {
      const { diff } = await unwrap(api().versions.diff({ workflow_id: review.workflow_id, from: versions.from, to: versions.to }));
      if (get().confirming?.review.review_id === review.review_id) set({ diff });
    } catch (e) {
      if (get().confirming?.review.review_id === review.review_id) set({ diffError: toErrorData(e) });
    }
  },
  setNote(note) {
    set({ note });
  },
  async confirm() {
    const c = get().confirming;
    if (!c || get().sending) return;
    set({ sending: true, answerError: null });
    const note = get().note.trim();
    const input = { review_id: c.review.review_id, ...(note ? { note } : {}) };
    try {
      await unwrap(c.answer === 'approve' ? api().reviews.approve(input) : api().reviews.decline(input));
      set({ sending: false, confirming: null, note: '', diff: null });
      await get().load();
      const next = get().pending.find((r) => r.review_id !== c.review.review_id);
      focusWhenReady(next ? `[data-testid="home-review"][data-review-id="${next.review_id}"] button` : '[data-testid="home-title"]');
    } catch (e) {
      set({ sending: false, answerError: toErrorData(e) });
      // Answered by someone else, expired, or the workflow moved on: the list shows it as it is now.
      void get().load();
    }
  },
  cancel() {
    set({ confirming: null, note: '', diff: null, diffError: null, answerError: null });
  },
}));
