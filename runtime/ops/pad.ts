// pad: widen the last axes of a tensor, as torch.nn.functional.pad: `constant` (a value),
// `reflect` (mirrored without repeating the edge; padding smaller than the axis) or `replicate`
// (the edge repeated). `pads` lists [before, after] for the last axes in axis order (so
// [[1, 1], [2, 2]] pads H by 1 and W by 2 of NCHW). The gradient (pad_grad) sums each output
// element's dy into the input element it came from. Kernels walk rows of the last axis with a
// per-axis source map (a row whose outer coordinates fall in constant padding is filled at once).

import { RuleError } from '../errors.js';
import { shapeStr, sizeOf, type SymType, type TypedArray } from '../ir/types.js';
import { isSymbolic, type Dim } from '../ir/dim.js';
import { contiguousStrides } from './broadcast.js';
import { defineOp, type OpDef, type WgslKernel } from './op.js';
import { Type } from './attrs.js';
import { f32 } from './wgsl.js';

type Mode = 'constant' | 'reflect' | 'replicate';
interface PadAttrs {
  pads: number[][];
  mode?: string;
  value?: number;
}

const padAttrs = Type.Object(
  {
    pads: Type.Array(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 2, maxItems: 2 }), {
      description:
        '[before, after] for each of the last axes, in axis order: [[1, 1], [2, 2]] pads H by 1 and W by 2 of NCHW.',
      examples: [
        [[1, 1]],
        [
          [1, 1],
          [2, 2],
        ],
      ],
      minItems: 1,
    }),
    mode: Type.Optional(
      Type.Unsafe<string>({
        type: 'string',
        enum: ['constant', 'reflect', 'replicate'],
        description:
          "'constant' (default: the value), 'reflect' (mirror without the edge) or 'replicate' (repeat the edge).",
        default: 'constant',
        examples: ['reflect'],
      }),
    ),
    value: Type.Optional(
      Type.Number({ description: "The fill of 'constant' padding; default 0.", default: 0, examples: [-1] }),
    ),
  },
  { additionalProperties: false },
);

/** [before, after] for every axis of a rank-r tensor. */
function fullPads(rank: number, pads: number[][]): number[][] {
  if (pads.length > rank)
    throw new RuleError(`pads has ${pads.length} pairs for a tensor of rank ${rank}`, 'AttrError');
  return [...Array.from({ length: rank - pads.length }, () => [0, 0]), ...pads.map((p) => [...p])];
}

const modeOf = (a: PadAttrs): Mode => (a.mode ?? 'constant') as Mode;

/** The input index output index `o` reads along an axis of length `len` with `before` padding, or -1 (the value). */
function source(o: number, len: number, before: number, mode: Mode): number {
  let s = o - before;
  if (s >= 0 && s < len) return s;
  if (mode === 'constant') return -1;
  if (mode === 'replicate') return s < 0 ? 0 : len - 1;
  if (s < 0) s = -s;
  if (s >= len) s = 2 * (len - 1) - s;
  return s;
}

/** Per output axis: the source offset (index × input stride) of each output coordinate, -1 where padding. */
function maps(inShape: number[], pads: number[][], mode: Mode): Int32Array[] {
  const st = contiguousStrides(inShape);
  return inShape.map((len, d) => {
    const out = len + pads[d]![0]! + pads[d]![1]!;
    return Int32Array.from({ length: out }, (_, o) => {
      const s = source(o, len, pads[d]![0]!, mode);
      return s < 0 ? -1 : s * st[d]!;
    });
  });
}

/**
 * Visit every output row (all axes but the last) with its input offset (-1 when it lies in
 * constant padding), then `row(outAt, inAt)`.
 */
