import type { ComparisonOp } from '../dsl/node-params.js';

/**
 * Whether `observed op expected` holds. Equality is strict (0.05 is not '0.05'); ordering needs
 * a number on both sides, so a missing or non-numeric field never satisfies `>` or `<`.
 */
export function compare(observed: unknown, op: ComparisonOp, expected: number | string | boolean): boolean {
  switch (op) {
    case '==':
      return observed === expected;
    case '!=':
      return observed !== expected;
    default:
      if (typeof observed !== 'number' || typeof expected !== 'number') return false;
      switch (op) {
        case '>':
          return observed > expected;
        case '>=':
          return observed >= expected;
        case '<':
          return observed < expected;
        case '<=':
          return observed <= expected;
      }
  }
}
