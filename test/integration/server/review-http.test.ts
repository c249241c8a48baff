import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ErrorCode, type Review, type RewindEvent, httpStatusOf } from '../../../preload/contract/index.js';
import { buildOpenApiDocument } from '../../../main/server/openapi.js';
import { stores } from '../../support/stores.js';
import { type TestServer, api, dsls, startServer, uniqueName } from './harness.js';

/*
 * A second pair of eyes (--require-review), as clients of the workflow server see it, on both stores.
 * Two API tokens with different names are two people. The clock is the engine's, injected: expiry is
 * reached by moving it, never by sleeping.
 */

const START = Date.parse('2026-12-07T10:00:00.000Z');

describe.each(stores)('workflow server: review requests on $kind', (factory) => {
  let s: TestServer | null = null;
  let n = 0;
  let now = START;
  afterEach(async () => {
    await s?.close();
    s = null;
  });
  afterAll(() => factory.dispose());

  interface People {
    srv: TestServer;
    id: string;
    alice: string;
    bob: string;
    carol: string;
  }

  /** A server reviewing `actions`, a workflow with v1 active and a v2 draft, admins alice and bob, operator carol. */
  async function setup(actions: Array<'publish' | 'promote' | 'rollback'> = ['publish', 'promote']): Promise<People> {
    n += 1;
    now = START;
    const srv = await startServer({
      store: await factory.open(`review-http${n}`),
      clock: () => new Date(now),
      sandbox: { review: { actions: new Set(actions), expiryMs: 30 * 60_000 } },
    });
    s = srv;
    const issue = async (name: string, role: 'admin' | 'operator') => (await srv.tokenStore.issue({ name, role, createdBy: 'test' })).token;
    const people = { srv, alice: await issue('alice', 'admin'), bob: await issue('bob', 'admin'), carol: await issue('carol', 'operator') };
    const created = await api(srv.url, people.alice, 'POST', '/api/v1/workflows', { name: uniqueName('reviewed'), dsl: dsls.v1 });
    const id = (created.json as { id: string }).id;
    expect((await api(srv.url, people.alice, 'POST', `/api/v1/workflows/${id}/versions`, { dsl: dsls.v2, change_log: 'stricter' })).status).toBe(200);
    return { ...people, id };
  }

  const expectError = (res: { status: number; json: unknown }, code: ErrorCode, hint?: RegExp) => {
    const body = res.json as { error: { code: string; hint: string } };
    expect(body.error?.code, JSON.stringify(res.json)).toBe(code);
    expect(res.status).toBe(httpStatusOf(code));
    expect(body.error.hint).toMatch(hint ?? /./);
  };

  const events = async (p: People, type: string): Promise<RewindEvent[]> =>
    ((await api(p.srv.url, p.bob, 'GET', `/api/v1/events?workflow_id=${p.id}`)).json as { events: RewindEvent[] }).events.filter((e) => e.type === type);
  const workflow = async (p: People) => (await api(p.srv.url, p.bob, 'GET', `/api/v1/workflows/${p.id}`)).json as { active_version: number; revision: number };

  async function askPublish(p: People): Promise<Review> {
    const res = await api(p.srv.url, p.alice, 'POST', `/api/v1/workflows/${p.id}/versions/2/publish`, {});
    expect(res.status).toBe(202);
    const body = res.json as { review_requested: true; message: string; review: Review };
    expect(body.review_requested).toBe(true);
    expect(body.message).toMatch(/Sent for review — another person must approve/);
    return body.review;
  }

  it('a publish becomes a request; another person approves it and it is published as the requester’s, the reviewer recorded', async () => {
    const p = await setup();
    const before = await workflow(p);
    const review = await askPublish(p);
    expect(review).toMatchObject({ action: 'publish', workflow_id: p.id, version: 2, from_version: 1, requested_by: 'alice', status: 'pending', revision: before.revision });
    expect(review.expires_at).toBe(new Date(START + 30 * 60_000).toISOString());
    // Nothing changed yet.
    expect(await workflow(p)).toMatchObject({ active_version: 1, revision: before.revision });
    expect(await events(p, 'version_published')).toHaveLength(0);
    const [requested] = await events(p, 'review_requested');
    expect(requested).toMatchObject({
      actor: 'alice',
      payload: { review_id: review.review_id, action: 'publish', workflow_id: p.id, version: 2, requested_by: 'alice', expires_at: review.expires_at },
    });
    const pending = (await api(p.srv.url, p.carol, 'GET', '/api/v1/reviews?status=pending')).json as { reviews: Review[]; total: number };
    expect(pending.reviews.map((r) => r.review_id)).toEqual([review.review_id]);

    now += 5 * 60_000;
    const approved = await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/approve`, { note: 'diff looks right' });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ review: { status: 'approved', answered_by: 'bob', note: 'diff looks right' }, result: { success: true, version: 2, from_version: 1 } });
    expect(await workflow(p)).toMatchObject({ active_version: 2 });
    const [published] = await events(p, 'version_published');
    expect(published).toMatchObject({ actor: 'alice', payload: { from_version: 1, to_version: 2 } });
    const [answered] = await events(p, 'review_answered');
    expect(answered).toMatchObject({ actor: 'bob', payload: { review_id: review.review_id, answer: 'approved', by: 'bob', note: 'diff looks right' } });
    expect(answered!.seq).toBeLessThan(published!.seq);
    const read = (await api(p.srv.url, p.carol, 'GET', `/api/v1/reviews/${review.review_id}`)).json as Review;
    expect(read).toMatchObject({ status: 'approved', result_seq: published!.seq });
    expect(((await api(p.srv.url, p.carol, 'GET', '/api/v1/reviews')).json as { total: number }).total).toBe(0);
    expect(((await api(p.srv.url, p.carol, 'GET', '/api/v1/reviews?status=all')).json as { reviews: Review[] }).reviews.map((r) => r.status)).toEqual(['approved']);
  });

  it('a decline changes nothing and ends the request; a second identical request while one waits is refused', async () => {
    const p = await setup();
    const review = await askPublish(p);
    expectError(await api(p.srv.url, p.bob, 'POST', `/api/v1/workflows/${p.id}/versions/2/publish`, {}), 'REVIEW_PENDING', /approve that request/);
    const declined = await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/decline`, { note: 'not during the freeze' });
    expect(declined.status).toBe(200);
    expect(declined.json).toMatchObject({ review: { status: 'declined', answered_by: 'bob' }, result: null });
    expect(await workflow(p)).toMatchObject({ active_version: 1 });
    expect(await events(p, 'version_published')).toHaveLength(0);
    expect((await events(p, 'review_answered'))[0]).toMatchObject({ payload: { answer: 'declined', by: 'bob', note: 'not during the freeze' } });
    expectError(await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {}), 'REVIEW_ANSWERED', /reload/);
  });

  it('the requester can never approve their own request; a reviewer without the action’s role cannot either', async () => {
    const p = await setup();
    const review = await askPublish(p);
    expectError(await api(p.srv.url, p.alice, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {}), 'SELF_REVIEW', /Another person/);
    // Publishing needs admin: an operator may not answer for it.
    const byOperator = await api(p.srv.url, p.carol, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {});
    expectError(byOperator, 'FORBIDDEN');
    expect((byOperator.json as { error: { message: string } }).error.message).toMatch(/admin/);
    expect(await workflow(p)).toMatchObject({ active_version: 1 });
    expect(((await api(p.srv.url, p.bob, 'GET', `/api/v1/reviews/${review.review_id}`)).json as Review).status).toBe('pending');
    expectError(await api(p.srv.url, p.bob, 'POST', '/api/v1/reviews/nope/approve', {}), 'REVIEW_NOT_FOUND');
  });

  it('an unanswered request expires: shown expired, refused with REVIEW_EXPIRED, recorded once as review_expired', async () => {
    const p = await setup();
    const review = await askPublish(p);
    now += 30 * 60_000 + 1;
    expect(((await api(p.srv.url, p.bob, 'GET', '/api/v1/reviews')).json as { total: number }).total).toBe(0);
    expect(((await api(p.srv.url, p.bob, 'GET', `/api/v1/reviews/${review.review_id}`)).json as Review).status).toBe('expired');
    // The server's sweep records it with nobody looking (what its timer calls); a second pass finds nothing.
    expect(await p.srv.backend.engine.reviews.expireDue()).toBe(1);
    expect(await p.srv.backend.engine.reviews.expireDue()).toBe(0);
    expectError(await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {}), 'REVIEW_EXPIRED', /ask for the publish again/);
    expectError(await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/decline`, {}), 'REVIEW_EXPIRED');
    const expired = await events(p, 'review_expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ payload: { review_id: review.review_id, action: 'publish', version: 2, requested_by: 'alice', expires_at: review.expires_at } });
    expect(await workflow(p)).toMatchObject({ active_version: 1 });
    // Asking again works once the old one expired.
    expect((await askPublish(p)).status).toBe('pending');
  });

  it('two reviewers answering at once: exactly one wins, the other gets REVIEW_ANSWERED; the version is published once', async () => {
    const p = await setup();
    const issue = async (name: string) => (await p.srv.tokenStore.issue({ name, role: 'admin', createdBy: 'test' })).token;
    const dave = await issue('dave');
    const review = await askPublish(p);
    const answers = await Promise.all([
      api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {}),
      api(p.srv.url, dave, 'POST', `/api/v1/reviews/${review.review_id}/decline`, {}),
    ]);
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status !== 200);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expectError(lost[0]!, 'REVIEW_ANSWERED');
    expect(await events(p, 'review_answered')).toHaveLength(1);
    const winner = (won[0]!.json as { review: Review }).review;
    expect(await events(p, 'version_published')).toHaveLength(winner.status === 'approved' ? 1 : 0);
  });

  it('a workflow that moved on since the request is refused with STALE_REVISION, and the request stays to be declined', async () => {
    const p = await setup();
    const review = await askPublish(p);
    expect((await api(p.srv.url, p.carol, 'POST', `/api/v1/workflows/${p.id}/pause`, {})).status).toBe(200);
    const refused = await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {});
    expectError(refused, 'STALE_REVISION', /Decline this request/);
    expect(await events(p, 'version_published')).toHaveLength(0);
    expect(((await api(p.srv.url, p.bob, 'GET', `/api/v1/reviews/${review.review_id}`)).json as Review).status).toBe('pending');
  });

  it('a refused action is never a request; rollbacks act at once unless listed; a promote is reviewed by another operator', async () => {
    const p = await setup();
    expectError(await api(p.srv.url, p.alice, 'POST', `/api/v1/workflows/${p.id}/versions/1/publish`, {}), 'VERSION_NOT_DRAFT');
    expectError(await api(p.srv.url, p.alice, 'POST', `/api/v1/workflows/${p.id}/versions/2/publish`, {}, { 'if-match': '"1"' }), 'STALE_REVISION');
    expect(await events(p, 'review_requested')).toHaveLength(0);

    // Start a canary (a publish: reviewed), then its promote (reviewed too, by operators).
    const canary = { percent: 10, min_runs: 50, max_failure_rate: 0.5, promote: 'manual' };
    const asked = await api(p.srv.url, p.alice, 'POST', `/api/v1/workflows/${p.id}/versions/2/publish`, { canary });
    expect(asked.status).toBe(202);
    const canaryReview = (asked.json as { review: Review }).review;
    expect(canaryReview).toMatchObject({ canary_percent: 10, version: 2 });
    const started = await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${canaryReview.review_id}/approve`, {});
    expect(started.json).toMatchObject({ result: { success: true, version: 2, from_version: 1 } });
    expect((await api(p.srv.url, p.bob, 'GET', `/api/v1/workflows/${p.id}`)).json).toMatchObject({ active_version: 1, canary: { version: 2, percent: 10 } });

    const promote = await api(p.srv.url, p.carol, 'POST', `/api/v1/workflows/${p.id}/canary/promote`, {});
    expect(promote.status).toBe(202);
    const promoteReview = (promote.json as { review: Review }).review;
    expect(promoteReview).toMatchObject({ action: 'promote', version: 2, from_version: 1, requested_by: 'carol' });
    const approved = await api(p.srv.url, p.alice, 'POST', `/api/v1/reviews/${promoteReview.review_id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(await workflow(p)).toMatchObject({ active_version: 2 });
    expect((await events(p, 'canary_promoted'))[0]).toMatchObject({ actor: 'carol' });

    // Rollback is the emergency exit: not reviewed unless listed.
    const rolled = await api(p.srv.url, p.carol, 'POST', `/api/v1/workflows/${p.id}/versions/1/rollback`, {});
    expect(rolled.status).toBe(200);
    expect(rolled.json).toMatchObject({ success: true, version: 1, from_version: 2 });
  });

  it('with rollback listed, a rollback waits for another operator', async () => {
    const p = await setup(['rollback']);
    expect((await api(p.srv.url, p.alice, 'POST', `/api/v1/workflows/${p.id}/versions/2/publish`, {})).status).toBe(200);
    const asked = await api(p.srv.url, p.carol, 'POST', `/api/v1/workflows/${p.id}/versions/1/rollback`, {});
    expect(asked.status).toBe(202);
    expect(await workflow(p)).toMatchObject({ active_version: 2 });
    const review = (asked.json as { review: Review }).review;
    expectError(await api(p.srv.url, p.carol, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {}), 'SELF_REVIEW');
    expect((await api(p.srv.url, p.bob, 'POST', `/api/v1/reviews/${review.review_id}/approve`, {})).status).toBe(200);
    expect(await workflow(p)).toMatchObject({ active_version: 1 });
    expect((await events(p, 'workflow_rollback'))[0]).toMatchObject({ actor: 'carol', payload: { from_version: 2, to_version: 1 } });
  });
});

describe('review in the OpenAPI document', () => {
  it('declares the review routes, and the 202 of a reviewed action', () => {
    const doc = buildOpenApiDocument('test') as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(Object.keys(doc.paths['/api/v1/reviews'] ?? {})).toEqual(['get']);
    expect(doc.paths['/api/v1/reviews/{review_id}']?.get).toBeDefined();
    expect(doc.paths['/api/v1/reviews/{review_id}/approve']?.post).toBeDefined();
    expect(doc.paths['/api/v1/reviews/{review_id}/decline']?.post).toBeDefined();
    for (const path of ['/api/v1/workflows/{workflow_id}/versions/{version}/publish', '/api/v1/workflows/{workflow_id}/canary/promote', '/api/v1/workflows/{workflow_id}/versions/{version}/rollback']) {
      expect(Object.keys(doc.paths[path]!.post!.responses)).toContain('202');
    }
  });
});
