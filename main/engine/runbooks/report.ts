import { type RehearsalRecord, type Runbook, formatDuration, levelTargetText, plannedMs } from './format.js';

/*
 * The post-incident report of seed 003 ("롤백 사후 분석 보고서"): basic information, cause, prevention
 * and lessons, filled from a rehearsal record, plus the timed step table that is the point of
 * rehearsing. The sections a person must write are left as prompts.
 */

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(record: RehearsalRecord, runbook: Runbook): string {
  const expected = plannedMs(runbook);
  const failed = record.steps.find((s) => s.outcome === 'failed');
  const affected = record.rollbacks.map((r) => `${r.workflow} v${r.from_version ?? '?'}`).join(', ') || '—';
  const recovered = record.rollbacks.map((r) => `${r.workflow} v${r.to_version}`).join(', ') || '—';
  const lines = [
    `# Post-incident report: ${runbook.name}`,
    '',
    `**Result: ${record.passed ? 'recovered' : 'not recovered'}** in ${formatDuration(record.total_ms)} (planned ${formatDuration(expected)}${runbook.level ? `; seed 003 target at the ${runbook.level} level: ${levelTargetText(runbook.level)}` : ''}).`,
    '',
    '## Basic information',
    '',
    `- Rollback started: ${record.started_at}`,
    `- Rollback finished: ${record.finished_at}`,
    `- Reason: ${record.scenario ? `rehearsal of scenario \`${record.scenario}\`` : '[the specific reason]'}`,
    `- Affected version: ${affected}`,
    `- Recovered version: ${recovered}`,
    `- Runbook: ${runbook.name}${runbook.level ? ` (level: ${runbook.level})` : ''}`,
    `- Conditions: ${conditions(record)}`,
    '',
    '## Steps',
    '',
    '| # | Step | Kind | Outcome | Expected | Actual | Detail |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...record.steps.map(
      (s) => `| ${s.index} | ${cell(s.title)} | ${s.kind} | ${s.outcome} | ${formatDuration(s.expected_ms)} | ${formatDuration(s.duration_ms)} | ${cell(s.detail)} |`,
    ),
    '',
    `**${record.passed ? 'Total time to recover' : 'Total time (not recovered)'}: ${formatDuration(record.total_ms)}** (planned ${formatDuration(expected)}).`,
    '',
    '## Cause',
    '',
    '1. **Root cause**: [what broke]',
    `2. **Trigger**: ${failed ? `step ${failed.index} (${cell(failed.title)}) failed: ${cell(failed.detail)}` : '[the alert or threshold that fired]'}`,
    '3. **Impact**: [users and functions affected]',
    '',
    '## Preventing a recurrence',
    '',
    '1. [ ] Add test cases',
    '2. [ ] Improve the CI/CD pipeline',
    '3. [ ] Add monitoring alerts',
    '4. [ ] Update the pre-deploy checklist',
    '',
    '## Lessons learned',
    '',
    ...record.steps.filter((s) => s.duration_ms > s.expected_ms && s.outcome !== 'skipped').map((s) => `- Step ${s.index} (${cell(s.title)}) took ${formatDuration(s.duration_ms)}, planned ${formatDuration(s.expected_ms)}.`),
    '- [what to keep, what to change in this runbook]',
    '',
  ];
  return lines.join('\n');
}

/** How the rehearsal ran, so two reports are compared like for like. */
function conditions(record: RehearsalRecord): string {
  const pace = record.time_scale === null || record.time_scale === undefined ? 'time scale not recorded' : record.time_scale === 1 ? 'waits in real time (time scale 1)' : `waits fast-forwarded (time scale ${record.time_scale})`;
  const actions = record.auto_executed === null || record.auto_executed === undefined ? 'execution not recorded' : record.auto_executed ? 'actions executed automatically' : 'each action confirmed by the operator';
  const where = record.scratch_copy === null || record.scratch_copy === undefined ? null : record.scratch_copy ? 'on a scratch copy of the sandbox' : 'on the sandbox itself';
  const who =
    record.pace === 'paced'
      ? 'paced: each step waited for the operator, so the time measures the operator'
      : record.pace === 'automatic'
        ? 'automatic (CI): the steps ran by themselves, so the time measures the machine, not an operator'
        : null;
  return [who, pace, actions, where].filter((x) => x !== null).join('; ');
}
