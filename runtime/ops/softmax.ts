// softmax, log_softmax and logsumexp along one axis, numerically stable: the row maximum is
// subtracted before exponentiating, so large logits neither overflow nor lose the small ones.
// The formulas (and their gradients) are PyTorch's, so results agree to rounding.

import { RuleError } from '../errors.js';
import { sizeOf, type SymType, type TensorType } from '../ir/types.js';
import { defineOp, type CpuKernel, type WgslGen, type OpDef } from './op.js';
import { reduceAxes, reducedShape } from './reduce.js';
import { FLOAT_TESTS, reductionIndex, u32 } from './wgsl.js';
import { reduceAttrs, Type } from './attrs.js';
import { int, reduce } from './onnx.js';

const axisAttrs = Type.Object(
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

function axisOf(t: SymType, attrs: Record<string, unknown>): number {
  return reduceAxes(t.shape.length, attrs.axis ?? -1)[0]!;
}

function inferSame(name: string) {
  return ([t]: SymType[], attrs: Record<string, unknown>): SymType => {
    if (t!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    if (t!.shape.length === 0) throw new RuleError(`${name} needs a tensor with at least one axis`);
    axisOf(t!, attrs);
    return { shape: [...t!.shape], dtype: t!.dtype };
  };
}

/** Rows along `axis`: element k of row (o, i) sits at o*len*inner + k*inner + i. */
function rows(t: TensorType, axis: number): { outer: number; len: number; inner: number } {
  return { outer: sizeOf(t.shape.slice(0, axis)), len: t.shape[axis]!, inner: sizeOf(t.shape.slice(axis + 1)) };
}

function normKernel(log: boolean): CpuKernel {
  return ({ inputs, output, inTypes, attrs }) => {
    const x = inputs[0]!;
    const { outer, len, inner } = rows(inTypes[0]!, axisOf(inTypes[0]!, attrs));
    return () => {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let m = -Infinity;
          for (let k = 0; k < len; k++) m = Math.max(m, x[base + k * inner]!);
          // A row of -inf (or +inf) has no finite maximum; shifting by 0 gives PyTorch's NaN.
          if (!Number.isFinite(m)) m = 0;
          let s = 0;
          for (let k = 0; k < len; k++) s += Math.exp(x[base + k * inner]! - m);
          if (log) {
            const ls = Math.log(s);
            for (let k = 0; k < len; k++) output[base + k * inner] = x[base + k * inner]! - m - ls;
          } else {
            for (let k = 0; k < len; k++) output[base + k * inner] = Math.exp(x[base + k * inner]! - m) / s;
          }
        }
      }
    };
  };
}

/**
 * WGSL: one invocation per row, in f32 (the CPU sums in f64: results differ in the last bits).
 * The maximum is subtracted first, and an infinite maximum is replaced by 0, as on the CPU.
 */
function normWgsl(log: boolean): WgslGen {
  return ({ inTypes, attrs }) => {
    const t = inTypes[0]!;
    const { outer, len, inner } = rows(t, axisOf(t, attrs));
    const x = (k: string) => `in0[base + ${k} * ${u32(inner)}]`;
    const body = [
      `let base = (i / ${u32(inner)}) * ${u32(len * inner)} + i % ${u32(inner)};`,
      'var m = f32_bits(0xff800000u);',
      `for (var k = 0u; k < ${u32(len)}; k = k + 1u) { m = max(m, ${x('k')}); }`,
      'if (!is_finite(m)) { m = 0.0; }',
      'var s = 0.0;',
      `for (var k = 0u; k < ${u32(len)}; k = k + 1u) { s = s + exp(${x('k')} - m); }`,
      log ? 'let ls = log(s);' : '',
      `for (var k = 0u; k < ${u32(len)}; k = k + 1u) { out[base + k * ${u32(inner)}] = ${log ? `${x('k')} - m - ls` : `exp(${x('k')} - m) / s`}; }`,
    ].join('\n');
    return { kind: 'map', count: outer * inner, body, decls: FLOAT_TESTS };
  };
}

/** WGSL logsumexp: one invocation per output; a NaN maximum stays NaN, an infinite one becomes 0. */
const lseWgsl: WgslGen = ({ inTypes, outType, attrs }) => {
  const shape = inTypes[0]!.shape;
  const { base, off, count } = reductionIndex(shape, lseAxes(inTypes[0]!, attrs));
  const body = [
    `let b = ${base('i')};`,
    'var m = f32_bits(0xff800000u);',
    `for (var r = 0u; r < ${u32(count)}; r = r + 1u) { let v = in0[b + ${off('r')}]; if (!is_nan(m) && (is_nan(v) || v > m)) { m = v; } }`,
    'if (!is_finite(m) && !is_nan(m)) { m = 0.0; }',
    'var s = 0.0;',
    `for (var r = 0u; r < ${u32(count)}; r = r + 1u) { s = s + exp(in0[b + ${off('r')}] - m); }`,
    'out[i] = log(s) + m;',
  ].join('\n');
  return { kind: 'map', count: sizeOf(outType.shape), body, decls: FLOAT_TESTS };
};

function lseAxes(t: SymType, attrs: Record<string, unknown>): number[] {
  return reduceAxes(t.shape.length, attrs.axis);
}

