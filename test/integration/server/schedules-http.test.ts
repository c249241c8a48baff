import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, api, dsls, eventually, killHard, spawnServer, startServer, tempDir, uniqueName } from './harness.js';

/* The schedule routes as the origin clients call them: PUT and GET …/schedule, POST …/backfill, and the run's trigger. */

describe('schedule routes', () => {
  let s: TestServer;
  let id: string;
  beforeAll(async () => {
    s = await startServer();
    id = (await s.backend.call('workflows:create', { name: uniqueName('routes'), dsl: dsls.v1 })).id;
  });
  afterAll(() => s.close());

  it('PUT sets schedule, catchup and max_concurrent (admin); GET shows them with the next three fire times (viewer)', async () => {
    const put = await api(s.url, s.tokens.admin, 'PUT', `/api/v1/workflows/${id}/schedule`, { schedule: '*/5 * * * * *', catchup: 'all', max_concurrent: 3 });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ id, schedule: '*/5 * * * * *' });
    const get = await api(s.url, s.tokens.viewer, 'GET', `/api/v1/workflows/${id}/schedule`);
    expect(get.status).toBe(200);
    const info = get.json as { catchup: string; max_concurrent: number; next: string[]; firing: boolean };
    expect(info).toMatchObject({ catchup: 'all', max_concurrent: 3, firing: true });
    expect(info.next.map((t) => Date.parse(t) % 5000)).toEqual([0, 0, 0]);
    const operator = await api(s.url, s.tokens.operator, 'PUT', `/api/v1/workflows/${id}/schedule`, { schedule: null });
    expect(operator.status).toBe(403);
  });

  it('refuses a catchup outside the list and a seconds field out of range with 422, naming them', async () => {
    const catchup = await api(s.url, s.tokens.admin, 'PUT', `/api/v1/workflows/${id}/schedule`, { schedule: '* * * * *', catchup: 'never' });
    expect(catchup.status).toBe(422);
    expect(JSON.stringify(catchup.json)).toContain('catchup');
    const seconds = await api(s.url, s.tokens.admin, 'PUT', `/api/v1/workflows/${id}/schedule`, { schedule: '99 * * * * *' });
    expect(seconds.status).toBe(422);
    expect(seconds.json).toMatchObject({ error: { code: 'INVALID_CRON', details: { field: 'second', value: '99' } } });
  });

  it('POST backfill: dry run {ticks}, then {runs} with trigger backfill; a reversed range is a 422 with a hint', async () => {
    await api(s.url, s.tokens.admin, 'PUT', `/api/v1/workflows/${id}/schedule`, { schedule: '0 12 * * *' });
    const dry = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/backfill`, { from: '2026-10-01', to: '2026-10-03', dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ ticks: ['2026-10-01T12:00:00.000Z', '2026-10-02T12:00:00.000Z'], runs: [] });
    const real = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/backfill`, { from: '2026-10-01', to: '2026-10-03' });
    expect((real.json as { runs: Array<{ trigger: string; logical_date: string }> }).runs.map((r) => [r.trigger, r.logical_date])).toEqual([
      ['backfill', '2026-10-01T12:00:00.000Z'],
      ['backfill', '2026-10-02T12:00:00.000Z'],
    ]);
    const reversed = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/backfill`, { from: '2026-10-03', to: '2026-10-01' });
    expect(reversed.status).toBe(422);
    expect(reversed.json).toMatchObject({ error: { code: 'INVALID_RANGE', hint: expect.stringContaining('from earlier than to') as unknown } });
  });

  it('a run started over plain REST is an api run; one that says manual is manual', async () => {
    const plain = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, {});
    expect(plain.json).toMatchObject({ trigger: 'api', logical_date: null });
    const said = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, { trigger: 'manual' });
    expect(said.json).toMatchObject({ trigger: 'manual' });
    const bad = await api(s.url, s.tokens.operator, 'POST', `/api/v1/workflows/${id}/runs`, { trigger: 'schedule' });
    expect(bad.status).toBe(422);
  });
});

describe('a started server', () => {
  it('fires a schedule by itself, once per tick, and stops while the workflow is paused', async () => {
    const dir = tempDir('rewind-server-schedules-');
    const token = 'schedules-admin-token-0123456789';
    const child = await spawnServer(['--db', join(dir, 'server.db'), '--port', '0'], { REWIND_ADMIN_TOKEN: token });
    try {
      const wf = (await api(child.url, token, 'POST', '/api/v1/workflows', { name: 'every-second', dsl: dsls.v1 })).json as { id: string };
      await api(child.url, token, 'PUT', `/api/v1/workflows/${wf.id}/schedule`, { schedule: '* * * * * *' });
      type Page = { runs: Array<{ trigger: string; logical_date: string | null }> };
      const scheduled = async () => ((await api(child.url, token, 'GET', `/api/v1/runs?workflow_id=${wf.id}`)).json as Page).runs.filter((r) => r.trigger === 'schedule');
      await eventually(async () => (await scheduled()).length >= 3, 15_000, 'three scheduled runs');
      const dates = (await scheduled()).map((r) => r.logical_date);
      expect(new Set(dates).size).toBe(dates.length);
      expect(dates.every((d) => d !== null && d.endsWith('.000Z'))).toBe(true);
      await api(child.url, token, 'POST', `/api/v1/workflows/${wf.id}/pause`, {});
      const atPause = (await scheduled()).length;
      const info = (await api(child.url, token, 'GET', `/api/v1/workflows/${wf.id}/schedule`)).json as { firing: boolean };
      expect(info.firing).toBe(false);
      // Ticks keep coming while paused; the scheduler passes over them (a tick in flight at the pause may land).
      await eventually(async () => {
        const events = ((await api(child.url, token, 'GET', `/api/v1/events?workflow_id=${wf.id}&limit=10000`)).json as { events: Array<{ type: string; ts: string }> }).events;
        const paused = events.find((e) => e.type === 'workflow_paused')!;
        return Date.now() - Date.parse(paused.ts) > 3000;
      }, 15_000, 'three seconds of pause');
      expect((await scheduled()).length).toBeLessThanOrEqual(atPause + 1);
    } finally {
      await killHard(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
