import { describe, expect, it } from 'vitest';
import type { Backend } from '../../../main/backends/backend.js';
import { headSeq } from '../../../main/ipc/connections/head-seq.js';

/** A backend whose log holds seqs 1..head, counting the reads. */
function logOf(head: number) {
  let reads = 0;
  const backend = {
    kind: 'remote',
    call: async (_method: string, input: { after: number; limit: number }) => {
      reads += 1;
      return { events: input.after < head ? [{ seq: input.after + 1 }] : [] };
    },
    subscribe: () => () => undefined,
    close: async () => undefined,
  } as unknown as Backend;
  return { backend, reads: () => reads };
}

describe('headSeq', () => {
  it('finds the last seq of any log in about 2·log2(head) reads', async () => {
    for (const head of [0, 1, 2, 3, 7, 8, 9, 37, 1000, 1024, 65_537, 1_000_000]) {
      const log = logOf(head);
      expect(await headSeq(log.backend)).toBe(head);
      expect(log.reads()).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(head + 2)) + 2);
    }
  });
});
