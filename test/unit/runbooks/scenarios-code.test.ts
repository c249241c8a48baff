import { describe, expect, it } from 'vitest';
import { scenarios } from '../../../main/runbooks/scenarios.js';
import { openTempSandbox } from '../engine/fixtures.js';

/*
 * The ETL scenario's bad deploy lands on a CODE workflow (the demo's nightly ETL): on a sandbox the
 * scenario stands in for its code folder, so the incident is set up, not refused with CODE_MANAGED.
 */
describe('scenarios on CODE workflows', () => {
  it('etl-partition-schema-change publishes its bad version to the CODE ETL as the code folder would', async () => {
    const sb = await openTempSandbox({ demo: true });
    const out = await scenarios['etl-partition-schema-change']!.setup(sb);
    expect(out).toMatch(/^published v4; nightly-orders-etl: /);
    const etl = (await sb.call('workflows:list', { query: 'nightly-orders-etl' })).workflows[0]!;
    expect(etl).toMatchObject({ source_type: 'CODE', active_version: 4 });
    expect((await sb.call('versions:get', { workflow_id: etl.id, version: 4 })).created_by).toBe('scenario');
    // Outside the scenario, the API still refuses to change it.
    await expect(sb.call('versions:createDraft', { workflow_id: etl.id })).rejects.toMatchObject({ code: 'CODE_MANAGED' });
  });
});
