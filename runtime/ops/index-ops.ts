// Ops driven by integer (i32) indices: gather (PyTorch's torch.gather / NumPy's
// take_along_axis: picks one element per index along an axis, e.g. the log-probability of each
// sample's label), its gradient scatter_add, and one_hot. Indices out of range are data errors
// that the session checks before a run (train/data.ts); the kernels re-check rather than read
// outside a buffer.

import { RuleError } from '../errors.js';
import { contiguousStrides } from './broadcast.js';
import { sizeOf, shapeStr, type SymType } from '../ir/types.js';
import type { Dim } from '../ir/dim.js';
import { defineOp, type WgslGen, type OpDef } from './op.js';
import { reduceAxes } from './reduce.js';
import { gatherIndex, u32 } from './wgsl.js';
import { Type } from './attrs.js';
import { int } from './onnx.js';

/** An index outside its axis reached a kernel (the session's data checks normally stop it first). */
export class IndexRangeError extends RangeError {
  constructor(
    readonly index: number,
    readonly size: number,
    readonly op: string,
  ) {
    super(`${op}: index ${index} is outside [0, ${size})`);
  }
}

const gatherAxisAttr = Type.Optional(
  Type.Integer({
    description: 'The axis the indices select along (negative counts from the end); default -1.',
    default: -1,
    examples: [-1, 1],
  }),
);
const gatherAttrs = Type.Object({ axis: gatherAxisAttr }, { additionalProperties: false });

function gatherAxis(rank: number, attrs: Record<string, unknown>): number {
  return reduceAxes(rank, attrs.axis ?? -1)[0]!;
}

function checkGather(x: SymType, idx: SymType, attrs: Record<string, unknown>): number {
  if (idx.dtype !== 'i32') throw new RuleError(`gather indices must be i32, got ${idx.dtype}`, 'DTypeError');
  if (x.shape.length === 0) throw new RuleError('gather needs a tensor with at least one axis');
  if (idx.shape.length !== x.shape.length) {
    throw new RuleError(
      `gather indices ${shapeStr(idx.shape)} need the rank of the tensor ${shapeStr(x.shape)}`,
      'ShapeError',
    );
  }
  const axis = gatherAxis(x.shape.length, attrs);
  idx.shape.forEach((d, i) => {
    // Symbolic dims are compared only for equality: an index batch-long where the tensor is too.
    const n = x.shape[i]!;
    if (i !== axis && d !== n && (typeof d !== 'number' || typeof n !== 'number' || d > n)) {
      throw new RuleError(
        `gather indices ${shapeStr(idx.shape)} are longer than the tensor ${shapeStr(x.shape)} along axis ${i}`,
      );
    }
  });
  return axis;
}

/**
 * For out[j] (j over the index tensor): the flat position in x of element j with its `axis`
 * coordinate replaced by 0 (the index adds axis stride * index at run time).
 */
function gatherBase(xShape: readonly number[], idxShape: readonly number[], axis: number): Int32Array {
  const xst = contiguousStrides(xShape);
  const ist = contiguousStrides(idxShape);
  const n = sizeOf(idxShape);
  const base = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let rem = j,
      b = 0;
    for (let d = 0; d < idxShape.length; d++) {
      const q = Math.floor(rem / ist[d]!);
      rem -= q * ist[d]!;
      if (d !== axis) b += q * xst[d]!;
    }
    base[j] = b;
  }
  return base;
}

/**
 * WGSL gather: out[j] = x[base(j) + k * stride]. An index outside the axis (which the session's
 * data checks stop before a run) reads 0 rather than another element.
 */
const gatherWgsl: WgslGen = ({ inTypes, outType, attrs }) => {
  const xs = inTypes[0]!.shape,
    is = inTypes[1]!.shape;
  const axis = gatherAxis(xs.length, attrs);
  const xst = contiguousStrides(xs);
  const base = gatherIndex(
    'i',
    is,
    is.map((_, d) => (d === axis ? 0 : xst[d]!)),
  );
  const body = [
    'let k = in1[i];',
    `if (k < 0 || k >= ${xs[axis]!}) { out[i] = 0.0; return; }`,
    `out[i] = in0[${base} + u32(k) * ${u32(xst[axis]!)}];`,
  ].join('\n');
  return { kind: 'map', count: sizeOf(outType.shape), body };
};

