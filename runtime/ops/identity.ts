// Ops that pass values through: stop_gradient (the same values, cut out of the reverse graph)
// and cast (float <-> integer conversion, e.g. argmax's i32 result to a float for averaging).

import { RuleError } from '../errors.js';
import { isFloat, sizeOf, type DType } from '../ir/types.js';
import { defineOp, type OpDef } from './op.js';
import { noAttrs, Type } from './attrs.js';
import { int } from './onnx.js';

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type IdentityOpName = 'stop_gradient' | 'cast';

export const identityOps: { readonly [K in IdentityOpName]: OpDef } = {
  stop_gradient: defineOp({
    name: 'stop_gradient',
    doc: 'The input unchanged; no gradient flows back through it.',
    group: 'unary',
    arity: 1,
    attrs: noAttrs,
    infer: ([t]) => ({ shape: [...t!.shape], dtype: t!.dtype }),
    cpu: ({ inputs, output }) => {
      const x = inputs[0]!;
      return () => output.set(x);
    },
    wgsl: ({ outType }) => ({ kind: 'map', count: sizeOf(outType.shape), body: 'out[i] = in0[i];' }),
    grad: 'none',
    onnx: (c) => void c.emit('Identity', [c.x[0]!], undefined, c.out),
  }),
  cast: defineOp({
    name: 'cast',
    doc: "Convert to another dtype: `float` (the graph's float), f32, f64 or i32 (truncating toward zero).",
    group: 'unary',
    arity: 1,
    attrs: Type.Object(
      {
        dtype: Type.Unsafe<'float' | 'f32' | 'f64' | 'i32'>({
          enum: ['float', 'f32', 'f64', 'i32'],
          description: "The result's dtype.",
          examples: ['i32', 'float'],
        }),
      },
      { additionalProperties: false },
    ),
    infer: ([t], attrs, ctx) => {
      const want = attrs.dtype === 'float' ? ctx.float : (attrs.dtype as DType);
      if (!isFloat(t!.dtype) && !isFloat(want) && t!.dtype !== want)
        throw new RuleError(`cannot cast ${t!.dtype} to ${want}`, 'DTypeError');
      return { shape: [...t!.shape], dtype: want };
    },
    cpu: ({ inputs, output, outType }) => {
      const x = inputs[0]!;
      const n = output.length;
      // Typed-array stores convert: Float32Array rounds to nearest, Int32Array would wrap, so
      // integer casts truncate explicitly (as PyTorch's .to(torch.int32) does).
      if (outType.dtype === 'i32') {
        return () => {
          for (let i = 0; i < n; i++) output[i] = Math.trunc(x[i]!);
        };
      }
      return () => output.set(x);
    },
    // WGSL's i32(f32) truncates toward zero, as Math.trunc; the frame's aliases give the types.
    wgsl: ({ outType }) => ({ kind: 'map', count: sizeOf(outType.shape), body: 'out[i] = TO(in0[i]);' }),
    // Between floats the gradient is cast back; to or from integers nothing flows.
    grad: (g, node, dy) => [
      isFloat(node.type.dtype) && isFloat(g.type(node.inputs[0]!).dtype)
        ? g.op('cast', [dy], { dtype: g.type(node.inputs[0]!).dtype })
        : null,
    ],
    onnx: (c) => void c.emit('Cast', [c.x[0]!], { to: int(c.elemType(c.node.type.dtype)) }, c.out),
  }),
};
