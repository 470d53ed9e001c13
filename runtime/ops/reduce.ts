// Reductions along axes: sum and mean (whole tensor by default; `axis` an int or a list,
// negative counting from the end; `keepdims` keeps reduced axes as size 1).

import { RuleError } from '../errors.js';
import { sameShape, sizeOf, type SymType, type TensorType, type TypedArray } from '../ir/types.js';
import { dimDiv, dimToString, sizeOfDims, type Dim } from '../ir/dim.js';
import { contiguousStrides } from './broadcast.js';
import { reduceAttrs } from './attrs.js';
import { reduceAxes } from './axes.js';
import { reduce } from './onnx.js';
import {
  defineOp,
  type CpuAccel,
  type CpuKernel,
  type FastKernel,
  type GradRule,
  type TraceRule,
  type WgslGen,
  type OpDef,
} from './op.js';

export { reduceAttrs, reduceAxes };

type ReduceAttrs = { axis?: number | number[]; keepdims?: boolean };
import { gatherIndex, u32 } from './wgsl.js';

/** For each element of a tensor of `shape`, the flat index of its slot in the reduced output. */
export function reductionMap(shape: readonly number[], axes: readonly number[]): Int32Array {
  const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ost = contiguousStrides(keep);
  const ist = contiguousStrides(shape);
  const n = sizeOf(shape);
  const map = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i,
      o = 0;
    for (let d = 0; d < shape.length; d++) {
      const q = Math.floor(rem / ist[d]!);
      rem -= q * ist[d]!;
      if (keep[d] !== 1) o += q * ost[d]!;
    }
    map[i] = o;
  }
  return map;
}

/** Normalised, sorted, de-duplicated axes of a reduction. */

export function reducedShape<D extends Dim>(shape: readonly D[], axes: number[], keepdims: boolean): D[] {
  const out: D[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1 as D);
  });
  return out;
}

