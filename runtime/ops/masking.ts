// What attention needs besides products: `tri`, a lower-triangular mask made in the graph (no
// mask file; its size given or read off another tensor's axis), and `masked_softmax`, a softmax
// over the elements a mask keeps, with 0 where the mask drops and 0 for a row the mask drops
// entirely. PyTorch writes the latter as softmax(x.masked_fill(~mask, -inf)), which gives NaN
// for such a row (and NaN gradients): a padded position in a batch, or a query with no key
// before it, would then poison the whole step. Here such a row is all zeros, and so is its
// gradient, which is what the row's output contributes anyway once it is multiplied by values.

import { RuleError } from '../errors.js';
import { shapeStr, sizeOf, type SymType, type TensorType } from '../ir/types.js';
import { dimToString, type Dim } from '../ir/dim.js';
import { Type } from './attrs.js';
import { broadcastStrides } from './broadcast.js';
import { defineOp, type OpDef } from './op.js';
import { int } from './onnx.js';
import { reduceAxes } from './reduce.js';
import { FLOAT_TESTS, f32, gatherIndex, u32 } from './wgsl.js';

const triAttrs = Type.Object(
  {
    n: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Rows and columns of the mask, when it has no input (then the size comes from its axis).',
        examples: [64],
      }),
    ),
    axis: Type.Optional(
      Type.Integer({
        description: "With an input: the input's axis whose length is the mask's size; default -1.",
        default: -1,
        examples: [-1, 1],
      }),
    ),
    k: Type.Optional(
      Type.Integer({
        description: 'Diagonal offset: element (i, j) is 1 where j <= i + k (0: the main diagonal and below).',
        default: 0,
        examples: [0, -1],
      }),
    ),
  },
  { additionalProperties: false },
);

const maskAttrs = Type.Object(
  {
    axis: Type.Optional(
      Type.Integer({
        description: 'The axis to normalise over (negative counts from the end); default -1, the last.',
        default: -1,
        examples: [-1, 1],
      }),
    ),
  },
  { additionalProperties: false },
);

function softmaxAxis(t: { shape: readonly unknown[] }, attrs: { axis?: number }): number {
  return reduceAxes(t.shape.length, attrs.axis ?? -1)[0]!;
}

/** Rows along `axis`: element k of row (o, i) sits at o*len*inner + k*inner + i. */
function rows(t: TensorType, axis: number): { outer: number; len: number; inner: number } {
  return { outer: sizeOf(t.shape.slice(0, axis)), len: t.shape[axis]!, inner: sizeOf(t.shape.slice(axis + 1)) };
}

