// Shape arithmetic the op builders share: NumPy broadcasting, axes, products of dimensions
// (numbers and the symbolic batch), reshapes that are left out when they change nothing.

import type { Ctx, Dim, Val } from './convert.js';

/** NumPy broadcasting of two shapes (checked again when the graph loads). */
export function broadcast(a: Dim[], b: Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

export const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** The number of elements of known dims, and how many of them are the batch. */
export function size(shape: Dim[]): { n: number; batch: number } {
  let n = 1;
  let batch = 0;
  for (const d of shape) {
    if (d === 'batch') batch++;
    else n *= d;
  }
  return { n, batch };
}

/** A product of dims as one dim: a number, or the batch when the rest is 1. */
export function product(c: Ctx, dims: Dim[]): Dim {
  const s = size(dims);
  if (s.batch === 0) return s.n;
  if (s.batch === 1 && s.n === 1) return 'batch';
  return c.fail(`a dimension of ${s.n}·batch cannot be written; export the model with a fixed batch size`);
}

export function reshape(c: Ctx, x: Val, shape: Dim[]): Val {
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return c.emit('reshape', [x], { shape }, shape, x.kind);
}

/** A literal number as an operand. */
export const lit = (v: number): Val => ({ ref: v, shape: [], kind: 'float' });
