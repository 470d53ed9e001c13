// GELU with the exact Gaussian CDF, x * Φ(x) = x/2 * (1 + erf(x/√2)) (PyTorch's default,
// approximate='none'), and its gradient helper. JavaScript has no erf, and the elementwise
// tables compile closure-free expressions, so these two ops keep their own kernels here.

import { RuleError } from '../errors.js';
import { sizeOf, type SymType, type TypedArray } from '../ir/types.js';
import { defineOp, type CpuAccel, type OpDef, type SimdRule } from './op.js';
import { geluGradSimd, geluSimd } from './gelu-simd.js';
import { noAttrs } from './attrs.js';

/**
 * WGSL erf and Φ in f32, the CPU's algorithm: the positive series below |x| = 3, the continued
 * fraction for erfc above. Φ(x) for x < 0 is erfc(-x/√2)/2 directly, so the far tail keeps its
 * relative accuracy instead of cancelling in 1 + erf.
 */
const WGSL_ERF = `fn erf_series(a: f32) -> f32 {
  let x2 = 2.0 * a * a;
  var term = a;
  var sum = a;
  for (var n = 1; n < 60; n = n + 1) {
    term = term * x2 / f32(2 * n + 1);
    sum = sum + term;
    if (term < sum * 1e-8) { break; }
  }
  return 1.1283791670955126 * exp(-a * a) * sum;
}
fn erfc_large(a: f32) -> f32 {
  if (a > 10.0) { return 0.0; }
  var f = a;
  var c = a;
  var d = 0.0;
  for (var n = 1; n < 100; n = n + 1) {
    let an = f32(n) * 0.5;
    d = a + an * d;
    d = select(1.0 / d, 1e30, d == 0.0);
    c = a + an / c;
    if (c == 0.0) { c = 1e-30; }
    let delta = c * d;
    f = f * delta;
    if (abs(delta - 1.0) < 1e-7) { break; }
  }
  return exp(-a * a) * 0.5641895835477563 / f;
}
fn erf_acc(v: f32) -> f32 {
  let a = abs(v);
  let r = select(erf_series(a), 1.0 - erfc_large(a), a >= 3.0);
  return select(r, -r, v < 0.0);
}
fn std_normal_cdf(v: f32) -> f32 {
  let a = abs(v) * 0.7071067811865476;
  let tail = select(1.0 - erf_series(a), erfc_large(a), a >= 3.0);
  return select(1.0 - 0.5 * tail, 0.5 * tail, v < 0.0);
}`;

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT1_2 = Math.SQRT1_2;

/**
 * erf to within a few ulps: for |x| < 3 the everywhere-positive series
 * erf(x) = 2/√π · e^(-x²) · Σ x (2x²)^n / (1·3·…·(2n+1)) (no cancellation); beyond, 1 - erfc(x)
 * with erfc from its continued fraction (Lentz's method), which converges fast there.
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const a = Math.abs(x);
  if (a < 3) {
    const x2 = 2 * a * a;
    let term = a,
      sum = a;
    for (let n = 1; n < 200; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum;
    return x < 0 ? -r : r;
  }
  const r = 1 - erfcLarge(a);
  return x < 0 ? -r : r;
}

/** erfc(a) for a >= 3: e^(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))). */
function erfcLarge(a: number): number {
  if (a > 27) return 0; // e^(-a²) underflows double
  const tiny = 1e-300;
  let f = a,
    c = a,
    d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = a + an * d;
    d = d === 0 ? tiny : 1 / d;
    c = a + an / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

/**
 * Φ(v) for f32 results: erfc from Numerical Recipes' erfcc (a Chebyshev-fitted exponent, relative
 * error below 1.2e-7 for every argument, so Φ keeps f32's relative accuracy in the far negative
 * tail too). One exp and nine multiply-adds instead of the series' 10-50 terms: gelu was the
 * largest cost of a transformer block's CPU step. f64 results keep the exact series above.
 */
export function phiF32(v: number): number {
  const z = Math.abs(v) * SQRT1_2;
  const t = 1 / (1 + 0.5 * z);
  const tail =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  // erfc(z) = tail; Φ(v) = erfc(-v/√2)/2.
  return v < 0 ? 0.5 * tail : 1 - 0.5 * tail;
}

/** The reference gelu: f32 through phiF32, f64 through the exact erf. */
function geluCpu(inputs: TypedArray[], output: TypedArray): () => void {
  const x = inputs[0]!;
  const n = output.length;
  if (output instanceof Float32Array)
    return () => {
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        output[i] = v * phiF32(v);
      }
    };
  return () => {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      output[i] = v * 0.5 * (1 + erf(v * SQRT1_2));
    }
  };
}

