import { describe, expect, it } from 'vitest';
import type { Dsl } from '../../../../preload/contract/entities.js';
import { checkCompatibility } from '../../../../main/engine/executor/compatibility.js';

const dsl = (...ids: string[]): Dsl => ({ nodes: ids.map((id) => ({ id, type: 'task', params: {}, next: [] })), defaults: {} });

describe('checkCompatibility', () => {
  it('is compatible when every completed node exists in the target', () => {
    const r = checkCompatibility(['ingest', 'train'], dsl('ingest', 'train', 'evaluate', 'deploy'), 'v3');
    expect(r).toEqual({
      compatible: true,
      missing_nodes: [],
      reason: 'Every completed node (ingest, train) exists in v3; a resume skips them and runs the remaining 2 nodes.',
    });
  });

  it('names the completed nodes the target lacks, in run order', () => {
    const r = checkCompatibility(['ingest', 'train', 'evaluate'], dsl('ingest', 'deploy'), 'v3');
    expect(r).toEqual({
      compatible: false,
      missing_nodes: ['train', 'evaluate'],
      reason: 'Nodes train, evaluate completed in this run do not exist in v3; resume under a version that has them, or start a new run.',
    });
  });

  it('words a single missing node in the singular, and counts duplicates once', () => {
    const r = checkCompatibility(['train', 'train'], dsl('ingest'));
    expect(r.missing_nodes).toEqual(['train']);
    expect(r.reason).toBe('Node train completed in this run does not exist in the target version; resume under a version that has it, or start a new run.');
  });

  it('is compatible when nothing completed', () => {
    const r = checkCompatibility([], dsl('a'), 'v1');
    expect(r.compatible).toBe(true);
    expect(r.reason).toBe('No node completed in this run, so a resume under v1 runs every node from the start.');
  });
});