/** logsumexp over any set of axes: the reduced axes are moved innermost by index maps. */
const lseKernel: CpuKernel = ({ inputs, output, inTypes, attrs }) => {
  const x = inputs[0]!;
  const shape = inTypes[0]!.shape;
  const axes = lseAxes(inTypes[0]!, attrs);
  const n = x.length,
    m = output.length;
  const map = new Int32Array(n);
  {
    const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    let stride = 1;
    const ost = new Array<number>(shape.length).fill(0);
    for (let d = shape.length - 1; d >= 0; d--) {
      ost[d] = keep[d] === 1 ? 0 : stride;
      stride *= keep[d]!;
    }
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let o = 0;
      for (let d = 0; d < shape.length; d++) o += idx[d]! * ost[d]!;
      map[i] = o;
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
  }
  const mx = new Float64Array(m),
    s = new Float64Array(m);
  return () => {
    mx.fill(-Infinity);
    s.fill(0);
    for (let i = 0; i < n; i++) if (x[i]! > mx[map[i]!]! || x[i] !== x[i]) mx[map[i]!] = x[i]!;
    // Infinite maxima shift by 0 (PyTorch): lse of [inf, 1] is inf, of [-inf, -inf] is -inf.
    for (let j = 0; j < m; j++) if (!Number.isFinite(mx[j]!) && mx[j] === mx[j]) mx[j] = 0;
    for (let i = 0; i < n; i++) s[map[i]!]! += Math.exp(x[i]! - mx[map[i]!]!);
    for (let j = 0; j < m; j++) output[j] = Math.log(s[j]!) + mx[j]!;
  };
};

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type SoftmaxOpName = 'softmax' | 'log_softmax' | 'logsumexp';

export const softmaxOps: { readonly [K in SoftmaxOpName]: OpDef } = {
  softmax: defineOp({
    name: 'softmax',
    doc: 'exp(x) / sum(exp(x)) along an axis (default the last), computed stably.',
    group: 'normalise',
    arity: 1,
    attrs: axisAttrs,
    infer: inferSame('softmax'),
    cpu: normKernel(false),
    wgsl: normWgsl(false),
    // dx = y * (dy - sum(dy * y)) along the axis.
    grad: (g, node, dy) => {
      const axis = axisOf(g.type(node.inputs[0]!), node.attrs);
      const dot = g.op('sum', [g.op('mul', [dy, node.name])], { axis, keepdims: true });
      return [g.op('mul', [node.name, g.op('sub', [dy, dot])])];
    },
    onnx: (c) => void c.emit('Softmax', [c.x[0]!], { axis: int(c.node.attrs.axis ?? -1) }, c.out),
  }),
  log_softmax: defineOp({
    name: 'log_softmax',
    doc: 'x - logsumexp(x) along an axis (default the last): log-probabilities, computed stably.',
    group: 'normalise',
    arity: 1,
    attrs: axisAttrs,
    infer: inferSame('log_softmax'),
    cpu: normKernel(true),
    // The last axis in f32: the SIMD rows of executors/cpu/wasm/softmax.ts.
    fast: (accel, { inputs, output, inTypes, attrs }) => {
      const [x, t] = [inputs[0]!, inTypes[0]!];
      if (!(x instanceof Float32Array && output instanceof Float32Array)) return null;
      if (axisOf(t, attrs) !== t.shape.length - 1) return null;
      return accel.logSoftmaxRows(x, output, t.shape[t.shape.length - 1]!);
    },
    wgsl: normWgsl(true),
    // dx = dy - exp(y) * sum(dy) along the axis.
    grad: (g, node, dy) => {
      const axis = axisOf(g.type(node.inputs[0]!), node.attrs);
      const total = g.op('sum', [dy], { axis, keepdims: true });
      return [g.op('sub', [dy, g.op('mul', [g.op('exp', [node.name]), total])])];
    },
    onnx: (c) => void c.emit('LogSoftmax', [c.x[0]!], { axis: int(c.node.attrs.axis ?? -1) }, c.out),
  }),
  logsumexp: defineOp({
    name: 'logsumexp',
    doc: 'log(sum(exp(x))) over axes (all when absent), computed stably.',
    group: 'reduce',
    arity: 1,
    attrs: reduceAttrs,
    infer: ([t], attrs) => {
      if (t!.dtype === 'i32') throw new RuleError('logsumexp needs a float tensor, got i32', 'DTypeError');
      const axes = lseAxes(t!, attrs);
      return { shape: reducedShape(t!.shape, axes, attrs.keepdims === true), dtype: t!.dtype };
    },
    cpu: lseKernel,
    wgsl: lseWgsl,
    // dx = dy * exp(x - y), with y and dy broadcast back over the reduced axes.
    grad: (g, node, dy) => {
      const x = node.inputs[0]!;
      const inShape = g.type(x).shape;
      const kept = reducedShape(inShape, lseAxes(g.type(x), node.attrs), true);
      const back = (v: string) => (node.attrs.keepdims === true ? v : g.op('reshape', [v], { shape: kept }));
      return [g.op('mul', [back(dy), g.op('exp', [g.op('sub', [x, back(node.name)])])])];
    },
    onnx: reduce('ReduceLogSumExp'),
  }),
};
