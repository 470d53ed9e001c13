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

/** An f32 literal; infinities and NaN are bit patterns through the frame's f32_bits (a constant
 * expression may not evaluate to them, so a builtin bitcast of a literal would not compile). */
export function f32(v: number): string {
  if (v !== v) return 'f32_bits(0x7fc00000u)';
  if (v === Infinity) return 'f32_bits(0x7f800000u)';
  if (v === -Infinity) return 'f32_bits(0xff800000u)';
  const s = String(v);
  return /[.e]/.test(s) ? `f32(${s})` : `f32(${s}.0)`;
}

/**
 * NaN and infinity tests on the bits: WGSL lets implementations assume floats are finite, so
 * `v != v` may be folded away.
 */
export const FLOAT_TESTS = `fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) < 0x7f800000u; }`;

/**
 * A reduction of `shape` over `axes` as index expressions: output `j` reads the elements
 * base(j) + off(r) for r < count (row-major over the reduced axes, the CPU kernels' order).
 */
export function reductionIndex(
  shape: readonly number[],
  axes: readonly number[],
): { base: (j: string) => string; off: (r: string) => string; count: number } {
  const ist = contiguousStrides(shape);
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  return {
    base: (j) =>
      gatherIndex(
        j,
        kept.map((d) => shape[d]!),
        kept.map((d) => ist[d]!),
      ),
    off: (r) =>
      gatherIndex(
        r,
        axes.map((d) => shape[d]!),
        axes.map((d) => ist[d]!),
      ),
    count: axes.reduce((n, d) => n * shape[d]!, 1),
  };
}
