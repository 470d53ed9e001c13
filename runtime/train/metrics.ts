// Per-epoch metrics beyond the loss: classification accuracy of an output against a target
// input. Many classes: argmax over the output's last axis, compared with integer labels or with
// the argmax of one-hot / probability rows. One value per sample: class 1 when it exceeds the
// threshold (0.5 for probabilities, 0 for logits), compared with targets above 0.5.

import type { TypedArray } from '../ir/types.js';

function argmaxRow(a: ArrayLike<number>, off: number, n: number): number {
  let best = a[off]!,
    bi = 0;
  for (let k = 1; k < n; k++) if (a[off + k]! > best) [best, bi] = [a[off + k]!, k];
  return bi;
}

/**
 * Fraction of `rows` samples classified right. `pred` holds rows * classes values (classes 1:
 * binary); `target` holds rows values (labels or 0/1) or rows * classes (one-hot rows).
 * @example accuracy(Float32Array.of(0.1, 0.9, 0.8, 0.2), 2, 2, [1, 1], 0.5) // 0.5
 */
export function accuracy(
  pred: TypedArray,
  rows: number,
  classes: number,
  target: ArrayLike<number>,
  threshold: number,
): number {
  if (rows === 0) return NaN;
  let right = 0;
  const oneHot = target.length === rows * classes && classes > 1;
  for (let r = 0; r < rows; r++) {
    let p: number, t: number;
    if (classes === 1) {
      p = pred[r]! > threshold ? 1 : 0;
      t = target[r]! > 0.5 ? 1 : 0;
    } else {
      p = argmaxRow(pred, r * classes, classes);
      t = oneHot ? argmaxRow(target, r * classes, classes) : target[r]!;
    }
    if (p === t) right++;
  }
  return right / rows;
}
