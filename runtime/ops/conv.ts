// Convolutions as PyTorch defines them (cross-correlation): conv2d on NCHW with weights
// [out, in/groups, kh, kw], conv1d on NCL with [out, in/groups, k]; stride, padding (a number,
// per axis, per side, 'same' or 'valid'), dilation, groups and an optional bias [out]. Both run
// as one 2-D geometry (conv-geom.ts; conv1d is H = 1). The gradients to the input and the
// weight are two internal ops (conv_input_grad, conv_weight_grad); the bias's is a sum of dy.

import { RuleError } from '../errors.js';
import { shapeStr, sizeOf, type SymType, type TensorType } from '../ir/types.js';
import type { Dim } from '../ir/dim.js';
import { defineOp, type GradRule, type OpDef } from './op.js';
import { Type } from './attrs.js';
import { int, ints } from './onnx.js';
import {
  as2d,
  concrete,
  expand,
  geom,
  gradAttrs,
  perAxis,
  type ConvAttrs,
  type ConvGeom,
  type ConvGradAttrs,
} from './conv-geom.js';
import { convFast, convRef, inputGradFast, inputGradRef, weightGradFast, weightGradRef } from './conv-cpu.js';
import { convWgsl, inputGradWgsl, weightGradWgsl } from './conv.wgsl.js';

function convAttrs(rank: 1 | 2) {
  const two = rank === 2;
  return Type.Object(
    {
      stride: perAxis(
        `Step between windows: one integer${two ? ' or [sh, sw]' : ''}; default 1.`,
        two ? [2, [2, 1]] : [2],
      ),
      padding: Type.Optional(
        Type.Unsafe<number | number[] | string>({
          description: two
            ? "Zeros added around the input: an integer (every side), [ph, pw] (both sides of each axis), [top, left, bottom, right], 'valid' (none, the default) or 'same' (stride 1: output size = input size, an odd total padding puts the extra row/column at the end, as PyTorch)."
            : "Zeros added around the input: an integer (both sides), [left, right], 'valid' (none, the default) or 'same' (stride 1: output length = input length, as PyTorch).",
          examples: two ? [1, [1, 2], [0, 0, 1, 1], 'same'] : [1, [2, 0], 'same'],
          type: ['integer', 'array', 'string'],
          minimum: 0,
          items: { type: 'integer', minimum: 0 },
          minItems: 1,
          maxItems: 4,
          pattern: '^(same|valid)$',
        }),
      ),
      dilation: perAxis(`Spacing between kernel taps: one integer${two ? ' or [dh, dw]' : ''}; default 1.`, [2]),
      groups: Type.Optional(
        Type.Integer({
          description: 'Channel groups: input and output channels split into this many independent convolutions.',
          minimum: 1,
          default: 1,
          examples: [2],
        }),
      ),
    },
    { additionalProperties: false },
  );
}

/** Two flops per multiply-add: each of dy's (or y's) elements meets one kernel's taps of one channel group. */
const convFlops = (dy: TensorType, w: TensorType): number => (2 * sizeOf(dy.shape) * sizeOf(w.shape)) / w.shape[0]!;

/** Shape rule of conv1d/conv2d: named, positioned errors for every mismatch. */
function inferConv(rank: 1 | 2) {
  const name = rank === 1 ? 'conv1d' : 'conv2d';
  const layout = rank === 1 ? '[N, C, L]' : '[N, C, H, W]';
  const wlayout = rank === 1 ? '[out, in/groups, k]' : '[out, in/groups, kh, kw]';
  return (ts: SymType[], attrs: ConvAttrs): SymType => {
    const [x, w, b] = ts as [SymType, SymType, SymType | undefined];
    if (x.shape.length !== rank + 2) throw new RuleError(`${name} needs an input ${layout}, got ${shapeStr(x.shape)}`);
    if (w.shape.length !== rank + 2)
      throw new RuleError(`${name} needs a weight ${wlayout}, got ${shapeStr(w.shape)} (input ${shapeStr(x.shape)})`);
    for (const t of ts)
      if (t.dtype === 'i32') throw new RuleError(`${name} needs float tensors, got i32`, 'DTypeError');
    if (x.dtype !== w.dtype || (b && b.dtype !== x.dtype))
      throw new RuleError(`${name}: dtypes differ (${ts.map((t) => t.dtype).join(', ')})`, 'DTypeError');
    const c = concrete(x.shape[1]!, 'the channel axis', x);
    const wd = w.shape.map((d) => concrete(d, 'every axis', w));
    for (let d = 2; d < x.shape.length; d++) concrete(x.shape[d]!, 'a spatial axis', x);
    const groups = attrs.groups ?? 1;
    if (c % groups !== 0)
      throw new RuleError(
        `the input's ${c} channels (input ${shapeStr(x.shape)}) are not divisible by groups ${groups}`,
      );
    if (wd[0]! % groups !== 0)
      throw new RuleError(
        `the weight's ${wd[0]} output channels (weight ${shapeStr(w.shape)}) are not divisible by groups ${groups}`,
      );
    if (wd[1]! * groups !== c)
      throw new RuleError(
        `weight ${shapeStr(w.shape)} takes ${wd[1]! * groups} input channels (${wd[1]} per group${groups > 1 ? ` × ${groups} groups` : ''}), input ${shapeStr(x.shape)} has ${c}`,
      );
    if (b && (b.shape.length !== 1 || b.shape[0] !== wd[0]))
      throw new RuleError(
        `bias ${shapeStr(b.shape)} must be [${wd[0]}], one per output channel (weight ${shapeStr(w.shape)})`,
      );
    expand(attrs.stride, rank, 1, 'stride');
    expand(attrs.dilation, rank, 1, 'dilation');
    const g = geomOf(rank, x.shape.map((d, i) => (i === 0 ? 1 : d)) as number[], wd, attrs);
    return { shape: rank === 1 ? [x.shape[0]!, g.o, g.ow] : [x.shape[0]!, g.o, g.oh, g.ow], dtype: x.dtype };
  };
}

