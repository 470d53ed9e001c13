// NumPy broadcasting: the output shape of a binary op and, for each operand, the strides
// that map an output index to its element (0 along broadcast dimensions).

import { RuleError } from '../errors.js';
import { shapeStr } from '../ir/types.js';
import { dimToString, type Dim } from '../ir/dim.js';

/**
 * The broadcast shape; dims may be symbolic (interned, so === compares them): batch against 1
 * gives batch, batch against 3 cannot be decided for every batch size and is an error.
 */
export function broadcastShapes<D extends Dim>(a: readonly D[], b: readonly D[]): D[] {
  const n = Math.max(a.length, b.length);
  const out: D[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? (1 as D);
    const db = b[b.length - n + i] ?? (1 as D);
    if (da !== db && da !== 1 && db !== 1) {
      throw new RuleError(
        `shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast (dimension ${i} of the result: ${dimToString(da)} vs ${dimToString(db)})`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Row-major strides of `shape` as seen through a broadcast to `out` (0 where broadcast). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = out.length - shape.length + i;
    strides[oi] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i]!;
  }
  return st;
}
