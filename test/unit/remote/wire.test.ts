import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../main/backends/remote/backoff.js';
import { exitCodeOf } from '../../../main/cli/run.js';
import { flattenEvent, unflattenEvent, wireEventSchema } from '../../../main/protocol/wire.js';
import type { RewindEvent } from '../../../preload/contract/index.js';

const event = fc.record({
  seq: fc.integer({ min: 1, max: 1e9 }),
  ts: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  type: fc.string({ minLength: 1, maxLength: 30 }),
  workflow_id: fc.option(fc.uuid(), { nil: null }),
  run_id: fc.option(fc.uuid(), { nil: null }),
  actor: fc.string({ maxLength: 20 }),
  // Payload keys may collide with the envelope's (seq, hash, payload…): the round trip must not care.
  payload: fc.dictionary(fc.oneof(fc.constantFrom('seq', 'hash', 'event_type', 'payload', 'timestamp', 'from_version', 'to_version'), fc.string({ maxLength: 10 })), fc.jsonValue({ maxDepth: 2 })),
  prev_hash: fc.stringMatching(/^[0-9a-f]{64}$/),
  hash: fc.stringMatching(/^[0-9a-f]{64}$/),
});

describe('the stream wire format', () => {
  it('flattens as seed 000 shows and rebuilds the contract event exactly', () => {
    fc.assert(
      fc.property(event, (e) => {
        const wire = JSON.parse(JSON.stringify(flattenEvent(e as RewindEvent))) as unknown;
        const parsed = wireEventSchema.parse(wire);
        expect(parsed.seq).toBe(e.seq);
        expect(parsed.event_type).toBe(e.type);
        expect(unflattenEvent(parsed)).toEqual(JSON.parse(JSON.stringify(e)));
      }),
    );
  });

  it('lifts payload keys to the top level for origin clients', () => {
    const wire = flattenEvent({ seq: 5, ts: '2026-01-22T10:30:00Z', type: 'workflow_rollback', workflow_id: 'wf-123', run_id: null, actor: 'ops', payload: { from_version: 3, to_version: 2 }, prev_hash: 'a', hash: 'b' });
    expect(wire).toMatchObject({ event_type: 'workflow_rollback', workflow_id: 'wf-123', from_version: 3, to_version: 2, timestamp: '2026-01-22T10:30:00Z' });
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially, stays within half to all of its cap, and never passes the maximum', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, { initialMs: 250, maxMs: 30_000 }, () => r);
        const ceiling = Math.min(30_000, 250 * 2 ** attempt);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(d).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});

describe('CLI exit codes', () => {
  it('maps rule refusals to 1, usage to 2, connection and auth failures to 3', () => {
    expect(exitCodeOf('ROLLBACK_ALREADY_ACTIVE')).toBe(1);
    expect(exitCodeOf('STALE_REVISION')).toBe(1);
    expect(exitCodeOf('VALIDATION_FAILED')).toBe(2);
    for (const code of ['UNREACHABLE', 'TIMEOUT', 'TLS_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'PROTOCOL_MISMATCH'] as const) expect(exitCodeOf(code)).toBe(3);
  });
});
