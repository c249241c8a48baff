/*
 * Seeded randomness for the sandbox: the same seed gives the same stream on every machine, so a
 * rehearsal that failed can be run again and fail the same way.
 */

/** mulberry32: a small 32-bit generator, good enough for simulated failures (not for secrets). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from any string: FNV-1a over UTF-16 code units, then murmur3's finaliser to spread nearby strings apart. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The random stream of one node in one run: independent of which other nodes ran or were skipped. */
export function nodeRandom(seed: number, nodeId: string): () => number {
  return mulberry32(seedFrom(`${seed}:${nodeId}`));
}
