import { describe, expect, it } from 'vitest';
import { mulberry32, nodeRandom, seedFrom } from '../../../../main/engine/executor/rng.js';

describe('mulberry32', () => {
  it('gives the reference stream for a seed', () => {
    const next = mulberry32(42);
    expect([next(), next(), next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('stays in [0, 1) and differs between seeds', () => {
    const a = mulberry32(1);
    const b = mulberry32(2);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.slice(0, 5)).not.toEqual(Array.from({ length: 5 }, () => b()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('seedFrom', () => {
  it('hashes strings to fixed unsigned 32-bit seeds', () => {
    expect(seedFrom('')).toBe(2872998923);
    expect(seedFrom('a')).toBe(444641715);
    expect(seedFrom('b')).toBe(2193908274);
    expect(seedFrom('run-1')).toBe(seedFrom('run-1'));
  });
});

describe('nodeRandom', () => {
  it('depends on the seed and the node id only', () => {
    expect(nodeRandom(2, 'flaky')()).toBe(0.1776863590348512);
    expect(nodeRandom(4, 'flaky')()).toBe(0.7270220674108714);
    expect(nodeRandom(2, 'other')()).not.toBe(nodeRandom(2, 'flaky')());
  });
});