function geomOf(rank: number, x: number[], w: number[], attrs: ConvAttrs): ConvGeom {
  return geom(as2d(x), as2d(w), gradAttrs(rank, attrs, w.slice(2)));
}

const convGrad =
  (rank: 1 | 2): GradRule<ConvAttrs> =>
  (g, node, dy, needs) => {
    const [x, w, b] = node.inputs as [string, string, string | undefined];
    const kernel = g.type(w).shape.slice(2) as number[];
    const a = gradAttrs(rank, node.attrs, kernel);
    const two = (s: number[]) => (rank === 1 ? [1, s[0]!] : s);
    const out: (string | null)[] = [
      needs[0] ? g.op('conv_input_grad', [dy, w], { ...a, size: two(g.type(x).shape.slice(2) as number[]) }) : null,
      needs[1] ? g.op('conv_weight_grad', [x, dy], { ...a, size: two(kernel) }) : null,
    ];
    // The bias's gradient sums dy over the batch and the positions: the trailing axes first, then
    // the batch, two sums the fast tier runs as straight loops (one over [0, 2, 3] is a scatter).
    const perImage = () => g.op('sum', [dy], { axis: rank === 1 ? [2] : [2, 3] });
    if (b !== undefined) out.push(needs[2] ? g.op('sum', [perImage()], { axis: 0 }) : null);
    return out;
  };

function convOp(rank: 1 | 2) {
  const name = rank === 1 ? 'conv1d' : 'conv2d';
  const geomArgs = (inTypes: { shape: number[] }[], attrs: ConvAttrs) =>
    geomOf(rank, inTypes[0]!.shape, inTypes[1]!.shape, attrs);
  return defineOp({
    name,
    doc:
      rank === 1
        ? 'conv1d(x, w, bias?): 1-D convolution of x [N, C, L] with w [out, C/groups, k], as torch.nn.functional.conv1d.'
        : 'conv2d(x, w, bias?): 2-D convolution of x [N, C, H, W] with w [out, C/groups, kh, kw], as torch.nn.functional.conv2d.',
    group: 'conv',
    notes:
      rank === 2
        ? "conv2d and conv1d compute PyTorch's cross-correlation: y[n, o] = bias[o] + Σ x[n, c, oy·s + ky·d − pad] · w[o, c, ky, kx] over the channels of o's group and the kernel taps. The f32 CPU kernel lowers to im2col and the SIMD matrix product; the gradients to x and w are the internal ops `conv_input_grad` and `conv_weight_grad`. ONNX: `Conv`."
        : undefined,
    arity: [2, 3],
    attrs: convAttrs(rank),
    infer: inferConv(rank),
    cpu: (a) => convRef(geomArgs(a.inTypes, a.attrs), a.inputs, a.output),
    fast: (accel, a) =>
      a.outType.dtype === 'f32' ? convFast(accel, geomArgs(a.inTypes, a.attrs), a.inputs, a.output) : null,
    wgsl: ({ inTypes, attrs }) => convWgsl(geomArgs(inTypes, attrs), inTypes.length === 3),
    grad: convGrad(rank),
    flops: ([, w], y) => convFlops(y, w!),
    onnx: (c) => {
      const kernel = c.types[1]!.shape.slice(2) as number[];
      const a = gradAttrs(rank, c.node.attrs, kernel);
      const one = rank === 1;
      c.emit(
        'Conv',
        c.x,
        {
          kernel_shape: ints(kernel),
          strides: ints(one ? [a.stride[1]!] : a.stride),
          pads: ints(one ? [a.pads[1]!, a.pads[3]!] : a.pads),
          dilations: ints(one ? [a.dilation[1]!] : a.dilation),
          group: int(a.groups),
        },
        c.out,
      );
    },
  });
}