function inferReduce(name: string) {
  return ([t]: SymType[], attrs: ReduceAttrs): SymType => {
    if (t!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    const axes = reduceAxes(t!.shape.length, attrs.axis);
    return { shape: reducedShape(t!.shape, axes, attrs.keepdims === true), dtype: t!.dtype };
  };
}

function reduceKernel(mean: boolean): CpuKernel<ReduceAttrs> {
  return ({ inputs, output, inTypes, attrs }) => {
    const x = inputs[0]!;
    const shape = inTypes[0]!.shape;
    const axes = reduceAxes(shape.length, attrs.axis);
    const n = x.length,
      m = output.length;
    const count = m === 0 ? 0 : n / m;
    if (m === 1) {
      return () => {
        let s = 0;
        for (let i = 0; i < n; i++) s += x[i]!;
        output[0] = mean ? s / count : s;
      };
    }
    // Output index of every input element, computed once.
    const map = reductionMap(shape, axes);
    return () => {
      output.fill(0);
      for (let i = 0; i < n; i++) output[map[i]!]! += x[i]!;
      if (mean) for (let j = 0; j < m; j++) output[j]! /= count;
    };
  };
}

/**
 * WGSL: output j sums in0[base(j) + off(r)] for r < count. For short sums (≤ 512 terms) one
 * invocation per output walks r in order (neighbouring invocations read neighbouring addresses,
 * and the f32 sum runs in the CPU kernel's order). Longer sums with the innermost axis kept and
 * many outputs (column sums) take 16 outputs per workgroup and 16 invocations per output;
 * otherwise one 256-wide workgroup per output strides over r. Both add their partial sums as a
 * tree, so a whole tensor reduces in parallel; f32 partial sums make the result differ from the
 * CPU's in the last bits, relative to the sum of |x| rather than to the (possibly cancelling) result.
 */
function reduceWgsl(mean: boolean): WgslGen<ReduceAttrs> {
  return ({ inTypes, outType, attrs }) => {
    const shape = inTypes[0]!.shape;
    const axes = reduceAxes(shape.length, attrs.axis);
    const ist = contiguousStrides(shape);
    const keptAxes = shape.map((_, d) => d).filter((d) => !axes.includes(d));
    const m = sizeOf(outType.shape);
    const count = m === 0 ? 0 : sizeOf(shape) / m;
    const base = gatherIndex(
      'j',
      keptAxes.map((d) => shape[d]!),
      keptAxes.map((d) => ist[d]!),
    );
    const off = gatherIndex(
      'r',
      axes.map((d) => shape[d]!),
      axes.map((d) => ist[d]!),
    );
    // mean of nothing is 0/0 = NaN, as on the CPU; a literal 0.0/0.0 would not compile.
    const finish = (acc: string) => (mean ? (count === 0 ? `f32_bits(0x7fc00000u)` : `${acc} / ${count}.0`) : acc);
    const innerKept = shape.length > 0 && !axes.includes(shape.length - 1);
    // Short sums are not worth a workgroup's barriers (costly on software Vulkan, too).
    if (count <= 512) {
      return {
        kind: 'map',
        count: m,
        body: `let j = i;\nlet b = ${base};\nvar acc = 0.0;\nfor (var r = 0u; r < ${u32(count)}; r = r + 1u) { acc = acc + in0[b + ${off}]; }\nout[j] = ${finish('acc')};`,
      };
    }
    // Many long column sums (a bias gradient over a large batch): 16 outputs per workgroup, each
    // summed by 16 invocations over interleaved rows, then a 4-level tree, instead of one
    // invocation walking all rows, which leaves a GPU latency-bound on a few warps.
    if (innerKept && m >= 2048) {
      return {
        kind: 'tiled',
        grid: [Math.ceil(m / 16), 1, 1],
        workgroupSize: [256, 1, 1],
        decls: 'var<workgroup> part: array<f32, 256>;',
        body: [
          'let lx = lidx % 16u;',
          'let ly = lidx / 16u;',
          'let j = wid.x * 16u + lx;',
          'var acc = 0.0;',
          `if (j < ${u32(m)}) {`,
          `  let b = ${base};`,
          `  for (var r = ly; r < ${u32(count)}; r = r + 16u) { acc = acc + in0[b + ${off}]; }`,
          '}',
          'part[lidx] = acc;',
          'workgroupBarrier();',
          'for (var s = 8u; s > 0u; s = s >> 1u) {',
          '  if (ly < s) { part[lidx] = part[lidx] + part[lidx + s * 16u]; }',
          '  workgroupBarrier();',
          '}',
          `if (ly == 0u && j < ${u32(m)}) { out[j] = ${finish('part[lx]')}; }`,
        ].join('\n'),
      };
    }
    return {
      kind: 'tiled',
      grid: [m, 1, 1],
      workgroupSize: [256, 1, 1],
      decls: 'var<workgroup> part: array<f32, 256>;',
      body: [
        'let j = wid.x;',
        `let b = ${base};`,
        'var acc = 0.0;',
        `for (var r = lidx; r < ${u32(count)}; r = r + 256u) { acc = acc + in0[b + ${off}]; }`,
        'part[lidx] = acc;',
        'workgroupBarrier();',
        'for (var s = 128u; s > 0u; s = s >> 1u) {',
        '  if (lidx < s) { part[lidx] = part[lidx] + part[lidx + s]; }',
        '  workgroupBarrier();',
        '}',
        `if (lidx == 0u) { out[j] = ${finish('part[0]')}; }`,
      ].join('\n'),
    };
  };
}

function reduceGrad(mean: boolean): GradRule<ReduceAttrs> {
  return (g, node, dy) => {
    const inShape = g.type(node.inputs[0]!).shape;
    const axes = reduceAxes(inShape.length, node.attrs.axis);
    const kept = reducedShape(inShape, axes, true);
    let d = dy;
    // A scalar dy broadcasts as it is; otherwise put the reduced axes back as size 1 first.
    const dyShape = g.type(dy).shape;
    if (node.attrs.keepdims !== true && dyShape.length > 0) d = g.op('reshape', [d], { shape: kept });
    if (!sameShape(g.type(d).shape, inShape)) d = g.op('broadcast_to', [d], { shape: [...inShape] });
    // The count of reduced elements: batch-dependent when a reduced axis is (a constant the plan binds).
    if (mean) d = g.op('div', [d, meanCount(inShape, kept)]);
    return [d];
  };
}

/** sizeOf(shape) / max(1, sizeOf(kept)), with `batch` symbolic. */
export function meanCount(shape: readonly Dim[], kept: readonly Dim[]): Dim {
  const n = sizeOfDims(shape),
    k = sizeOfDims(kept);
  if (k === 0) return n;
  const q = dimDiv(n, k);
  if (q === undefined) throw new RuleError(`cannot divide ${dimToString(n)} elements into ${dimToString(k)} groups`);
  return q;
}

/** `sum(x, axis 1, keepdims)`. */
export const reduceTrace: TraceRule<ReduceAttrs> = ({ node, args }) => {
  const parts: string[] = [];
  const axis = node.attrs.axis;
  if (Array.isArray(axis)) parts.push(axis.length === 1 ? `axis ${String(axis[0])}` : `axes [${axis.join(', ')}]`);
  else if (axis !== undefined) parts.push(`axis ${String(axis)}`);
  if (node.attrs.keepdims === true) parts.push('keepdims');
  return { text: `${node.op}(${args[0]!.text}${parts.length ? `, ${parts.join(', ')}` : ''})`, atom: true };
};

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type ReduceOpName = 'sum' | 'mean';

export const reduceOps: { readonly [K in ReduceOpName]: OpDef } = {
  sum: defineOp({
    name: 'sum',
    doc: 'Sum over axes.',
    group: 'reduce',
    arity: 1,
    attrs: reduceAttrs,
    infer: inferReduce('sum'),
    cpu: reduceKernel(false),
    fast: fastReduce(false),
    wgsl: reduceWgsl(false),
    grad: reduceGrad(false),
    onnx: reduce('ReduceSum'),
    trace: reduceTrace,
  }),
  mean: defineOp({
    name: 'mean',
    doc: 'Mean over axes.',
    group: 'reduce',
    arity: 1,
    attrs: reduceAttrs,
    infer: inferReduce('mean'),
    cpu: reduceKernel(true),
    fast: fastReduce(true),
    wgsl: reduceWgsl(true),
    grad: reduceGrad(true),
    onnx: reduce('ReduceMean'),
    trace: reduceTrace,
  }),
};

// The fast CPU tier's sum and mean for the two layouts training produces (a bias gradient sums the
// leading batch axis; a per-row reduction sums the trailing axes): straight loops instead of
// the reference kernel's scatter through an index map. Bit-identical to the reference: each
// output element adds the same inputs in the same order, rounded to the output's precision
// after every add, as the reference's `output[map[i]] += x[i]` does.

function fastReduce(mean: boolean): FastKernel<ReduceAttrs> {
  return (accel, { inputs, output, inTypes, attrs }) => fastReduceKernel(mean, inputs, output, inTypes, attrs, accel);
}

function fastReduceKernel(
  isMean: boolean,
  inputs: TypedArray[],
  output: TypedArray,
  inTypes: TensorType[],
  attrs: ReduceAttrs,
  accel?: CpuAccel,
): (() => void) | null {
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
    mean = isMean;
  // Size-1 axes do not matter for the layout: look at the others, reduced (1) or kept (0).
  const flags = shape.map((d, i) => (d === 1 ? -1 : axes.includes(i) ? 1 : 0)).filter((f) => f >= 0);
  const firstKept = flags.indexOf(0),
    lastReduced = flags.lastIndexOf(1);
  const leading = firstKept < 0 || lastReduced < firstKept; // reduced..., kept...
  const trailing = lastReduced < 0 || flags.indexOf(1) > flags.lastIndexOf(0); // kept..., reduced...
  const f32 = t.dtype === 'f32';
  // f32: the SIMD loops (executors/cpu/wasm/reduce.ts), same order and bits.
  const simd =
    accel && x instanceof Float32Array && y instanceof Float32Array && (leading || trailing)
      ? accel.sumF32(
          leading ? 'columns' : 'rows',
          x,
          y,
          leading ? count : m,
          leading ? m : count,
          mean ? count : undefined,
        )
      : null;
  if (simd) return simd;
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
