// Fast paths of sum and mean for the two layouts training produces (a bias gradient sums the
// leading batch axis; a per-row reduction sums the trailing axes): straight loops instead of
// the reference kernel's scatter through an index map. Bit-identical to the reference: each
// output element adds the same inputs in the same order, rounded to the output's precision
// after every add, as the reference's `output[map[i]] += x[i]` does.

import type { TensorType, TypedArray } from '../../ir/types.js';
import { reduceAxes } from '../../ops/reduce.js';

export function fastReduce(
  op: string,
  inputs: TypedArray[],
  output: TypedArray,
  inTypes: TensorType[],
  attrs: Record<string, unknown>,
): (() => void) | null {
  if (op !== 'sum' && op !== 'mean') return null;
  const t = inTypes[0]!;
  if (t.dtype === 'i32') return null;
  const shape = t.shape;
  const axes = reduceAxes(shape.length, attrs.axis);
  const x = inputs[0]!,
    y = output;
  const n = x.length,
    m = y.length;
  if (m <= 1 || n === 0) return null; // whole-tensor reductions: the reference loop is already straight
  const count = n / m,
    mean = op === 'mean';
  // Size-1 axes do not matter for the layout: look at the others, reduced (1) or kept (0).
  const flags = shape.map((d, i) => (d === 1 ? -1 : axes.includes(i) ? 1 : 0)).filter((f) => f >= 0);
  const firstKept = flags.indexOf(0),
    lastReduced = flags.lastIndexOf(1);
  const leading = firstKept < 0 || lastReduced < firstKept; // reduced..., kept...
  const trailing = lastReduced < 0 || flags.indexOf(1) > flags.lastIndexOf(0); // kept..., reduced...
  const f32 = t.dtype === 'f32';
  if (leading) {
    const rows = count,
      cols = m;
    if (rows * cols !== n) return null;
    return () => {
      y.fill(0);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        for (let j = 0; j < cols; j++) y[j]! += x[o + j]!;
      }
      if (mean) for (let j = 0; j < cols; j++) y[j]! /= count;
    };
  }
  if (trailing) {
    const rows = m,
      cols = count;
    return () => {
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let s = 0;
        if (f32) for (let j = 0; j < cols; j++) s = Math.fround(s + x[o + j]!);
        else for (let j = 0; j < cols; j++) s += x[o + j]!;
        y[r] = mean ? (f32 ? Math.fround(s) : s) / count : s;
      }
    };
  }
  return null;
}