/**
 * WGSL scatter_add without atomics (WGSL has none for f32): each output element sums, in the
 * CPU's order, the sources in its line along the axis whose index names it.
 */
const scatterWgsl: WgslGen = ({ inTypes, outType, attrs }) => {
  const xs = outType.shape,
    is = inTypes[1]!.shape;
  const axis = gatherAxis(xs.length, attrs);
  const xst = contiguousStrides(xs),
    ist = contiguousStrides(is);
  const coord = (d: number) => `((i / ${u32(xst[d]!)}) % ${u32(xs[d]!)})`;
  const outside = xs
    .map((_, d) => d)
    .filter((d) => d !== axis && is[d]! < xs[d]!)
    .map((d) => `${coord(d)} >= ${u32(is[d]!)}`);
  const src0 =
    xs
      .map((_, d) => d)
      .filter((d) => d !== axis)
      .map((d) => `${coord(d)} * ${u32(ist[d]!)}`)
      .join(' + ') || '0u';
  const body = [
    ...(outside.length ? [`if (${outside.join(' || ')}) { out[i] = 0.0; return; }`] : []),
    `let c = i32(${coord(axis)});`,
    `let j0 = ${src0};`,
    'var acc = 0.0;',
    `for (var p = 0u; p < ${u32(is[axis]!)}; p = p + 1u) {`,
    `  let j = j0 + p * ${u32(ist[axis]!)};`,
    '  if (in1[j] == c) { acc = acc + in0[j]; }',
    '}',
    'out[i] = acc;',
  ].join('\n');
  return { kind: 'map', count: sizeOf(xs), body };
};

const scatterAttrs = Type.Object(
  {
    axis: gatherAxisAttr,
    shape: Type.Array(Type.Integer({ minimum: 0 }), {
      description: "Shape of the result (the gathered tensor's).",
      examples: [[4, 3]],
    }),
  },
  { additionalProperties: false },
);

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type IndexOpName = 'gather' | 'scatter_add' | 'one_hot';

