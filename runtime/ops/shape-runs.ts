// transpose and broadcast_to on the fast CPU tier as runs (CpuAccel.runs): when the output is
// made of runs of len >= 4 (a multiple of 4) elements that are each one contiguous piece of the
// input or one input element repeated, the offsets of the runs' sources are computed once and
// the copy runs as WebAssembly SIMD (executors/cpu/wasm/copy.ts). Attention's head transposes
// ([batch, seq, heads, head_dim] ↔ [batch, heads, seq, head_dim]) keep the last axis; a layer
// norm's mean gradient broadcasts [..., 1] along the last.

import { sizeOf, type TypedArray } from '../ir/types.js';
import { broadcastStrides, contiguousStrides } from './broadcast.js';
import type { CpuAccel } from './op.js';

/** Each run's first source offset: the leading dims walked row-major, source strides `st`. */
function offsets(dims: readonly number[], st: readonly number[]): Int32Array {
  const out = new Int32Array(sizeOf(dims));
  const idx = new Array<number>(dims.length).fill(0);
  let off = 0;
  for (let r = 0; r < out.length; r++) {
    out[r] = off;
    for (let d = dims.length - 1; d >= 0; d--) {
      off += st[d]!;
      if (++idx[d]! < dims[d]!) break;
      off -= st[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** transpose(x, perm) as copied runs: the trailing axes perm leaves in place. */
function transposeRuns(shape: readonly number[], perm: readonly number[]): { srcs: Int32Array; len: number } {
  let s = perm.length;
  while (s > 0 && perm[s - 1] === s - 1) s--;
  const ist = contiguousStrides(shape);
  const lead = perm.slice(0, s);
  return {
    srcs: offsets(
      lead.map((p) => shape[p]!),
      lead.map((p) => ist[p]!),
    ),
    len: sizeOf(shape.slice(s)),
  };
}

/** broadcast_to as runs: copied (trailing axes not broadcast) or filled (trailing axes broadcast). */
function broadcastRuns(
  shape: readonly number[],
  out: readonly number[],
): { srcs: Int32Array; len: number; fill: boolean } {
  const bst = broadcastStrides(shape, out);
  let last = out.length - 1;
  while (last >= 0 && out[last] === 1) last--;
  const fill = last >= 0 && bst[last] === 0;
  let s = out.length,
    expected = 1;
  while (s > 0) {
    const d = s - 1;
    if (out[d] !== 1 && (fill ? bst[d] !== 0 : bst[d] !== expected)) break;
    if (!fill) expected *= out[d]!;
    s = d;
  }
  return { srcs: offsets(out.slice(0, s), bst.slice(0, s)), len: sizeOf(out.slice(s)), fill };
}

function f32(inputs: TypedArray[], output: TypedArray): Float32Array | null {
  const x = inputs[0]!;
  return x instanceof Float32Array && output instanceof Float32Array ? x : null;
}

/** transpose's fast kernel, or null (then the reference's index map). */
export function transposeFast(
  accel: CpuAccel,
  inputs: TypedArray[],
  output: TypedArray,
  shape: readonly number[],
  perm: readonly number[],
): (() => void) | null {
  const x = f32(inputs, output);
  if (!x) return null;
  const { srcs, len } = transposeRuns(shape, perm);
  return len >= 4 ? accel.runs(x, output as Float32Array, srcs, len, false) : null;
}

/** broadcast_to's fast kernel, or null (then the reference's index map). */
export function broadcastFast(
  accel: CpuAccel,
  inputs: TypedArray[],
  output: TypedArray,
  shape: readonly number[],
  out: readonly number[],
): (() => void) | null {
  const x = f32(inputs, output);
  if (!x) return null;
  const { srcs, len, fill } = broadcastRuns(shape, out);
  return len >= 4 ? accel.runs(x, output as Float32Array, srcs, len, fill) : null;
}
