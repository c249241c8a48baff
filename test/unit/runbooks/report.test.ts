import { describe, expect, it } from 'vitest';
import { reportMarkdown } from '../../../main/engine/runbooks/report.js';
import { formatDuration } from '../../../main/engine/runbooks/format.js';
import type { RehearsalRecord, Runbook } from '../../../main/engine/runbooks/format.js';

const runbook: Runbook = {
  name: 'Config rollback',
  description: 'd',
  level: 'configuration',
  steps: [
    { kind: 'action', title: 'Roll back', expected_ms: 30_000, action: { type: 'rollback', workflow: 'defect-rate-judgment', to: 2 } },
    { kind: 'health_check', title: 'Probe | health', expected_ms: 60_000, check: { type: 'run_succeeds', workflow: 'defect-rate-judgment' } },
  ],
};

const record: RehearsalRecord = {
  runbook_name: runbook.name,
  scenario: null,
  started_at: '2026-11-24T10:00:00.000Z',
  finished_at: '2026-11-24T10:02:05.000Z',
  total_ms: 125_000,
  passed: true,
  steps: [
    { index: 1, title: 'Roll back', kind: 'action', outcome: 'passed', expected_ms: 30_000, duration_ms: 45_000, detail: 'defect-rate-judgment: v4 → v2' },
    { index: 2, title: 'Probe | health', kind: 'health_check', outcome: 'passed', expected_ms: 60_000, duration_ms: 80_000, detail: 'run r1 on v2 succeeded\nok' },
  ],
  rollbacks: [{ workflow: 'defect-rate-judgment', from_version: 4, to_version: 2 }],
};

describe('reportMarkdown', () => {
  it("follows seed 003's post-incident template with the timed step table", () => {
    const md = reportMarkdown(record, runbook);
    for (const heading of ['# Post-incident report: Config rollback', '## Basic information', '## Steps', '## Cause', '## Preventing a recurrence', '## Lessons learned']) {
      expect(md).toContain(heading);
    }
    expect(md).toContain('**Result: recovered** in 2 min 5 s (planned 1 min 30 s; seed 003 target at the configuration level: 2–5 min).');
    expect(md).toContain('| 1 | Roll back | action | passed | 30.0 s | 45.0 s | defect-rate-judgment: v4 → v2 |');
    // A pipe or newline in a title or detail cannot break the table.
    expect(md).toContain('| 2 | Probe \\| health | health_check | passed | 1 min | 1 min 20 s | run r1 on v2 succeeded ok |');
    expect(md).toContain('**Total time to recover: 2 min 5 s** (planned 1 min 30 s).');
    expect(md).toContain('- Reason: [the specific reason]');
    expect(md).toContain('- Affected version: defect-rate-judgment v4');
    expect(md).toContain('- Recovered version: defect-rate-judgment v2');
    expect(md).toContain('- Step 1 (Roll back) took 45.0 s, planned 30.0 s.');
  });
});

describe('formatDuration', () => {
  it('shows ms, seconds, then minutes', () => {
    expect([999, 1500, 60_000, 400_000].map(formatDuration)).toEqual(['999 ms', '1.5 s', '1 min', '6 min 40 s']);
  });
});
