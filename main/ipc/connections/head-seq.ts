import type { Backend } from '../../backends/backend.js';

/**
 * The last seq of a backend's event log. Seqs are gapless (invariant 4), so `after: k` is empty
 * exactly when k ≥ head: gallop, then bisect — about 2·log2(head) small reads.
 */
export async function headSeq(backend: Backend): Promise<number> {
  const beyond = async (k: number) => (await backend.call('events:list', { after: k, limit: 1 })).events.length === 0;
  if (await beyond(0)) return 0;
  let below = 0;
  let upper = 1;
  while (!(await beyond(upper))) {
    below = upper;
    upper *= 2;
  }
  while (upper - below > 1) {
    const mid = Math.floor((below + upper) / 2);
    if (await beyond(mid)) upper = mid;
    else below = mid;
  }
  return upper;
}
