// WGSL text helpers for the ops' kernel generators: index arithmetic with shapes and strides
// baked in as literals (a plan's shapes are fixed, and the pipeline cache keys on the text, so
// baking is both faster and safe), and typed literals. The frame around a kernel (bindings,
// invocation index, bounds guard) is the executor's: executors/webgpu/wgsl.ts.

import type { DType } from '../ir/types.js';
import { contiguousStrides } from './broadcast.js';

/** The WGSL element type of a tensor dtype; f64 has none (such nodes run on the CPU). */
export function wgslType(d: DType): 'f32' | 'i32' {
  if (d === 'f64') throw new Error('WGSL has no f64');
  return d;
}

/** A u32 literal. */
export function u32(n: number): string {
  return `${n >>> 0}u`;
}

/**
 * WGSL u32 expression: the flat index into a tensor read through `strides` (one per output
 * axis, 0 where broadcast) for the output element with flat index `i` of shape `out`.
 */
export function gatherIndex(i: string, out: readonly number[], strides: readonly number[]): string {
  const ost = contiguousStrides(out);
  const terms: string[] = [];
  for (let d = 0; d < out.length; d++) {
    if (strides[d] === 0 || out[d] === 1) continue;
    // The outermost axis needs no modulo (i < size); the innermost no division.
    let coord = ost[d] === 1 ? i : `(${i} / ${u32(ost[d]!)})`;
    if (d > 0) coord = `(${coord} % ${u32(out[d]!)})`;
    terms.push(strides[d] === 1 ? coord : `${coord} * ${u32(strides[d]!)}`);
  }
  return terms.length ? terms.join(' + ') : '0u';
}