/** The mask must broadcast to x's shape without enlarging it (so the result is shaped as x). */
function checkMask(x: SymType, mask: SymType): void {
  const bad = (why: string) =>
    new RuleError(
      `masked_softmax mask ${shapeStr(mask.shape)} does not broadcast to the scores ${shapeStr(x.shape)}: ${why}`,
      'ShapeError',
    );
  if (mask.shape.length > x.shape.length) throw bad('it has more axes');
  mask.shape.forEach((d: Dim, i) => {
    const xd = x.shape[x.shape.length - mask.shape.length + i]!;
    if (d !== 1 && d !== xd) throw bad(`axis ${i} is ${dimToString(d)} where the scores have ${dimToString(xd)}`);
  });
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type MaskingOpName = 'tri' | 'masked_softmax';

export const maskingOps: { readonly [K in MaskingOpName]: OpDef } = {
  tri: defineOp({
    name: 'tri',
    doc: 'An [n, n] mask of ones on and below diagonal k and zeros above (numpy.tri): the causal mask.',
    notes:
      '`tri` takes its size from attribute `n`, or from axis `axis` of its one input (whose values it does not ' +
      'read), so a causal mask follows the sequence length: `{op: tri, inputs: [scores]}` beside scores ' +
      '[batch, heads, T, T] gives [T, T], which `masked_softmax` broadcasts. `masked_softmax(x, mask)` is the ' +
      'softmax over the elements whose mask is nonzero (the mask broadcasts to x), 0 elsewhere; a row whose ' +
      "mask is all zero gives zeros, and zero gradients, where PyTorch's softmax of a row of -inf gives NaN.",
    group: 'normalise',
    arity: [0, 1],
    attrs: triAttrs,
    infer: (ins, attrs, ctx) => {
      let n: Dim;
      if (ins.length === 1) {
        if (attrs.n !== undefined) throw new RuleError('tri takes its size from `n` or from its input, not both');
        const x = ins[0]!;
        if (x.shape.length === 0)
          throw new RuleError('tri needs an input with at least one axis (or no input and `n`)');
        n = x.shape[reduceAxes(x.shape.length, attrs.axis ?? -1)[0]!]!;
      } else {
        if (attrs.n === undefined)
          throw new RuleError('tri needs its size: attribute `n`, or an input to read it from');
        n = attrs.n;
      }
      return { shape: [n, n], dtype: ctx.float };
    },
    cpu: ({ output, outType, attrs }) => {
      const n = outType.shape[0]!,
        k = attrs.k ?? 0;
      return () => {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) output[i * n + j] = j <= i + k ? 1 : 0;
      };
    },
    wgsl: ({ outType, attrs }) => {
      const n = outType.shape[0]!;
      const body = `out[i] = select(TO(0), TO(1), i32(i % ${u32(n)}) <= i32(i / ${u32(n)}) + ${attrs.k ?? 0});`;
      return { kind: 'map', count: n * n, body };
    },
    grad: 'none',
    onnx: (c) => {
      const [n] = c.node.type.shape;
      const k = c.node.attrs.k ?? 0;
      const dtype = c.node.type.dtype;
      if (typeof n === 'number') {
        const v = Array.from({ length: n * n }, (_, i) => (i % n <= Math.floor(i / n) + k ? 1 : 0));
        c.emit('Identity', [c.constant(`${c.node.name}/onnx_tri`, dtype, [n, n], v)], undefined, c.out);
        return;
      }
      // A size that follows the batch: ones of the input axis's length squared, then Trilu.
      const axis = reduceAxes(c.types[0]!.shape.length, c.node.attrs.axis ?? -1)[0]!;
      const len = c.emit('Gather', [c.emit('Shape', [c.x[0]!]), c.i64([axis], 'axis')]);
      const ones = c.emit('Expand', [c.scalar(1, dtype), c.emit('Concat', [len, len], { axis: int(0) })]);
      const kk = c.emit('Reshape', [c.i64([k], 'k'), c.i64([], 'scalar')]);
      c.emit('Trilu', [ones, kk], { upper: int(0) }, c.out);
    },
  }),
  masked_softmax: defineOp({
    name: 'masked_softmax',
    doc: 'Softmax along an axis over the elements whose mask (broadcast to x) is nonzero; 0 elsewhere and for fully masked rows.',
    group: 'normalise',
    arity: 2,
    attrs: maskAttrs,
    infer: ([x, mask], attrs) => {
      if (x!.dtype === 'i32') throw new RuleError('masked_softmax needs float scores, got i32', 'DTypeError');
      if (x!.shape.length === 0) throw new RuleError('masked_softmax needs scores with at least one axis');
      softmaxAxis(x!, attrs);
      checkMask(x!, mask!);
      return { shape: [...x!.shape], dtype: x!.dtype };
    },
    cpu: ({ inputs, output, inTypes, attrs }) => {
      const [x, mask] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
      const xt = inTypes[0]!;
      const { outer, len, inner } = rows(xt, softmaxAxis(xt, attrs));
      // Flat mask position of every element of x.
      const ms = broadcastStrides(inTypes[1]!.shape, xt.shape);
      const at = new Int32Array(x!.length);
      {
        const idx = new Array<number>(xt.shape.length).fill(0);
        let off = 0;
        for (let e = 0; e < at.length; e++) {
          at[e] = off;
          for (let d = xt.shape.length - 1; d >= 0; d--) {
            off += ms[d]!;
            if (++idx[d]! < xt.shape[d]!) break;
            off -= ms[d]! * idx[d]!;
            idx[d] = 0;
          }
        }
      }
      // The last axis (attention's rows): each exp computed once, kept in the output, then divided.
      if (inner === 1)
        return () => {
          for (let o = 0; o < outer; o++) {
            const base = o * len;
            let m = -Infinity,
              kept = 0;
            for (let e = base; e < base + len; e++)
              if (mask![at[e]!] !== 0) {
                kept++;
                if (x![e]! > m) m = x![e]!;
              }
            if (!Number.isFinite(m)) m = 0;
            let s = 0;
            for (let e = base; e < base + len; e++) {
              if (mask![at[e]!] !== 0) {
                const v = Math.exp(x![e]! - m);
                output[e] = v;
                s += v;
              } else output[e] = 0;
            }
            if (kept > 0) for (let e = base; e < base + len; e++) output[e] = output[e]! / s;
          }
        };
      return () => {
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const base = o * len * inner + i;
            let m = -Infinity,
              kept = 0;
            for (let k = 0; k < len; k++) {
              const e = base + k * inner;
              if (mask![at[e]!] !== 0) {
                kept++;
                m = Math.max(m, x![e]!);
              }
            }
            if (!Number.isFinite(m)) m = 0;
            let s = 0;
            for (let k = 0; k < len; k++) {
              const e = base + k * inner;
              if (mask![at[e]!] !== 0) s += Math.exp(x![e]! - m);
            }
            for (let k = 0; k < len; k++) {
              const e = base + k * inner;
              output[e] = kept > 0 && mask![at[e]!] !== 0 ? Math.exp(x![e]! - m) / s : 0;
            }
          }
        }
      };
    },
    // The last axis in f32 with a mask that repeats whole down x's leading axes (attention's
    // [T, T] against [batch·heads, T, T]): the SIMD rows of executors/cpu/wasm/softmax.ts.
    fast: (accel, { inputs, output, inTypes, attrs }) => {
      const [x, mask] = inputs as [Float32Array, Float32Array];
      const [xt, mt] = inTypes as [TensorType, TensorType];
      if (!(x instanceof Float32Array && mask instanceof Float32Array && output instanceof Float32Array)) return null;
      if (softmaxAxis(xt, attrs) !== xt.shape.length - 1) return null;
      const ms = mt.shape.slice(mt.shape.findIndex((d) => d !== 1));
      const trailing = xt.shape.slice(xt.shape.length - ms.length);
      if (mt.shape.every((d) => d === 1) || ms.join(',') !== trailing.join(',')) return null;
      return accel.maskedSoftmaxRows(x, mask, output, xt.shape[xt.shape.length - 1]!);
    },
    // One invocation per row, as softmax's WGSL.
    wgsl: ({ inTypes, attrs }) => {
      const xt = inTypes[0]!;
      const { outer, len, inner } = rows(xt, softmaxAxis(xt, attrs));
      const mi = gatherIndex('e', xt.shape, broadcastStrides(inTypes[1]!.shape, xt.shape));
      const loop = (body: string) =>
        `for (var k = 0u; k < ${u32(len)}; k = k + 1u) { let e = base + k * ${u32(inner)}; let keep = in1[${mi}] != T1(0); ${body} }`;
      const body = [
        `let base = (i / ${u32(inner)}) * ${u32(len * inner)} + i % ${u32(inner)};`,
        `var m = ${f32(-Infinity)};`,
        'var kept = 0u;',
        loop('if (keep) { kept = kept + 1u; m = max(m, in0[e]); }'),
        'if (!is_finite(m)) { m = 0.0; }',
        'var s = 0.0;',
        loop('if (keep) { s = s + exp(in0[e] - m); }'),
        loop('out[e] = select(0.0, exp(in0[e] - m) / s, keep && kept > 0u);'),
      ].join('\n');
      return { kind: 'map', count: outer * inner, body, decls: FLOAT_TESTS };
    },
    // dx = y * (dy - sum(dy * y)): y is 0 where masked, so masked elements and fully masked rows get 0.
    grad: (g, node, dy, needs) => {
      if (!needs[0]) return [null, null];
      const axis = softmaxAxis(g.type(node.inputs[0]!), node.attrs);
      const dot = g.op('sum', [g.op('mul', [dy, node.name])], { axis, keepdims: true });
      return [g.op('mul', [node.name, g.op('sub', [dy, dot])]), null];
    },
    // Softmax(Where(mask, x, lowest)) * mask: a fully masked row is uniform before the product, 0 after.
    onnx: (c) => {
      const dtype = c.node.type.dtype;
      const keep = c.emit('Cast', [c.x[1]!], { to: int(c.elemType('bool')) });
      const lowest = c.scalar(dtype === 'f64' ? -Number.MAX_VALUE : -3.4028234663852886e38, dtype);
      const sm = c.emit('Softmax', [c.emit('Where', [keep, c.x[0]!, lowest])], { axis: int(c.node.attrs.axis ?? -1) });
      c.emit('Mul', [sm, c.emit('Cast', [keep], { to: int(c.elemType(dtype)) })], undefined, c.out);
    },
  }),
};
