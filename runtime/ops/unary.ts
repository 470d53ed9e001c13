// Elementwise ops with one input, as rows (./elementwise.ts turns each into an op): a new
// activation is one row here. Each row gives the JavaScript expression of one element (compiled
// once into a tight loop), its WGSL, gradient rule, ONNX mapping and, where it has one, its
// WebAssembly SIMD lowering for fused chains.

import type { UnaryRow } from './elementwise.js';
import { direct } from './onnx.js';

// WGSL's sin and cos need only be within 2^-11 absolute (Vulkan's bound; SwiftShader is that
// coarse), far from f32's 1e-7. These reduce by π/2 in three parts (Cody–Waite: exact while
// |x| < 2^16 · π/2) and evaluate Cephes' single-precision polynomials on [-π/4, π/4].
const SINCOS = `fn sincos_reduce(x: f32) -> vec2<f32> {
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.549789954891882e-8;
  return vec2<f32>(r, k);
}
fn sin_poly(r: f32) -> f32 { let z = r * r; return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4)); }
fn cos_poly(r: f32) -> f32 { let z = r * r; return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5)); }
fn sin_acc(x: f32) -> f32 {
  let rk = sincos_reduce(x);
  let q = i32(rk.y) & 3;
  let s = sin_poly(rk.x);
  let c = cos_poly(rk.x);
  return select(select(select(-c, -s, q == 2), c, q == 1), s, q == 0);
}
fn cos_acc(x: f32) -> f32 {
  let rk = sincos_reduce(x);
  let q = i32(rk.y) & 3;
  let s = sin_poly(rk.x);
  let c = cos_poly(rk.x);
  return select(select(select(s, -c, q == 2), -s, q == 1), c, q == 0);
}`;

/** The ops this module defines: a name here without a row below, or the reverse, does not compile. */
export type UnaryOpName =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'square'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'floor'
  | 'cos'
  | 'sin'
  | 'softplus'
  | 'silu'
  | 'rsqrt';

