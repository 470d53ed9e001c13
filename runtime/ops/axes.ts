// Axis lists of reductions: one axis, a list, or all when absent; negative counts from the end.

import { RuleError } from '../errors.js';

export function reduceAxes(rank: number, axis: unknown): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const list = Array.isArray(axis) ? (axis as number[]) : [axis as number];
  const out = new Set<number>();
  for (const a of list) {
    if (a < -rank || a >= rank) throw new RuleError(`axis ${a} is out of range for a tensor of rank ${rank}`);
    out.add(a < 0 ? a + rank : a);
  }
  return [...out].sort((x, y) => x - y);
}
