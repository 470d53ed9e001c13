// Ops that move data without arithmetic: reshape, transpose, broadcast_to.

import { RuleError } from '../errors.js';
import { shapeStr, sizeOf } from '../ir/types.js';
import { dimDiv, dimToString, sizeOfDims, type Dim } from '../ir/dim.js';
import { broadcastShapes, broadcastStrides, contiguousStrides } from './broadcast.js';
import { indexMap } from './elementwise.js';
import { defineOp, type OpDef } from './op.js';
import { gatherIndex } from './wgsl.js';
import { shapeAttr, Type } from './attrs.js';
import { broadcastFast, transposeFast } from './shape-runs.js';
import { int, ints } from './onnx.js';

const shapeAttrs = Type.Object(
  { shape: shapeAttr('Target shape; one entry may be -1 (inferred); `batch` stands for the batch size.') },
  { additionalProperties: false },
);

export function invertPerm(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

function permOf(rank: number, attrs: Record<string, unknown>): number[] {
  const perm = (attrs.perm as number[] | undefined) ?? [...Array(rank).keys()].reverse();
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    throw new RuleError(`perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`, 'AttrError');
  }
  return perm;
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type ShapeOpName = 'reshape' | 'transpose' | 'broadcast_to';

export const shapeOps: { readonly [K in ShapeOpName]: OpDef } = {
  reshape: defineOp({
    name: 'reshape',
    doc: 'Same elements, new shape (row-major).',
    group: 'shape',
    arity: 1,
    attrs: shapeAttrs,
    infer: ([t], attrs) => {
      const want = attrs.shape as Dim[];
      const n = sizeOfDims(t!.shape);
      const known = want.filter((d) => d !== -1);
      if (want.length - known.length > 1)
        throw new RuleError('at most one dimension of a reshape may be -1', 'AttrError');
      const k = sizeOfDims(known);
      // -1 is what the other dims leave; with `batch` symbolic it must divide for every batch size.
      const fill = k === 0 ? 0 : dimDiv(n, k);
      const shape = want.map((d) => (d === -1 ? (fill ?? -1) : d));
      if (fill === undefined || sizeOfDims(shape) !== n) {
        throw new RuleError(`cannot reshape ${shapeStr(t!.shape)} (${dimToString(n)} elements) to ${shapeStr(want)}`);
      }
      return { shape, dtype: t!.dtype };
    },
    cpu: ({ inputs, output }) => {
      const x = inputs[0]!;
      return () => output.set(x);
    },
    wgsl: ({ outType }) => ({ kind: 'map', count: sizeOf(outType.shape), body: 'out[i] = in0[i];' }),
    grad: (g, node, dy) => [g.op('reshape', [dy], { shape: [...g.type(node.inputs[0]!).shape] })],
    onnx: (c) => {
      const want = [...c.node.attrs.shape];
      const moving = c.batchDims('shape');
      if (moving.length) {
        if (moving.length > 1 || want.includes(-1)) {
          c.fail(
            `cannot export node "${c.node.name}" (reshape): its target shape [${want.join(', ')}] has more than one dimension that follows the batch size`,
            'write the batch dimension as -1',
          );
        }
        want[moving[0]!] = -1;
      }
      c.emit('Reshape', [c.x[0]!, c.i64(want, 'shape')], want.includes(0) ? { allowzero: int(1) } : undefined, c.out);
    },
    trace: ({ node, args }) => ({ text: `${node.op}(${args[0]!.text}, [${node.attrs.shape.join(', ')}])`, atom: true }),
  }),
  transpose: defineOp({
    name: 'transpose',
    doc: 'Permute axes (default: reverse them).',
    group: 'shape',
    arity: 1,
    attrs: Type.Object(
      {
        perm: Type.Optional(
          Type.Array(Type.Integer({ minimum: 0 }), {
            description: 'Output axis i is input axis perm[i].',
            examples: [
              [1, 0],
              [0, 2, 1],
            ],
          }),
        ),
      },
      { additionalProperties: false },
    ),
    infer: ([t], attrs) => {
      const perm = permOf(t!.shape.length, attrs);
      return { shape: perm.map((p) => t!.shape[p]!), dtype: t!.dtype };
    },
    cpu: ({ inputs, output, inTypes, outType, attrs }) => {
      const x = inputs[0]!;
      const shape = inTypes[0]!.shape;
      const perm = permOf(shape.length, attrs);
      const ist = contiguousStrides(shape);
      const ost = contiguousStrides(outType.shape);
      const n = output.length;
      const map = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let rem = i,
          src = 0;
        for (let d = 0; d < perm.length; d++) {
          const q = Math.floor(rem / ost[d]!);
          rem -= q * ost[d]!;
          src += q * ist[perm[d]!]!;
        }
        map[i] = src;
      }
      return () => {
        for (let i = 0; i < n; i++) output[i] = x[map[i]!]!;
      };
    },
    fast: (accel, { inputs, output, inTypes, attrs }) =>
      transposeFast(accel, inputs, output, inTypes[0]!.shape, permOf(inTypes[0]!.shape.length, attrs)),
    wgsl: ({ inTypes, outType, attrs }) => {
      const shape = inTypes[0]!.shape;
      const ist = contiguousStrides(shape);
      const src = gatherIndex(
        'i',
        outType.shape,
        permOf(shape.length, attrs).map((p) => ist[p]!),
      );
      return { kind: 'map', count: sizeOf(outType.shape), body: `out[i] = in0[${src}];` };
    },
    grad: (g, node, dy) => [
      g.op('transpose', [dy], { perm: invertPerm(permOf(g.type(node.inputs[0]!).shape.length, node.attrs)) }),
    ],
    onnx: (c) => {
      const rank = c.types[0]!.shape.length;
      const perm = c.node.attrs.perm ?? [...Array(rank).keys()].reverse();
      c.emit('Transpose', [c.x[0]!], { perm: ints(perm.map((p) => (p < 0 ? p + rank : p))) }, c.out);
    },
    trace: ({ node, args, paren }) => {
      const perm = node.attrs.perm;
      return { text: perm ? `transpose(${args[0]!.text}, [${perm.join(', ')}])` : `${paren(args[0]!)}ᵀ`, atom: true };
    },
  }),
  broadcast_to: defineOp({
    name: 'broadcast_to',
    doc: 'Repeat along size-1 (or missing leading) axes to reach `shape`.',
    group: 'shape',
    arity: 1,
    attrs: shapeAttrs,
    infer: ([t], attrs) => {
      const want = attrs.shape as Dim[];
      const out = broadcastShapes(t!.shape, want);
      if (out.length !== want.length || out.some((d, i) => d !== want[i])) {
        throw new RuleError(`cannot broadcast ${shapeStr(t!.shape)} to ${shapeStr(want)}`);
      }
      return { shape: [...want], dtype: t!.dtype };
    },
    cpu: ({ inputs, output, inTypes, outType }) => {
      const x = inputs[0]!;
      const n = output.length;
      if (x.length === 1) return () => output.fill(x[0]!);
      const map = indexMap(inTypes[0]!.shape, outType.shape);
      return () => {
        for (let i = 0; i < n; i++) output[i] = x[map[i]!]!;
      };
    },
    fast: (accel, { inputs, output, inTypes, outType }) =>
      broadcastFast(accel, inputs, output, inTypes[0]!.shape, outType.shape),
    wgsl: ({ inTypes, outType }) => {
      const src = gatherIndex('i', outType.shape, broadcastStrides(inTypes[0]!.shape, outType.shape));
      return { kind: 'map', count: sizeOf(outType.shape), body: `out[i] = in0[${src}];` };
    },
    // The builder sums the output-shaped gradient back to the input's shape.
    grad: (_g, _node, dy) => [dy],
    onnx: (c) => {
      const want = [...c.node.attrs.shape];
      // Expand broadcasts both ways, so 1 keeps a dimension the input already has.
      const inShape = c.types[0]!.shape;
      for (const i of c.batchDims('shape')) {
        const j = i - (want.length - inShape.length);
        if (j < 0 || inShape[j] === 1)
          c.fail(`cannot export node "${c.node.name}" (broadcast_to): it broadcasts to the batch size`);
        want[i] = 1;
      }
      c.emit('Expand', [c.x[0]!, c.i64(want, 'shape')], undefined, c.out);
    },
    trace: ({ node, args }) => ({ text: `${node.op}(${args[0]!.text}, [${node.attrs.shape.join(', ')}])`, atom: true }),
  }),
};
