import { describe, expect, it } from 'vitest';
import type { Canary, RewindEvent } from '../../../preload/contract/index.js';
import { canarySummary } from '../../../renderer/canary/CanaryBand.js';
import { homeSections } from '../../../renderer/home/home-model.js';
import { describeEvent } from '../../../renderer/shared/event-text.js';

const event = (type: string, actor: string, payload: Record<string, unknown>): RewindEvent => ({
  seq: 1,
  ts: '2026-12-01T10:00:00.000Z',
  type,
  workflow_id: 'w1',
  run_id: null,
  actor,
  payload,
  prev_hash: '',
  hash: '',
});

describe('canary text in the console', () => {
  it('tells an automatic rollback from a person’s, and says why a canary ended', () => {
    expect(describeEvent(event('workflow_rollback', 'policy:canary', { from_version: 4, to_version: 2 }))).toBe('Automatic rollback v4 → v2');
    expect(describeEvent(event('workflow_rollback', 'mina', { from_version: 4, to_version: 2 }))).toBe('Rolled back v4 → v2');
    expect(describeEvent(event('canary_started', 'mina', { version: 4, percent: 10 }))).toBe('Canary v4 started for 10 % of new runs');
    expect(describeEvent(event('canary_aborted', 'policy:canary', { version: 4, reason: 'failure rate 40.0 % over 5 runs broke the limit of 10.0 %' }))).toBe(
      'Canary v4 aborted: failure rate 40.0 % over 5 runs broke the limit of 10.0 %',
    );
    expect(describeEvent(event('canary_promoted', 'jun', { version: 4 }))).toBe('Canary v4 promoted');
  });

  it('sums a canary up against its policy, and says when judging starts', () => {
    const canary: Canary = {
      version: 4,
      stable_version: 2,
      percent: 10,
      policy: { percent: 10, min_runs: 5, max_failure_rate: 0.1, promote: 'manual' },
      runs: 3,
      failures: 1,
      failure_rate: 1 / 3,
      state: 'running',
      started_at: '2026-12-01T10:00:00.000Z',
      started_by: 'mina',
    };
    expect(canarySummary(canary)).toBe('10 % of new runs · 3 runs · failure rate 33.3 % of 10.0 % allowed · judged from 5 runs');
    expect(canarySummary({ ...canary, runs: 1, failures: 0, failure_rate: 0 })).toBe('10 % of new runs · 1 run · failure rate 0.0 % of 10.0 % allowed · judged from 5 runs');
    expect(canarySummary({ ...canary, runs: 6 })).toMatch(/ · judged$/);
    // The incident home lists running canaries after what is failing, before the rollbacks.
    const summary = { generated_at: canary.started_at, window_hours: 24, failing: [], recent_rollbacks: [], canaries: [{ ...canary, workflow_id: 'w1', workflow_name: 'orders' }] };
    expect(homeSections(summary).map((x) => [x.kind, x.title, x.items.length])).toEqual([['canaries', 'Running canaries', 1]]);
    expect(homeSections({ ...summary, canaries: [] })).toEqual([]);
  });
});
