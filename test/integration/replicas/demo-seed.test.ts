import { afterAll, describe, expect, it } from 'vitest';
import { type ServedStore, openServedStore } from '../../../main/server/open-store.js';
import { freshDatabase } from '../../support/postgres.js';

/* `--demo` on replicas started at once on an empty PostgreSQL database: the demo is seeded once. */

describe('--demo with replicas starting together', () => {
  const opened: ServedStore[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.backend.close()));
  });

  it('seeds the demo workflows once, whichever replica wins', async () => {
    const url = await freshDatabase('demo_race');
    const served = await Promise.all(['demo-a', 'demo-b', 'demo-c'].map((replicaId) => openServedStore({ db: url, replicaId, timeScale: 0, demo: true, actor: 'test' })));
    opened.push(...served);
    const { workflows, total } = await served[1]!.backend.call('workflows:list', {});
    expect(total).toBeGreaterThan(0);
    const names = workflows.map((w) => `${w.name}/${w.source_type}`);
    expect(new Set(names).size).toBe(names.length);
    const created = (await served[2]!.backend.call('events:list', { after: 0, limit: 10_000 })).events.filter((e) => e.type === 'workflow_created');
    expect(created).toHaveLength(total);
    expect(await served[0]!.backend.call('events:verify', {})).toMatchObject({ ok: true });
  });
});
