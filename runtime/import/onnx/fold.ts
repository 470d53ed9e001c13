// Constants computed at import: exporters write the numbers an op needs (Pad's pads, a
// Reshape's target) as small chains of Constant, ConstantOfShape, Concat, Reshape, Slice,
// Transpose and Cast nodes. When every input of such a node is known, the importer computes
// its value here (row-major, on tensors of at most a few elements, sizes checked against the
// limits) instead of writing graph-run nodes for it.

import { MAX_ELEMENTS } from '../../load/limits.js';
import type { OnnxValues } from './read.js';

const numel = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

function make(like: OnnxValues, dims: number[], data: ArrayLike<number>): OnnxValues {
  if (numel(dims) > MAX_ELEMENTS) throw new RangeError(`a constant of ${numel(dims)} elements`);
  return {
    ...like,
    dims,
    data: like.kind === 'int' ? Array.from(data) : like.width === 8 ? Float64Array.from(data) : Float32Array.from(data),
  };
}

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** For each element of `dims` in row-major order, its index list. */
function* indices(dims: number[]): Generator<number[]> {
  const n = numel(dims);
  const idx = new Array<number>(dims.length).fill(0);
  for (let k = 0; k < n; k++) {
    yield idx;
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
  }
}

/** The same values with other dims (Reshape, Squeeze, Unsqueeze, Flatten). */
export const withDims = (v: OnnxValues, dims: number[]): OnnxValues => make(v, dims, v.data);

export function transposeK(v: OnnxValues, perm: number[]): OnnxValues {
  const dims = perm.map((p) => v.dims[p]!);
  const st = strides(v.dims);
  const out: number[] = [];
  for (const idx of indices(dims)) out.push(v.data[idx.reduce((s, i, a) => s + i * st[perm[a]!]!, 0)]!);
  return make(v, dims, out);
}

export function concatK(vs: OnnxValues[], axis: number): OnnxValues {
  const first = vs[0]!;
  const dims = [...first.dims];
  dims[axis] = vs.reduce((n, v) => n + v.dims[axis]!, 0);
  const out: number[] = [];
  const outer = numel(first.dims.slice(0, axis));
  for (let o = 0; o < outer; o++)
    for (const v of vs) {
      const inner = numel(v.dims.slice(axis));
      for (let i = 0; i < inner; i++) out.push(v.data[o * inner + i]!);
    }
  return make(first, dims, out);
}

/** ONNX Slice's window along one axis of length n: the positions taken. */
export function slicePositions(n: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + n : start;
  let e = end < 0 ? end + n : end;
  if (step > 0) {
    s = clamp(s, 0, n);
    e = clamp(e, 0, n);
  } else {
    s = clamp(s, -1, n - 1);
    e = clamp(e, -1, n - 1);
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

export function sliceK(v: OnnxValues, axes: number[], starts: number[], ends: number[], steps: number[]): OnnxValues {
  const pos = v.dims.map((n, a) => {
    const k = axes.indexOf(a);
    return k < 0 ? [...Array(n).keys()] : slicePositions(n, starts[k]!, ends[k]!, steps[k] ?? 1);
  });
  const dims = pos.map((p) => p.length);
  const st = strides(v.dims);
  const out: number[] = [];
  for (const idx of indices(dims)) out.push(v.data[idx.reduce((s, i, a) => s + pos[a]![i]! * st[a]!, 0)]!);
  return make(v, dims, out);
}
