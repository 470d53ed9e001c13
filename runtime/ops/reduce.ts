// Reductions along axes: sum and mean (whole tensor by default; `axis` an int or a list,
// negative counting from the end; `keepdims` keeps reduced axes as size 1).

import { RuleError } from '../errors.js';
import { sameShape, sizeOf, type TensorType } from '../ir/types.js';
import { contiguousStrides } from './broadcast.js';
import type { CpuKernel, GradRule, OpDef, WgslGen } from './op.js';
import { gatherIndex, u32 } from './wgsl.js';

/** The attributes of every reduction over axes (sum, mean, max, min, logsumexp, ...). */
export const reduceAttrs = {
  type: 'object',
  additionalProperties: false,
  properties: {
    axis: {
      description: 'Axis or axes to reduce (negative counts from the end); all axes when absent.',
      oneOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' } }],
    },
    keepdims: { type: 'boolean', description: 'Keep reduced axes with size 1.', default: false },
  },
};

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

export function reducedShape(shape: number[], axes: number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

function inferReduce(name: string) {
  return ([t]: TensorType[], attrs: Record<string, unknown>): TensorType => {
    if (t!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    const axes = reduceAxes(t!.shape.length, attrs.axis);
    return { shape: reducedShape(t!.shape, axes, attrs.keepdims === true), dtype: t!.dtype };
  };
}

function reduceKernel(mean: boolean): CpuKernel {
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
 * WGSL: output j sums in0[base(j) + off(r)] for r < count. For short sums, or with the
 * innermost axis kept and many outputs, one invocation per output walks r in order (neighbouring invocations read
 * neighbouring addresses, and the f32 sum runs in the CPU kernel's order). Otherwise one
 * 256-wide workgroup per output strides over r and adds the partial sums as a tree, so a whole
 * tensor reduces in parallel; f32 partial sums make the result differ from the CPU's in the
 * last bits, relative to the sum of |x| rather than to the (possibly cancelling) result.
 */
function reduceWgsl(mean: boolean): WgslGen {
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
    if (count <= 512 || (innerKept && m >= 2048)) {
      return {
        kind: 'map',
        count: m,
        body: `let j = i;\nlet b = ${base};\nvar acc = 0.0;\nfor (var r = 0u; r < ${u32(count)}; r = r + 1u) { acc = acc + in0[b + ${off}]; }\nout[j] = ${finish('acc')};`,
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

function reduceGrad(mean: boolean): GradRule {
  return (g, node, dy) => {
    const inShape = g.type(node.inputs[0]!).shape;
    const axes = reduceAxes(inShape.length, node.attrs.axis);
    const kept = reducedShape(inShape, axes, true);
    let d = dy;
    // A scalar dy broadcasts as it is; otherwise put the reduced axes back as size 1 first.
    const dyShape = g.type(dy).shape;
    if (node.attrs.keepdims !== true && dyShape.length > 0) d = g.op('reshape', [d], { shape: kept });
    if (!sameShape(g.type(d).shape, inShape)) d = g.op('broadcast_to', [d], { shape: [...inShape] });
    if (mean) d = g.op('div', [d, sizeOf(inShape) / Math.max(1, sizeOf(kept))]);
    return [d];
  };
}

export const reduceOps = {
  sum: {
    name: 'sum',
    doc: 'Sum over axes.',
    arity: 1,
    attrs: reduceAttrs,
    infer: inferReduce('sum'),
    cpu: reduceKernel(false),
    wgsl: reduceWgsl(false),
    grad: reduceGrad(false),
  },
  mean: {
    name: 'mean',
    doc: 'Mean over axes.',
    arity: 1,
    attrs: reduceAttrs,
    infer: inferReduce('mean'),
    cpu: reduceKernel(true),
    wgsl: reduceWgsl(true),
    grad: reduceGrad(true),
  },
} satisfies Record<string, OpDef>;
