import { describe, expect, it } from 'vitest';
import type { RewindEvent } from '../../../preload/contract/entities.js';
import { eventText } from '../../../main/engine/webhooks/text.js';
import { matches } from '../../../main/engine/webhooks/outbox.js';

/* The Slack line of a webhook delivery: a sentence for the types on-call cares about, a readable line for any other. */

const event = (type: string, payload: Record<string, unknown> = {}, extra: Partial<RewindEvent> = {}): RewindEvent => ({
  seq: 7,
  ts: '2026-12-02T10:00:00.000Z',
  type,
  workflow_id: 'wf_1',
  run_id: null,
  actor: 'alice',
  payload,
  prev_hash: '0',
  hash: '1',
  ...extra,
});

describe('webhook text', () => {
  it('says who rolled back what, and marks a policy acting by itself', () => {
    expect(eventText(event('workflow_rollback', { from_version: 3, to_version: 2 }), 'defect-rate-judgment')).toBe('⏪ Rollback of defect-rate-judgment: v3 → v2 by alice');
    expect(eventText(event('workflow_rollback', { from_version: 3, to_version: 2, reason: 'failure rate 40% > 20%' }, { actor: 'policy:canary' }), 'defect-rate-judgment')).toBe(
      '⏪ Automatic rollback of defect-rate-judgment: v3 → v2 automatically (policy:canary): failure rate 40% > 20%',
    );
  });

  it('tells the incident as it goes: opened, acknowledged, mitigated, resolved, with the time from the first failure', () => {
    const at = (type: string, payload: Record<string, unknown>, actor = 'alice') => eventText(event(type, { incident_id: 'inc-1', ...payload }, { actor }), 'billing');
    expect(at('incident_opened', { version: 4, rehearsal: false }, 'rewind')).toBe('🚨 Incident inc-1 opened on billing: v4 broke the failure-rate rule');
    expect(at('incident_acknowledged', { by: 'bob', time_to_acknowledge_s: 60 })).toBe('👀 Incident inc-1 of billing acknowledged by bob, 60 s after the first failure');
    expect(at('incident_mitigated', { by: 'policy:canary', action: 'rollback', time_to_mitigate_s: 12.4, rehearsal: true }, 'policy:canary')).toBe(
      '🩹 Incident inc-1 of billing mitigated by the rollback of policy:canary, 12 s after the first failure (rehearsal)',
    );
    expect(at('incident_resolved', { by: 'rewind', time_to_resolve_s: 300, note: 'run r-2 succeeded' }, 'rewind')).toBe(
      '✅ Incident inc-1 of billing resolved by rewind, 300 s after the first failure: run r-2 succeeded',
    );
  });

  it('names the failed run, its version, node and error', () => {
    expect(eventText(event('run_failed', { version: 3, failed_node: 'judge', error: 'boom' }, { run_id: 'run_9' }), 'billing')).toBe('❌ Run run_9 of billing failed (v3) at node judge: boom');
    expect(eventText(event('run_interrupted', {}, { run_id: 'run_9' }), 'billing')).toBe('❌ Run run_9 of billing was interrupted');
  });

  it('asks for approvals and tells their answer', () => {
    expect(eventText(event('approval_requested', { node_id: 'gate' }, { run_id: 'run_2' }), 'payouts')).toBe('✋ Approval wanted: run run_2 of payouts waits at gate');
    expect(eventText(event('approval_given', { decision: 'deny' }, { run_id: 'run_2', actor: 'bob' }), 'payouts')).toBe('✋ Run run_2 of payouts: denied by bob');
    expect(eventText(event('approval_requested', { node_id: 'gate', prompt: 'Ship it?' }, { run_id: 'run_2' }), 'payouts')).toBe('✋ Approval wanted: run run_2 of payouts waits at gate: “Ship it?”');
    expect(eventText(event('approval_denied', { node_id: 'gate', decision: 'deny', comment: 'Friday' }, { run_id: 'run_2', actor: 'bob' }), 'payouts')).toBe(
      '✋ Run run_2 of payouts: denied by bob at gate (“Friday”)',
    );
    expect(eventText(event('run_denied', { version: 3 }, { run_id: 'run_2' }), 'payouts')).toBe('🛑 Run run_2 of payouts stopped: its approval was denied (v3)');
  });

  it('reads canary events by their names alone, with the figures they carry', () => {
    expect(eventText(event('canary_started', { version: 3, percent: 10 }), 'wf')).toBe('🐤 Canary v3 of wf started by alice for 10% of new runs');
    expect(eventText(event('canary_aborted', { version: 3, runs: 20, failures: 8, failure_rate: 0.4, threshold: 0.2, reason: 'failure rate above threshold' }, { actor: 'policy:canary' }), 'wf')).toBe(
      '🐤 Canary v3 of wf aborted automatically (policy:canary): failure rate above threshold (20 runs, failure rate 40%, threshold 20%)',
    );
    expect(eventText(event('canary_promoted', { version: 3, runs: 50, failure_rate: 0.02 }), 'wf')).toBe('🐤 Canary v3 of wf promoted by alice (50 runs, failure rate 2%)');
  });

  it('says where a code file was refused and that its last good version stays', () => {
    expect(eventText(event('code_file_refused', { file: 'etl.yaml', line: 9, field: 'dsl.nodes.0.type', message: 'unknown type' }, { actor: 'code:etl.yaml' }), 'etl')).toBe(
      '⚠️ Code file etl.yaml:9 dsl.nodes.0.type refused: unknown type (the last good version stays active)',
    );
    expect(eventText(event('code_file_accepted', { file: 'etl.yaml', removed: false }))).toBe('✅ Code file etl.yaml fixed: no longer refused');
  });

  it('gives any other type a readable line, never an empty one', () => {
    expect(eventText(event('run_succeeded', {}, { run_id: 'run_3' }), 'billing')).toBe('Run succeeded: run_3 of billing by alice');
    expect(eventText(event('schedule_fired', {}, { workflow_id: null }))).toBe('Schedule fired by alice');
    expect(eventText(event('something_new_entirely', { reason: 'because' }, { workflow_id: null }))).toBe('Something new entirely by alice: because');
  });
});

describe('webhook filters', () => {
  const all = { id: 'wh_a', event_types: null, workflow_ids: null };
  it('match types and workflows; no filter matches everything', () => {
    expect(matches(all, event('run_failed'))).toBe(true);
    expect(matches({ ...all, event_types: ['workflow_rollback'] }, event('run_failed'))).toBe(false);
    expect(matches({ ...all, workflow_ids: ['wf_2'] }, event('run_failed'))).toBe(false);
    expect(matches({ ...all, workflow_ids: ['wf_1'] }, event('token_issued', {}, { workflow_id: null }))).toBe(false);
  });

  it("never send a webhook its own dead letter, nor anyone a dead letter about a dead letter", () => {
    expect(matches(all, event('webhook_dead_lettered', { webhook_id: 'wh_a', event_type: 'run_failed' }))).toBe(false);
    expect(matches(all, event('webhook_dead_lettered', { webhook_id: 'wh_b', event_type: 'run_failed' }))).toBe(true);
    expect(matches(all, event('webhook_dead_lettered', { webhook_id: 'wh_b', event_type: 'webhook_dead_lettered' }))).toBe(false);
  });
});
