// Elementwise ops with numeric attributes, which the attribute-free tables of elementwise.ts
// cannot hold: leaky_relu (negative_slope) and clip (min, max), each with the helper op its
// gradient rule emits. Semantics and gradients follow PyTorch's leaky_relu and clamp.

import { RuleError } from '../errors.js';
import type { SymType, TypedArray } from '../ir/types.js';
import { defineOp, type CpuKernel, type WgslGen, type OpDef } from './op.js';
import { f32 } from './wgsl.js';
import { Type } from './attrs.js';
import { float } from './onnx.js';

const slopeAttrs = Type.Object(
  {
    negative_slope: Type.Optional(
      Type.Number({ default: 0.01, description: "Slope for x <= 0 (PyTorch's default 0.01).", examples: [0.2] }),
    ),
  },
  { additionalProperties: false },
);

const clipAttrs = Type.Object(
  {
    min: Type.Optional(Type.Number({ description: 'Lower bound (none when absent).', examples: [0, -1] })),
    max: Type.Optional(Type.Number({ description: 'Upper bound (none when absent).', examples: [6, 1] })),
  },
  { additionalProperties: false },
);

function floatSame(name: string) {
  return ([t]: SymType[]): SymType => {
    if (t!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    return { shape: [...t!.shape], dtype: t!.dtype };
  };
}

function bounds(attrs: Record<string, unknown>): [number, number] {
  return [(attrs.min as number | undefined) ?? -Infinity, (attrs.max as number | undefined) ?? Infinity];
}

/** An elementwise kernel over one input; `make` binds the attributes once, at plan time. */
function map1(make: (attrs: Record<string, unknown>) => (x: number) => number): CpuKernel {
  return ({ inputs, output, attrs }) => {
    const x = inputs[0]! as TypedArray;
    const g = make(attrs);
    const n = output.length;
    return () => {
      for (let i = 0; i < n; i++) output[i] = g(x[i]!);
    };
  };
}

/** WGSL over one element `v` = in0[i] (and `d` = in1[i] for gradients); attributes baked in. */
function mapWgsl(expr: (attrs: Record<string, unknown>) => string): WgslGen {
  return ({ outType, attrs }) => ({
    kind: 'map',
    count: outType.shape.reduce((a, b) => a * b, 1),
    body: `let v = in0[i];\nout[i] = ${expr(attrs)};`,
  });
}
const slope = (attrs: Record<string, unknown>) => f32((attrs.negative_slope as number | undefined) ?? 0.01);
/** clip's comparisons, leaving out an absent (infinite) bound. */
function clipWgsl(attrs: Record<string, unknown>, inside: string, outside: (bound: string) => string): string {
  const [lo, hi] = bounds(attrs);
  let e = inside;
  if (hi < Infinity) e = `select(${e}, ${outside(f32(hi))}, v > ${f32(hi)})`;
  if (lo > -Infinity) e = `select(${e}, ${outside(f32(lo))}, v < ${f32(lo)})`;
  return e;
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type PiecewiseOpName = 'leaky_relu' | 'leaky_relu_grad' | 'clip' | 'clip_grad';

export const piecewiseOps: { readonly [K in PiecewiseOpName]: OpDef } = {
  leaky_relu: defineOp({
    name: 'leaky_relu',
    doc: 'x for x > 0, negative_slope * x otherwise (default slope 0.01).',
    group: 'unary',
    arity: 1,
    attrs: slopeAttrs,
    infer: floatSame('leaky_relu'),
    cpu: map1((attrs) => {
      const s = (attrs.negative_slope as number | undefined) ?? 0.01;
      return (x) => (x > 0 ? x : x * s);
    }),
    wgsl: mapWgsl((attrs) => `select(v * ${slope(attrs)}, v, v > 0.0)`),
    grad: (g, node, dy) => [g.op('leaky_relu_grad', [node.inputs[0]!, dy], node.attrs)],
    onnx: (c) => void c.emit('LeakyRelu', [c.x[0]!], { alpha: float(c.node.attrs.negative_slope ?? 0.01) }, c.out),
  }),
  leaky_relu_grad: defineOp({
    name: 'leaky_relu_grad',
    doc: 'dy where x > 0, negative_slope * dy elsewhere: the gradient of leaky_relu, from its input.',
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: slopeAttrs,
    infer: ([x, dy]) => {
      if (x!.shape.join(',') !== dy!.shape.join(',')) throw new RuleError('leaky_relu_grad: x and dy differ in shape');
      return { shape: [...dy!.shape], dtype: dy!.dtype };
    },
    cpu: ({ inputs, output, attrs }) => {
      const [x, dy] = inputs as [TypedArray, TypedArray];
      const s = (attrs.negative_slope as number | undefined) ?? 0.01;
      const n = output.length;
      return () => {
        for (let i = 0; i < n; i++) output[i] = x[i]! > 0 ? dy[i]! : dy[i]! * s;
      };
    },
    wgsl: mapWgsl((attrs) => `select(in1[i] * ${slope(attrs)}, in1[i], v > 0.0)`),
    grad: 'none',
    onnx: 'none',
  }),
  clip: defineOp({
    name: 'clip',
    doc: 'Clamp into [min, max] (either bound optional); the gradient passes where min <= x <= max.',
    group: 'unary',
    arity: 1,
    attrs: clipAttrs,
    infer: (ts, attrs) => {
      const [lo, hi] = bounds(attrs);
      if (lo > hi) throw new RuleError(`clip: min ${lo} is greater than max ${hi}`, 'AttrError');
      return floatSame('clip')(ts);
    },
    // NaN stays NaN (comparisons with NaN are false), as torch.clamp.
    cpu: map1((attrs) => {
      const [lo, hi] = bounds(attrs);
      return (x) => (x < lo ? lo : x > hi ? hi : x);
    }),
    wgsl: mapWgsl((attrs) => clipWgsl(attrs, 'v', (b) => b)),
    grad: (g, node, dy) => [g.op('clip_grad', [node.inputs[0]!, dy], node.attrs)],
    onnx: (c) => {
      const t = c.node.type.dtype;
      const lo = c.node.attrs.min,
        hi = c.node.attrs.max;
      c.emit(
        'Clip',
        [c.x[0]!, lo === undefined ? '' : c.scalar(lo, t), hi === undefined ? '' : c.scalar(hi, t)],
        undefined,
        c.out,
      );
    },
  }),
  clip_grad: defineOp({
    name: 'clip_grad',
    doc: 'dy where min <= x <= max, else 0: the gradient of clip, from its input.',
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: clipAttrs,
    infer: ([x, dy]) => {
      if (x!.shape.join(',') !== dy!.shape.join(',')) throw new RuleError('clip_grad: x and dy differ in shape');
      return { shape: [...dy!.shape], dtype: dy!.dtype };
    },
    cpu: ({ inputs, output, attrs }) => {
      const [x, dy] = inputs as [TypedArray, TypedArray];
      const [lo, hi] = bounds(attrs);
      const n = output.length;
      return () => {
        for (let i = 0; i < n; i++) output[i] = x[i]! >= lo && x[i]! <= hi ? dy[i]! : 0;
      };
    },
    wgsl: mapWgsl((attrs) => clipWgsl(attrs, 'in1[i]', () => '0.0')),
    grad: 'none',
    onnx: 'none',
  }),
};