export const unaryRows: { readonly [K in UnaryOpName]: UnaryRow } = {
  neg: {
    doc: 'Negation, -x.',
    js: (x) => `-${x}`,
    wgsl: (x) => `-(${x})`,
    grad: (g, _n, dy) => [g.op('neg', [dy])],
    trace: ({ args, paren }) => ({ text: `-${paren(args[0]!)}`, atom: false, prec: 3 }),
    onnx: direct('Neg'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).vneg() },
  },
  exp: {
    doc: 'e to the x.',
    js: (x) => `Math.exp(${x})`,
    wgsl: (x) => `exp(${x})`,
    grad: (g, n, dy) => [g.op('mul', [dy, n.name])],
    onnx: direct('Exp'),
    simd: { exact: false, emit: ({ a, exp }) => exp(a[0]!) },
  },
  log: {
    doc: 'Natural logarithm.',
    js: (x) => `Math.log(${x})`,
    wgsl: (x) => `log(${x})`,
    grad: (g, n, dy) => [g.op('div', [dy, n.inputs[0]!])],
    onnx: direct('Log'),
  },
  sigmoid: {
    doc: 'Logistic function 1 / (1 + e^-x).',
    js: (x) => `1 / (1 + Math.exp(-${x}))`,
    wgsl: (x) => `1.0 / (1.0 + exp(-(${x})))`,
    grad: (g, n, dy) => [g.op('sigmoid_grad', [n.name, dy])],
    onnx: direct('Sigmoid'),
    simd: {
      exact: false,
      emit: ({ f, a, c, scratch, exp }) => {
        const x = scratch();
        f.get(a[0]!).vneg().set(x);
        c(1);
        exp(x);
        c(1);
        f.vadd().vdiv();
      },
    },
  },
  tanh: {
    doc: 'Hyperbolic tangent.',
    js: (x) => `Math.tanh(${x})`,
    // Clamped: some drivers build tanh from exp and overflow to NaN past |x| ~ 44; tanh(±10) is ±1 in f32.
    wgsl: (x) => `tanh(clamp(${x}, -10.0, 10.0))`,
    grad: (g, n, dy) => [g.op('tanh_grad', [n.name, dy])],
    onnx: direct('Tanh'),
  },
  relu: {
    doc: 'max(x, 0).',
    // x > 0 keeps NaN as 0 like PyTorch's threshold; -0 is not produced.
    js: (x) => `(${x} > 0 ? ${x} : 0)`,
    wgsl: (x) => `select(0.0, ${x}, ${x} > 0.0)`,
    grad: (g, n, dy) => [g.op('relu_grad', [n.inputs[0]!, dy])],
    onnx: direct('Relu'),
    simd: {
      exact: true,
      // x > 0 ? x : 0 (NaN and -0 give 0, as the reference's comparison does)
      emit: ({ f, a, c }) => {
        f.get(a[0]!).get(a[0]!);
        c(0);
        f.vgt().vand();
      },
    },
  },
  square: {
    doc: 'x * x.',
    js: (x) => `${x} * ${x}`,
    wgsl: (x) => `${x} * ${x}`,
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('mul', [n.inputs[0]!, 2])])],
    onnx: (c) => void c.emit('Mul', [c.x[0]!, c.x[0]!], undefined, c.out),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).get(a[0]!).vmul() },
  },
  sqrt: {
    doc: 'Square root.',
    js: (x) => `Math.sqrt(${x})`,
    wgsl: (x) => `sqrt(${x})`,
    grad: (g, n, dy) => [g.op('div', [dy, g.op('mul', [n.name, 2])])],
    onnx: direct('Sqrt'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).vsqrt() },
  },
  abs: {
    doc: '|x|; its gradient at 0 is 0, as in PyTorch.',
    js: (x) => `Math.abs(${x})`,
    wgsl: (x) => `abs(${x})`,
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('sign', [n.inputs[0]!])])],
    onnx: direct('Abs'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).vabs() },
  },
  sign: {
    doc: '-1, 0 or 1.',
    js: (x) => `Math.sign(${x})`,
    wgsl: (x) => `sign(${x})`,
    grad: 'none',
    onnx: direct('Sign'),
  },
  floor: {
    doc: 'Largest integer <= x; no gradient (it is 0 almost everywhere).',
    js: (x) => `Math.floor(${x})`,
    wgsl: (x) => `floor(${x})`,
    grad: 'none',
    onnx: direct('Floor'),
  },
  cos: {
    doc: 'Cosine (radians).',
    js: (x) => `Math.cos(${x})`,
    wgsl: (x) => `cos_acc(${x})`,
    wgslDecls: SINCOS,
    grad: (g, n, dy) => [g.op('neg', [g.op('mul', [dy, g.op('sin', [n.inputs[0]!])])])],
    onnx: direct('Cos'),
  },
  sin: {
    doc: 'Sine (radians).',
    js: (x) => `Math.sin(${x})`,
    wgsl: (x) => `sin_acc(${x})`,
    wgslDecls: SINCOS,
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('cos', [n.inputs[0]!])])],
    onnx: direct('Sin'),
  },
  softplus: {
    doc: 'log(1 + e^x); x itself above 20, as PyTorch (beta 1, threshold 20).',
    js: (x) => `(${x} > 20 ? ${x} : Math.log1p(Math.exp(${x})))`,
    wgsl: (x) => `select(log(1.0 + exp(${x})), ${x}, ${x} > 20.0)`,
    grad: (g, n, dy) => [g.op('softplus_grad', [n.inputs[0]!, dy])],
    onnx: direct('Softplus'),
  },
  silu: {
    doc: 'x * sigmoid(x) (SiLU, also called swish), as torch.nn.functional.silu.',
    js: (x) => `${x} / (1 + Math.exp(-${x}))`,
    // e^-|x| rather than e^-x, which overflows f32 for x < -88.7 where x * sigmoid(x) is still normal.
    wgsl: (x) => `select(${x} * exp(-abs(${x})), ${x}, ${x} >= 0.0) / (1.0 + exp(-abs(${x})))`,
    // s * (1 + x * (1 - s)) with s = sigmoid(x), as PyTorch's silu_backward.
    grad: (g, n, dy) => {
      const x = n.inputs[0]!;
      const s = g.op('sigmoid', [x]);
      return [g.op('mul', [dy, g.op('mul', [s, g.op('add', [g.op('mul', [x, g.op('sub', [1, s])]), 1])])])];
    },
    // ONNX has no SiLU before opset 24: x * Sigmoid(x).
    onnx: (c) => void c.emit('Mul', [c.x[0]!, c.emit('Sigmoid', [c.x[0]!])], undefined, c.out),
    simd: {
      exact: false,
      // t = e^-|x|, then (x >= 0 ? x : x * t) / (1 + t), as the WGSL.
      emit: ({ f, a, c, scratch, exp }) => {
        const m = scratch(),
          t = scratch();
        f.get(a[0]!).vabs().vneg().set(m);
        exp(m);
        f.set(t);
        f.get(a[0]!).get(a[0]!).get(t).vmul().get(a[0]!);
        c(0);
        f.vge().vbitselect();
        c(1);
        f.get(t).vadd().vdiv();
      },
    },
  },
  rsqrt: {
    doc: '1 / sqrt(x), as torch.rsqrt (normalisation layers divide by it).',
    js: (x) => `1 / Math.sqrt(${x})`,
    // Not inverseSqrt: WGSL allows it 2 ulp, and the CPU's 1 / sqrt is what the parity bound measures.
    wgsl: (x) => `1.0 / sqrt(${x})`,
    // d/dx x^(-1/2) = -1/2 x^(-3/2) = -y^3 / 2.
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('mul', [g.op('mul', [n.name, g.op('square', [n.name])]), -0.5])])],
    onnx: (c) => void c.emit('Reciprocal', [c.emit('Sqrt', [c.x[0]!])], undefined, c.out),
    // Two f32 roundings (sqrt, then the division) where the reference rounds 1 / sqrt once.
    simd: {
      exact: false,
      emit: ({ f, a, c }) => {
        c(1);
        f.get(a[0]!).vsqrt().vdiv();
      },
    },
  },
};
