import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../main/server/openapi.js';
import { eventText } from '../../../main/engine/webhooks/text.js';
import { errorCodes, eventTypes, httpStatusOf } from '../../../preload/contract/index.js';

/* Retention's additions to the contract reach the served OpenAPI document and the webhook text. */

describe('retention in the contract', () => {
  const doc = buildOpenApiDocument('test') as { paths: Record<string, Record<string, { 'x-rewind-role'?: string }>>; components: { schemas: Record<string, { enum?: string[] }> } };
  const text = JSON.stringify(doc);

  it('serves the archive page route, the run fields, the error codes and the event type', () => {
    expect(doc.paths['/api/v1/archive/runs']?.get?.['x-rewind-role']).toBe('viewer');
    for (const word of ['pruned_at', 'pruned_after', 'RUN_PRUNED', 'ARCHIVE_TARGET_EXISTS', 'ARCHIVE_UNREADABLE']) expect(text).toContain(word);
    expect(doc.components.schemas.EventType?.enum).toContain('runs_pruned');
    expect(eventTypes).toContain('runs_pruned');
    expect(httpStatusOf('RUN_PRUNED')).toBe(409);
    expect(errorCodes.ARCHIVE_UNREADABLE).toBe(422);
  });

  it('says in one line what a pass removed', () => {
    const line = eventText({ seq: 9, ts: '2026-12-01T12:00:00.000Z', type: 'runs_pruned', workflow_id: null, run_id: null, actor: 'server', payload: { before: '2026-09-02T12:00:00.000Z', runs: 4800, checkpoints: 48_000 }, prev_hash: '', hash: '' });
    expect(line).toBe('🧹 Retention removed the checkpoints of 4800 runs that ended before 2026-09-02 (48000 checkpoints; events kept)');
  });
});