const list = (description: string) =>
  Type.Array(Type.Integer({ minimum: 0 }), { description, examples: [[1, 1]], minItems: 2, maxItems: 4 });

const gradHelperAttrs = Type.Object(
  {
    stride: list('Strides [sh, sw].'),
    pads: list('Padding [top, left, bottom, right].'),
    dilation: list('Dilations [dh, dw].'),
    groups: Type.Integer({ description: 'Channel groups.', minimum: 1, examples: [1] }),
    size: list("conv_input_grad: the input's spatial size [h, w]; conv_weight_grad: the kernel's [kh, kw]."),
  },
  { additionalProperties: false },
);

/** Geometry of a helper from its 2-D attributes: x [n, c, h, w] and w [o, c/g, kh, kw] rebuilt from what it has. */
function helperGeom(x: number[], w: number[], a: ConvGradAttrs): ConvGeom {
  return geom(as2d(x), as2d(w), a);
}

/** Spatial part of a (1-D or 2-D) helper result from its 2-D `size`. */
const spatial = (rank: number, size: number[]): Dim[] => (rank === 3 ? [size[1]!] : size);

function checkHelper(ts: SymType[], name: string): void {
  if (ts.some((t) => t.shape.length !== ts[0]!.shape.length || (t.shape.length !== 3 && t.shape.length !== 4)))
    throw new RuleError(`${name} takes two tensors of rank 3 or 4, got ${ts.map((t) => shapeStr(t.shape)).join(', ')}`);
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type ConvOpName = 'conv2d' | 'conv1d' | 'conv_input_grad' | 'conv_weight_grad';

export const convOps: { readonly [K in ConvOpName]: OpDef } = {
  conv2d: convOp(2),
  conv1d: convOp(1),
  conv_input_grad: defineOp({
    name: 'conv_input_grad',
    doc: "conv_input_grad(dy, w): a convolution's gradient to its input (conv1d/conv2d's gradient rule).",
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: gradHelperAttrs,
    infer: ([dy, w], a) => {
      checkHelper([dy!, w!], 'conv_input_grad');
      const c = (w!.shape[1] as number) * a.groups;
      return { shape: [dy!.shape[0]!, c, ...spatial(dy!.shape.length, a.size)], dtype: dy!.dtype };
    },
    cpu: ({ inputs, output, outType, inTypes, attrs }) =>
      inputGradRef(helperGeom(outType.shape, inTypes[1]!.shape, attrs), inputs, output),
    fast: (accel, { inputs, output, outType, inTypes, attrs }) =>
      outType.dtype === 'f32'
        ? inputGradFast(accel, helperGeom(outType.shape, inTypes[1]!.shape, attrs), inputs, output)
        : null,
    wgsl: ({ outType, inTypes, attrs }) => inputGradWgsl(helperGeom(outType.shape, inTypes[1]!.shape, attrs)),
    flops: ([dy, w]) => convFlops(dy!, w!),
    grad: 'none',
    onnx: 'none',
  }),
  conv_weight_grad: defineOp({
    name: 'conv_weight_grad',
    doc: "conv_weight_grad(x, dy): a convolution's gradient to its weight, summed over the batch (conv1d/conv2d's gradient rule).",
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: gradHelperAttrs,
    infer: ([x, dy], a) => {
      checkHelper([x!, dy!], 'conv_weight_grad');
      const cg = (x!.shape[1] as number) / a.groups;
      return { shape: [dy!.shape[1]!, cg, ...spatial(x!.shape.length, a.size)], dtype: x!.dtype };
    },
    cpu: ({ inputs, output, outType, inTypes, attrs }) =>
      weightGradRef(helperGeom(inTypes[0]!.shape, outType.shape, attrs), inputs, output),
    fast: (accel, { inputs, output, outType, inTypes, attrs }) =>
      outType.dtype === 'f32'
        ? weightGradFast(accel, helperGeom(inTypes[0]!.shape, outType.shape, attrs), inputs, output)
        : null,
    wgsl: ({ outType, inTypes, attrs }) => weightGradWgsl(helperGeom(inTypes[0]!.shape, outType.shape, attrs)),
    flops: ([, dy], w) => convFlops(dy!, w),
    grad: 'none',
    onnx: 'none',
  }),
};
