// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Review } from '../../../preload/contract/index.js';
import { App } from '../../../renderer/App.js';
import { expiresIn, reviewWhat } from '../../../renderer/reviews/review-text.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useReviews } from '../../../renderer/store/reviews-store.js';
import { useRollback } from '../../../renderer/store/rollback-store.js';
import { useUi } from '../../../renderer/store/ui-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import { type FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/*
 * "Waiting for review" on the home (a server started with --require-review): who asked, what, how
 * long ago, when it expires; Approve shows the diff of what it will do and asks once more; the
 * operator's own request waits without an Approve; a rollback that became a request says so plainly.
 */

let fake: FakeBridge;
beforeEach(() => {
  fake = freshConsole();
});

const MINUTE = 60_000;

function request(partial: Partial<Review>): Review {
  const now = Date.now();
  return {
    review_id: 'rev-1',
    action: 'publish',
    workflow_id: 'wf-ml',
    workflow_name: 'ml-training-pipeline',
    version: 2,
    from_version: 1,
    canary_percent: null,
    revision: 4,
    requested_by: 'ana',
    requested_at: new Date(now - 5 * MINUTE).toISOString(),
    expires_at: new Date(now + 25 * MINUTE).toISOString(),
    status: 'pending',
    answered_by: null,
    answered_at: null,
    note: null,
    result_seq: null,
    ...partial,
  };
}

async function renderHome() {
  await act(async () => {
    await Promise.all([useConnections.getState().load(), useWorkflows.getState().load(), useReviews.getState().load()]);
  });
  useUi.getState().setView('home');
  return render(<App />);
}

describe('waiting for review on the home', () => {
  it('lists who asked, what, how long ago and when it expires; the own request waits without Approve', async () => {
    fake.world.reviews = [request({}), request({ review_id: 'rev-2', requested_by: 'me', action: 'promote', version: 3, from_version: 2 })];
    await renderHome();
    const section = await screen.findByTestId('home-section-reviews');
    expect(within(section).getByRole('heading').textContent).toBe('Waiting for review 2');
    const [theirs, mine] = within(section).getAllByTestId('home-review');
    expect(within(theirs!).getByTestId('home-review-what').textContent).toBe('Publish v2 (active: v1)');
    expect(within(theirs!).getByTestId('home-review-who').textContent).toBe('asked by ana 5 min ago');
    expect(within(theirs!).getByTestId('home-review-expires').textContent).toMatch(/^expires in 2[45] min$/);
    expect(within(theirs!).getByTestId('home-review-approve')).toBeTruthy();
    expect(mine!.dataset.own).toBe('true');
    expect(within(mine!).queryByTestId('home-review-approve')).toBeNull();
    expect(within(mine!).getByTestId('home-review-own').textContent).toBe('Your request: another person must approve it.');
    expect(within(mine!).getByTestId('home-review-decline').textContent).toBe('Withdraw…');
  });

  it('Approve shows the diff and asks once more; Cancel sends nothing; confirming approves with the note', async () => {
    fake.world.reviews = [request({})];
    await renderHome();
    const item = await screen.findByTestId('home-review');
    fireEvent.click(within(item).getByTestId('home-review-approve'));
    const dialog = await screen.findByTestId('review-answer-dialog');
    expect(within(dialog).getByRole('heading', { level: 2 }).textContent).toBe('Approve: Publish v2 (active: v1)?');
    expect(within(dialog).getByTestId('review-answer-consequence').textContent).toBe("Publish v2 (active: v1) of ml-training-pipeline happens now, recorded as ana's, with you as the reviewer.");
    await waitFor(() => expect(within(dialog).getByTestId('review-answer-diff').textContent).toMatch(/v1 → v2.*train/s));
    expect(fake.callsOf('versions:diff')).toEqual([{ workflow_id: 'wf-ml', from: 1, to: 2 }]);
    // Keyboard first: the confirming button has focus.
    expect(document.activeElement).toBe(within(dialog).getByTestId('review-answer-submit'));
    fireEvent.click(within(dialog).getByTestId('review-answer-cancel'));
    await waitFor(() => expect(screen.queryByTestId('review-answer-dialog')).toBeNull());
    expect(fake.callsOf('reviews:approve')).toEqual([]);

    fireEvent.click(within(screen.getByTestId('home-review')).getByTestId('home-review-approve'));
    const again = await screen.findByTestId('review-answer-dialog');
    fireEvent.change(within(again).getByTestId('review-answer-note'), { target: { value: 'diff checked' } });
    fireEvent.click(within(again).getByTestId('review-answer-submit'));
    await waitFor(() => expect(fake.callsOf('reviews:approve')).toEqual([{ review_id: 'rev-1', note: 'diff checked' }]));
    await waitFor(() => expect(screen.queryByTestId('home-section-reviews')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('home-title')));
  });

  it('a refused answer stays in the dialog with its hint (another reviewer was first)', async () => {
    fake.world.reviews = [request({})];
    await renderHome();
    fireEvent.click(within(await screen.findByTestId('home-review')).getByTestId('home-review-decline'));
    const dialog = await screen.findByTestId('review-answer-dialog');
    expect(within(dialog).queryByTestId('review-answer-diff')).toBeNull();
    fake.failNext('reviews:decline', { code: 'REVIEW_ANSWERED', message: 'rev-1 was already approved by bob.', hint: 'Another reviewer answered first; reload the list to see the outcome.' });
    fireEvent.click(within(dialog).getByTestId('review-answer-submit'));
    const error = await within(dialog).findByTestId('review-answer-error');
    expect(error.textContent).toMatch(/Another reviewer answered first/);
  });

  it('nothing waits on a connection without review: no section', async () => {
    await renderHome();
    await screen.findByTestId('home-title');
    expect(screen.queryByTestId('home-section-reviews')).toBeNull();
  });

  it('a rollback that became a request says plainly that another person must approve', async () => {
    fake.world.reviewRollbacks = true;
    await act(async () => {
      await Promise.all([useConnections.getState().load(), useWorkflows.getState().load()]);
    });
    render(<App />);
    await act(() => useRollback.getState().openFor('wf-ml', 1));
    fireEvent.change(screen.getByTestId('rollback-confirm-name'), { target: { value: 'ml-training-pipeline' } });
    fireEvent.click(screen.getByTestId('rollback-submit'));
    const sent = await screen.findByTestId('sent-for-review');
    expect(sent.textContent).toMatch(/Sent for review — another person must approve\./);
    expect(sent.textContent).toMatch(/Roll back to v1 \(active: v2\) of ml-training-pipeline waits on Home/);
    expect(screen.queryByTestId('rollback-result')).toBeNull();
  });
});

describe('review text', () => {
  it('names the action, and how long a request still waits', () => {
    expect(reviewWhat({ action: 'publish', version: 3, from_version: 2, canary_percent: 10 })).toBe('Publish v3 as a 10 % canary (active: v2)');
    expect(reviewWhat({ action: 'rollback', version: 1, from_version: 3, canary_percent: null })).toBe('Roll back to v1 (active: v3)');
    const now = Date.parse('2026-12-07T10:00:00Z');
    expect(expiresIn('2026-12-07T10:00:40Z', now)).toBe('in 40 s');
    expect(expiresIn('2026-12-07T10:29:30Z', now)).toBe('in 30 min');
    expect(expiresIn('2026-12-07T11:30:00Z', now)).toBe('in 1 h 30 min');
    expect(expiresIn('2026-12-07T09:59:59Z', now)).toBe('expired');
  });
});
