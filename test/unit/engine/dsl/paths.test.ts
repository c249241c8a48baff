import { describe, expect, it } from 'vitest';
import { dotPathProblem, getPath, setPath } from '../../../../main/engine/dsl/paths.js';

describe('dot paths', () => {
  it('reads nested objects and list items, own properties only', () => {
    const ctx = { m: { rate: 0.04 }, batches: [{ size: 3 }], zero: 0 };
    expect(getPath(ctx, 'm.rate')).toBe(0.04);
    expect(getPath(ctx, 'batches.0.size')).toBe(3);
    expect(getPath(ctx, 'zero')).toBe(0);
    expect(getPath(ctx, 'm.missing.deeper')).toBeUndefined();
    expect(getPath(ctx, 'm.toString')).toBeUndefined();
  });

  it('writes through missing objects and list indexes', () => {
    const ctx: Record<string, unknown> = { xs: [1, 2] };
    expect(setPath(ctx, 'a.b.c', 1)).toBeNull();
    expect(setPath(ctx, 'xs.1', 5)).toBeNull();
    expect(ctx).toEqual({ xs: [1, 5], a: { b: { c: 1 } } });
    expect(setPath(ctx, 'xs.first', 1)).toBe("cannot set 'xs.first': 'xs' is a list and 'first' is not an index");
    expect(setPath({ s: null }, 's.t', 1)).toBe("cannot set 's.t': 's' is null, not an object");
  });

  it('refuses paths that are empty, malformed or reach a prototype', () => {
    expect(dotPathProblem('a.b-c.$d.0')).toBeNull();
    expect(dotPathProblem('')).toBe('is empty');
    expect(dotPathProblem('a..b')).toContain('invalid segment');
    expect(dotPathProblem('a b')).toContain('invalid segment');
    expect(dotPathProblem('x.constructor.prototype')).toBe("uses the reserved segment 'constructor'");
  });
});