/** The reference gradient dy · (Φ(x) + x φ(x)). */
function geluGradCpu(inputs: TypedArray[], output: TypedArray): () => void {
  const [x, dy] = inputs as [TypedArray, TypedArray];
  const n = output.length;
  // φ(x) = e^(-x²/2) / √(2π) = (2/√π)(1/√2)(1/2) e^(-x²/2), written as PyTorch does.
  const alpha = TWO_OVER_SQRT_PI * SQRT1_2 * 0.5;
  if (output instanceof Float32Array)
    return () => {
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        output[i] = dy[i]! * (phiF32(v) + v * alpha * Math.exp(v * v * -0.5));
      }
    };
  return () => {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      const cdf = 0.5 * (1 + erf(v * SQRT1_2));
      const pdf = alpha * Math.exp(v * v * -0.5);
      output[i] = dy[i]! * (cdf + v * pdf);
    }
  };
}

/**
 * The fast tier's f32 kernel: the SIMD lowering (ops/gelu-simd.ts, its rounding bound there)
 * over the arena, the reference loop for a ragged tail; null for f64 or arrays outside the arena.
 */
function simdKernel(
  accel: CpuAccel,
  key: string,
  rule: SimdRule,
  inputs: TypedArray[],
  output: TypedArray,
  ref: (inputs: TypedArray[], output: TypedArray) => () => void,
): (() => void) | null {
  if (!(output instanceof Float32Array) || !inputs.every((x) => x instanceof Float32Array)) return null;
  return accel.simd(key, rule, inputs, output, (start) =>
    ref(
      inputs.map((x) => x.subarray(start)),
      output.subarray(start),
    ),
  );
}

function floatSame([t]: SymType[]): SymType {
  if (t!.dtype === 'i32') throw new RuleError('gelu needs a float tensor, got i32', 'DTypeError');
  return { shape: [...t!.shape], dtype: t!.dtype };
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type GeluOpName = 'gelu' | 'gelu_grad' | 'erf';

export const geluOps: { readonly [K in GeluOpName]: OpDef } = {
  gelu: defineOp({
    name: 'gelu',
    doc: "x * Φ(x), Φ the standard normal CDF (exact erf form, as PyTorch's default).",
    group: 'unary',
    arity: 1,
    attrs: noAttrs,
    infer: floatSame,
    cpu: ({ inputs, output }) => geluCpu(inputs, output),
    fast: (accel, { inputs, output }) => simdKernel(accel, 'gelu', geluSimd, inputs, output, geluCpu),
    wgsl: ({ outType }) => ({
      kind: 'map',
      count: sizeOf(outType.shape),
      body: 'let v = in0[i];\nout[i] = v * std_normal_cdf(v);',
      decls: WGSL_ERF,
    }),
    grad: (g, node, dy) => [g.op('gelu_grad', [node.inputs[0]!, dy])],
    onnx: (c) => void c.emit('Gelu', [c.x[0]!], { approximate: { kind: 'string', value: 'none' } }, c.out),
  }),
  gelu_grad: defineOp({
    name: 'gelu_grad',
    doc: 'dy * (Φ(x) + x φ(x)): the gradient of gelu, from its input.',
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: noAttrs,
    infer: ([x, dy]) => {
      if (x!.shape.join(',') !== dy!.shape.join(',')) throw new RuleError('gelu_grad: x and dy differ in shape');
      return { shape: [...dy!.shape], dtype: dy!.dtype };
    },
    cpu: ({ inputs, output }) => geluGradCpu(inputs, output),
    fast: (accel, { inputs, output }) => simdKernel(accel, 'gelu_grad', geluGradSimd, inputs, output, geluGradCpu),
    // φ(x) = e^(-x²/2) / √(2π).
    wgsl: ({ outType }) => ({
      kind: 'map',
      count: sizeOf(outType.shape),
      body: 'let v = in0[i];\nout[i] = in1[i] * (std_normal_cdf(v) + v * 0.3989422804014327 * exp(-0.5 * v * v));',
      decls: WGSL_ERF,
    }),
    grad: 'none',
    onnx: 'none',
  }),
  erf: defineOp({
    name: 'erf',
    doc: 'The error function 2/√π ∫₀ˣ e^(-t²) dt (torch.erf).',
    group: 'unary',
    arity: 1,
    attrs: noAttrs,
    infer: ([t]) => {
      if (t!.dtype === 'i32') throw new RuleError('erf needs a float tensor, got i32', 'DTypeError');
      return { shape: [...t!.shape], dtype: t!.dtype };
    },
    cpu: ({ inputs, output }) => {
      const x = inputs[0]! as TypedArray;
      const n = output.length;
      return () => {
        for (let i = 0; i < n; i++) output[i] = erf(x[i]!);
      };
    },
    wgsl: ({ outType }) => ({
      kind: 'map',
      count: sizeOf(outType.shape),
      body: 'out[i] = erf_acc(in0[i]);',
      decls: WGSL_ERF,
    }),
    // d erf / dx = 2/√π e^(-x²).
    grad: (g, node, dy) => {
      const x = node.inputs[0]!;
      return [g.op('mul', [dy, g.op('mul', [g.op('exp', [g.op('neg', [g.op('square', [x])])]), TWO_OVER_SQRT_PI])])];
    },
    onnx: (c) => void c.emit('Erf', [c.x[0]!], undefined, c.out),
  }),
};