function rows(outShape: number[], m: Int32Array[], row: (outAt: number, inAt: number) => void): void {
  const r = outShape.length;
  if (r === 0 || sizeOf(outShape) === 0) return;
  const last = outShape[r - 1]!;
  const idx = new Array<number>(r - 1).fill(0);
  const count = sizeOf(outShape) / last;
  for (let q = 0; q < count; q++) {
    let inAt = 0;
    for (let d = 0; d < r - 1; d++) {
      const s = m[d]![idx[d]!]!;
      if (s < 0) {
        inAt = -1;
        break;
      }
      inAt += s;
    }
    row(q * last, inAt);
    for (let d = r - 2; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
}

function padKernel(x: TypedArray, y: TypedArray, inShape: number[], outShape: number[], a: PadAttrs): () => void {
  const mode = modeOf(a),
    value = a.value ?? 0;
  const m = maps(inShape, fullPads(inShape.length, a.pads), mode);
  const lastMap = m[m.length - 1]!;
  return () => {
    if (inShape.length === 0) return void (y[0] = x[0]!);
    rows(outShape, m, (o, s) => {
      if (s < 0) return void y.fill(value, o, o + lastMap.length);
      for (let j = 0; j < lastMap.length; j++) {
        const t = lastMap[j]!;
        y[o + j] = t < 0 ? value : x[s + t]!;
      }
    });
  };
}

function padGradKernel(dy: TypedArray, dx: TypedArray, inShape: number[], outShape: number[], a: PadAttrs): () => void {
  const m = maps(inShape, fullPads(inShape.length, a.pads), modeOf(a));
  const lastMap = m[m.length - 1]!;
  return () => {
    dx.fill(0);
    if (inShape.length === 0) return void (dx[0] = dy[0]!);
    rows(outShape, m, (o, s) => {
      if (s < 0) return;
      for (let j = 0; j < lastMap.length; j++) {
        const t = lastMap[j]!;
        if (t >= 0) dx[s + t]! += dy[o + j]!;
      }
    });
  };
}

/** WGSL: the output element's coordinates, its source per axis, then a read or the value. */
function padWgsl(inShape: number[], outShape: number[], a: PadAttrs, int: boolean): WgslKernel {
  const mode = modeOf(a);
  const pads = fullPads(inShape.length, a.pads);
  const ist = contiguousStrides(inShape);
  const lines = ['var rest = i32(i);', 'var at = 0;', 'var inside = true;'];
  for (let d = outShape.length - 1; d >= 0; d--) {
    const len = inShape[d]!;
    lines.push(`{ var s = rest % ${outShape[d]} - ${pads[d]![0]}; rest = rest / ${outShape[d]};`);
    if (mode === 'constant') lines.push(`  if (s < 0 || s >= ${len}) { inside = false; }`);
    else if (mode === 'replicate') lines.push(`  s = clamp(s, 0, ${len - 1});`);
    else lines.push(`  if (s < 0) { s = -s; }`, `  if (s >= ${len}) { s = ${2 * (len - 1)} - s; }`);
    lines.push(`  at += s * ${ist[d]}; }`);
  }
  lines.push(
    `if (inside) { out[i] = in0[at]; } else { out[i] = ${int ? `${Math.trunc(a.value ?? 0)}` : f32(a.value ?? 0)}; }`,
  );
  return { kind: 'map', count: sizeOf(outShape), body: lines.join('\n') };
}

/** WGSL gradient as a gather: per axis, the output coordinates that read input coordinate i_d. */
function padGradWgsl(inShape: number[], outShape: number[], a: PadAttrs): WgslKernel {
  const mode = modeOf(a);
  const pads = fullPads(inShape.length, a.pads);
  const ost = contiguousStrides(outShape);
  const r = inShape.length;
  const lines = ['var rest = i32(i);'];
  for (let d = r - 1; d >= 0; d--) lines.push(`let i${d} = rest % ${inShape[d]}; rest = rest / ${inShape[d]};`);
  lines.push('var s = 0.0;');
  let close = 0;
  for (let d = 0; d < r; d++) {
    const [b, e] = pads[d] as [number, number];
    const len = inShape[d]!,
      out = outShape[d]!;
    if ((b === 0 && e === 0) || mode === 'constant') lines.push(`let o${d} = i${d} + ${b};`);
    else if (mode === 'replicate') {
      lines.push(
        `for (var o${d} = select(i${d} + ${b}, 0, i${d} == 0); o${d} <= select(i${d} + ${b}, ${out - 1}, i${d} == ${len - 1}); o${d}++) {`,
      );
      close++;
    } else {
      lines.push(
        `for (var c${d} = 0; c${d} < 3; c${d}++) {`,
        `var o${d} = i${d} + ${b};`,
        `if (c${d} == 1) { o${d} = ${b} - i${d}; if (i${d} < 1 || i${d} > ${b}) { continue; } }`,
        `if (c${d} == 2) { o${d} = ${b + 2 * (len - 1)} - i${d}; if (o${d} < ${b + len} || o${d} >= ${b + len + e}) { continue; } }`,
      );
      close++;
    }
  }
  lines.push(`s += in0[${Array.from({ length: r }, (_, d) => `o${d} * ${ost[d]}`).join(' + ') || '0'}];`);
  lines.push('}'.repeat(close), 'out[i] = s;');
  return { kind: 'map', count: sizeOf(inShape), body: lines.join('\n') };
}

function inferPad([x]: SymType[], a: PadAttrs): SymType {
  const pads = fullPads(x!.shape.length, a.pads);
  const mode = modeOf(a);
  const shape: Dim[] = x!.shape.map((d, i) => {
    const [b, e] = pads[i] as [number, number];
    if (b === 0 && e === 0) return d;
    if (isSymbolic(d)) throw new RuleError(`pad cannot widen the batch axis ${i} of ${shapeStr(x!.shape)}`);
    if (mode === 'reflect' && (b >= d || e >= d))
      throw new RuleError(
        `reflect padding [${b}, ${e}] must be smaller than axis ${i} of ${shapeStr(x!.shape)} (${d})`,
      );
    if (mode === 'replicate' && d === 0)
      throw new RuleError(`replicate padding of the empty axis ${i} of ${shapeStr(x!.shape)}`);
    return d + b + e;
  });
  return { shape, dtype: x!.dtype };
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type PadOpName = 'pad' | 'pad_grad';

export const padOps: { readonly [K in PadOpName]: OpDef } = {
  pad: defineOp({
    name: 'pad',
    doc: 'pad(x): widen the last axes by [before, after] pairs with a constant, a reflection or the edge, as torch.nn.functional.pad.',
    group: 'conv',
    arity: 1,
    attrs: padAttrs,
    infer: inferPad,
    cpu: ({ inputs, output, inTypes, outType, attrs }) =>
      padKernel(inputs[0]!, output, inTypes[0]!.shape, outType.shape, attrs),
    wgsl: ({ inTypes, outType, attrs }) => padWgsl(inTypes[0]!.shape, outType.shape, attrs, outType.dtype === 'i32'),
    grad: (g, node, dy) => [g.op('pad_grad', [dy], node.attrs)],
    onnx: (c) => {
      const rank = c.types[0]!.shape.length;
      const pads = fullPads(rank, c.node.attrs.pads);
      const mode = modeOf(c.node.attrs);
      const inputs = [c.x[0]!, c.i64([...pads.map((p) => p[0]!), ...pads.map((p) => p[1]!)], 'pads')];
      if (mode === 'constant') inputs.push(c.scalar(c.node.attrs.value ?? 0, c.types[0]!.dtype));
      c.emit('Pad', inputs, { mode: { kind: 'string', value: mode === 'replicate' ? 'edge' : mode } }, c.out);
    },
  }),
  pad_grad: defineOp({
    name: 'pad_grad',
    doc: "pad_grad(dy): pad's gradient (each output's dy summed into the input element it read).",
    group: 'helper',
    internal: true,
    arity: 1,
    attrs: padAttrs,
    infer: ([dy], a) => {
      const pads = fullPads(dy!.shape.length, a.pads);
      return {
        shape: dy!.shape.map((d, i) => (isSymbolic(d) ? d : d - pads[i]![0]! - pads[i]![1]!)),
        dtype: dy!.dtype,
      };
    },
    cpu: ({ inputs, output, inTypes, outType, attrs }) =>
      padGradKernel(inputs[0]!, output, outType.shape, inTypes[0]!.shape, attrs),
    wgsl: ({ inTypes, outType, attrs }) => padGradWgsl(outType.shape, inTypes[0]!.shape, attrs),
    grad: 'none',
    onnx: 'none',
  }),
};
