// where(cond, a, b): a where cond is nonzero, else b, all three broadcast together (NumPy
// rules). The condition is usually a comparison's 0/1 output; it gets no gradient.

import { RuleError } from '../errors.js';
import type { TypedArray } from '../ir/types.js';
import { sizeOf } from '../ir/types.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { gatherIndex } from './wgsl.js';
import { indexMap } from './elementwise.js';
import { defineOp, type OpDef } from './op.js';
import { noAttrs } from './attrs.js';
import { int } from './onnx.js';

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type WhereOpName = 'where';

export const whereOps: { readonly [K in WhereOpName]: OpDef } = {
  where: defineOp({
    name: 'where',
    doc: 'a where cond is nonzero, else b (broadcasting all three).',
    group: 'binary',
    arity: 3,
    attrs: noAttrs,
    infer: ([c, a, b]) => {
      if (a!.dtype !== b!.dtype) throw new RuleError(`dtypes differ: ${a!.dtype} vs ${b!.dtype}`, 'DTypeError');
      return { shape: broadcastShapes(broadcastShapes(c!.shape, a!.shape), b!.shape), dtype: a!.dtype };
    },
    cpu: ({ inputs, output, inTypes, outType }) => {
      const [c, a, b] = inputs as [TypedArray, TypedArray, TypedArray];
      const n = output.length;
      if (c.length === n && a.length === n && b.length === n) {
        return () => {
          for (let i = 0; i < n; i++) output[i] = c[i] ? a[i]! : b[i]!;
        };
      }
      const [ic, ia, ib] = inTypes.map((t) => indexMap(t.shape, outType.shape)) as [Int32Array, Int32Array, Int32Array];
      return () => {
        for (let i = 0; i < n; i++) output[i] = c[ic[i]!] ? a[ia[i]!]! : b[ib[i]!]!;
      };
    },
    // The builder sums the broadcast gradients back to each operand's shape.
    wgsl: ({ inTypes, outType }) => {
      const n = sizeOf(outType.shape);
      const ix = inTypes.map((t) =>
        sizeOf(t.shape) === n
          ? 'i'
          : sizeOf(t.shape) === 1
            ? '0u'
            : gatherIndex('i', outType.shape, broadcastStrides(t.shape, outType.shape)),
      );
      return { kind: 'map', count: n, body: `out[i] = select(in2[${ix[2]}], in1[${ix[1]}], in0[${ix[0]}] != T0(0));` };
    },
    grad: (g, node, dy, needs) => {
      const c = node.inputs[0]!;
      return [null, needs[1] ? g.op('where', [c, dy, 0]) : null, needs[2] ? g.op('where', [c, 0, dy]) : null];
    },
    onnx: (c) => {
      const cond = c.emit('Cast', [c.x[0]!], { to: int(c.elemType('bool')) }); // nonzero is true, as in graph-run
      c.emit('Where', [cond, c.x[1]!, c.x[2]!], undefined, c.out);
    },
  }),
};