export const indexOps: { readonly [K in IndexOpName]: OpDef } = {
  gather: defineOp({
    name: 'gather',
    doc: "out[..., j, ...] = x[..., index[..., j, ...], ...] along an axis (torch.gather); index is i32 with x's rank.",
    group: 'shape',
    arity: 2,
    attrs: gatherAttrs,
    infer: ([x, idx], attrs) => {
      if (x!.dtype === 'i32')
        throw new RuleError('gather reads a float tensor; its second input holds the indices', 'DTypeError');
      checkGather(x!, idx!, attrs);
      return { shape: [...idx!.shape], dtype: x!.dtype };
    },
    cpu: ({ inputs, output, inTypes, attrs }) => {
      const [x, idx] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
      const xs = inTypes[0]!.shape,
        is = inTypes[1]!.shape;
      const axis = gatherAxis(xs.length, attrs);
      const base = gatherBase(xs, is, axis);
      const stride = contiguousStrides(xs)[axis]!,
        size = xs[axis]!;
      const n = output.length;
      return () => {
        for (let j = 0; j < n; j++) {
          const k = idx![j]!;
          if (k < 0 || k >= size) throw new IndexRangeError(k, size, 'gather');
          output[j] = x![base[j]! + k * stride]!;
        }
      };
    },
    wgsl: gatherWgsl,
    grad: (g, node, dy, needs) => [
      needs[0]
        ? g.op('scatter_add', [dy, node.inputs[1]!], {
            axis: gatherAxis(g.type(node.inputs[0]!).shape.length, node.attrs),
            shape: [...g.type(node.inputs[0]!).shape],
          })
        : null,
      null,
    ],
    onnx: (c) =>
      void c.emit(
        'GatherElements',
        [c.x[0]!, c.x[1]!],
        { axis: int(reduceAxes(c.types[0]!.shape.length, c.node.attrs.axis ?? 0)[0]!) },
        c.out,
      ),
  }),
  scatter_add: defineOp({
    name: 'scatter_add',
    doc: 'Zeros of `shape` with src[..., j, ...] added at index[..., j, ...] along an axis: the gradient of gather.',
    group: 'shape',
    arity: 2,
    attrs: scatterAttrs,
    infer: ([src, idx], attrs) => {
      const shape = attrs.shape as Dim[];
      if (src!.dtype === 'i32') throw new RuleError('scatter_add adds a float tensor', 'DTypeError');
      checkGather({ shape, dtype: src!.dtype }, idx!, attrs);
      if (src!.shape.join(',') !== idx!.shape.join(','))
        throw new RuleError(`scatter_add source ${shapeStr(src!.shape)} and indices ${shapeStr(idx!.shape)} differ`);
      return { shape: [...shape], dtype: src!.dtype };
    },
    cpu: ({ inputs, output, inTypes, outType, attrs }) => {
      const [src, idx] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
      const xs = outType.shape,
        is = inTypes[1]!.shape;
      const axis = gatherAxis(xs.length, attrs);
      const base = gatherBase(xs, is, axis);
      const stride = contiguousStrides(xs)[axis]!,
        size = xs[axis]!;
      const n = src!.length;
      return () => {
        output.fill(0);
        for (let j = 0; j < n; j++) {
          const k = idx![j]!;
          if (k < 0 || k >= size) throw new IndexRangeError(k, size, 'scatter_add');
          output[base[j]! + k * stride]! += src![j]!;
        }
      };
    },
    wgsl: scatterWgsl,
    grad: 'none',
    onnx: 'none',
  }),
  one_hot: defineOp({
    name: 'one_hot',
    notes:
      'Labels reaching `gather` or `one_hot` from an i32 input are checked against the class range before ' +
      'training; an out-of-range label is reported at its row in the data (file:line:col).',
    doc: 'i32 labels -> float one-hot vectors along a new last axis of size `classes`. No gradient.',
    group: 'shape',
    arity: 1,
    attrs: Type.Object(
      {
        classes: Type.Integer({ minimum: 1, description: "Number of classes (the new axis's size).", examples: [10] }),
      },
      { additionalProperties: false },
    ),
    infer: ([t], attrs, ctx) => {
      if (t!.dtype !== 'i32') throw new RuleError(`one_hot takes i32 labels, got ${t!.dtype}`, 'DTypeError');
      return { shape: [...t!.shape, attrs.classes as number], dtype: ctx.float };
    },
    cpu: ({ inputs, output, attrs }) => {
      const labels = inputs[0]!;
      const c = attrs.classes as number;
      const n = labels.length;
      return () => {
        output.fill(0);
        for (let j = 0; j < n; j++) {
          const k = labels[j]!;
          if (k < 0 || k >= c) throw new IndexRangeError(k, c, 'one_hot');
          output[j * c + k] = 1;
        }
      };
    },
    wgsl: ({ outType, attrs }) => {
      const c = attrs.classes as number;
      return {
        kind: 'map',
        count: sizeOf(outType.shape),
        body: `out[i] = select(TO(0), TO(1), in0[i / ${u32(c)}] == i32(i % ${u32(c)}));`,
      };
    },
    grad: 'none',
    onnx: (c) => {
      // ONNX Runtime's OneHot takes i32 indices with an i32 depth and f32 values; f64 is a cast.
      const depth = c.constant(`${c.node.name}/onnx_depth`, 'i32', [1], [c.node.attrs.classes]);
      const values = c.constant(`${c.node.name}/onnx_values`, 'f32', [2], [0, 1]);
      const f64 = c.node.type.dtype === 'f64';
      const r = c.emit('OneHot', [c.x[0]!, depth, values], { axis: int(-1) }, f64 ? undefined : c.out);
      if (f64) c.emit('Cast', [r], { to: int(c.elemType('f64')) }, c.out);
    },
  }),
};
