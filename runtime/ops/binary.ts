// Elementwise ops with two inputs (broadcasting as NumPy does), as rows (./elementwise.ts turns
// each into an op): the JavaScript expression of one element, its WGSL (f32 or i32), gradient
// rule, ONNX mapping and, where it has one, its WebAssembly SIMD lowering for fused chains.

import type { BinaryRow } from './elementwise.js';
import { cmp, direct } from './onnx.js';

// WGSL's pow is exp2(b * log2(a)): NaN for a < 0 and unspecified at 0^0. Math.pow gives
// (-2)^3 = -8 and 0^0 = 1, so integer exponents of negative bases are handled apart.
const POWF = `fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a < 0.0 && b == floor(b)) {
    let r = pow(-a, b);
    return select(r, -r, fract(b * 0.5) != 0.0);
  }
  return pow(a, b);
}`;

/** The ops this module defines: a name here without a row below, or the reverse, does not compile. */
export type BinaryOpName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'greater'
  | 'greater_equal'
  | 'less'
  | 'less_equal'
  | 'equal'
  | 'not_equal'
  | 'sigmoid_grad'
  | 'tanh_grad'
  | 'softplus_grad'
  | 'relu_grad';

export const binaryRows: { readonly [K in BinaryOpName]: BinaryRow } = {
  add: {
    doc: 'a + b (broadcasting).',
    js: (a, b) => `${a} + ${b}`,
    wgsl: (a, b) => `${a} + ${b}`,
    grad: (_g, _n, dy) => [dy, dy],
    infix: 1,
    onnx: direct('Add'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).get(a[1]!).vadd() },
  },
  sub: {
    doc: 'a - b (broadcasting).',
    js: (a, b) => `${a} - ${b}`,
    wgsl: (a, b) => `${a} - ${b}`,
    grad: (g, _n, dy, needs) => [dy, needs[1] ? g.op('neg', [dy]) : null],
    infix: 1,
    onnx: direct('Sub'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).get(a[1]!).vsub() },
  },
  mul: {
    doc: 'a * b (broadcasting).',
    js: (a, b) => `${a} * ${b}`,
    wgsl: (a, b) => `${a} * ${b}`,
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('mul', [dy, n.inputs[1]!]) : null,
      needs[1] ? g.op('mul', [dy, n.inputs[0]!]) : null,
    ],
    infix: 2,
    onnx: direct('Mul'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).get(a[1]!).vmul() },
  },
  div: {
    doc: 'a / b (broadcasting).',
    js: (a, b) => `${a} / ${b}`,
    // i32: JS stores x/0 (±Infinity, NaN) as 0 in an Int32Array; WGSL would give a.
    wgsl: (a, b, t) => (t === 'i32' ? `select(${a} / ${b}, 0, ${b} == 0)` : `${a} / ${b}`),
    // d(a/b)/db = -a/b^2 = -(a/b)/b: reuses the forward output.
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('div', [dy, n.inputs[1]!]) : null,
      needs[1] ? g.op('neg', [g.op('div', [g.op('mul', [dy, n.name]), n.inputs[1]!])]) : null,
    ],
    infix: 2,
    onnx: direct('Div'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).get(a[1]!).vdiv() },
  },
  pow: {
    doc: 'a to the power b (broadcasting).',
    js: (a, b) => `Math.pow(${a}, ${b})`,
    wgsl: (a, b, t) => (t === 'i32' ? `i32(powf(f32(${a}), f32(${b})))` : `powf(${a}, ${b})`),
    wgslDecls: POWF,
    grad: (g, n, dy, needs) => [
      needs[0]
        ? g.op('mul', [dy, g.op('mul', [n.inputs[1]!, g.op('pow', [n.inputs[0]!, g.op('sub', [n.inputs[1]!, 1])])])])
        : null,
      needs[1] ? g.op('mul', [dy, g.op('mul', [n.name, g.op('log', [n.inputs[0]!])])]) : null,
    ],
    onnx: direct('Pow'),
  },
  maximum: {
    doc: 'Elementwise max(a, b); ties send the gradient to a.',
    js: (a, b) => `(${a} >= ${b} ? ${a} : ${b})`,
    wgsl: (a, b) => `select(${b}, ${a}, ${a} >= ${b})`,
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('mul', [dy, g.op('greater_equal', [n.inputs[0]!, n.inputs[1]!])]) : null,
      needs[1] ? g.op('mul', [dy, g.op('less', [n.inputs[0]!, n.inputs[1]!])]) : null,
    ],
    onnx: direct('Max'),
    simd: {
      exact: true,
      // a >= b ? a : b (a NaN gives b, as in the reference)
      emit: ({ f, a }) => void f.get(a[0]!).get(a[1]!).get(a[0]!).get(a[1]!).vge().vbitselect(),
    },
  },
  minimum: {
    doc: 'Elementwise min(a, b); ties send the gradient to a.',
    js: (a, b) => `(${a} <= ${b} ? ${a} : ${b})`,
    wgsl: (a, b) => `select(${b}, ${a}, ${a} <= ${b})`,
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('mul', [dy, g.op('less_equal', [n.inputs[0]!, n.inputs[1]!])]) : null,
      needs[1] ? g.op('mul', [dy, g.op('greater', [n.inputs[0]!, n.inputs[1]!])]) : null,
    ],
    onnx: direct('Min'),
    simd: { exact: true, emit: ({ f, a }) => void f.get(a[0]!).get(a[1]!).get(a[0]!).get(a[1]!).vle().vbitselect() },
  },
  greater: {
    doc: '1 where a > b, else 0.',
    js: (a, b) => `(${a} > ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} > ${b})`,
    grad: 'none',
    onnx: cmp('Greater'),
    simd: {
      exact: true,
      emit: ({ f, a, c }) => {
        f.get(a[0]!).get(a[1]!).vgt();
        c(1);
        f.vand();
      },
    },
  },
  greater_equal: {
    doc: '1 where a >= b, else 0.',
    js: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} >= ${b})`,
    grad: 'none',
    onnx: cmp('GreaterOrEqual'),
    simd: {
      exact: true,
      emit: ({ f, a, c }) => {
        f.get(a[0]!).get(a[1]!).vge();
        c(1);
        f.vand();
      },
    },
  },
  less: {
    doc: '1 where a < b, else 0.',
    js: (a, b) => `(${a} < ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} < ${b})`,
    grad: 'none',
    onnx: cmp('Less'),
    simd: {
      exact: true,
      emit: ({ f, a, c }) => {
        f.get(a[0]!).get(a[1]!).vlt();
        c(1);
        f.vand();
      },
    },
  },
  less_equal: {
    doc: '1 where a <= b, else 0.',
    js: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} <= ${b})`,
    grad: 'none',
    onnx: cmp('LessOrEqual'),
    simd: {
      exact: true,
      emit: ({ f, a, c }) => {
        f.get(a[0]!).get(a[1]!).vle();
        c(1);
        f.vand();
      },
    },
  },
  equal: {
    doc: '1 where a == b, else 0.',
    js: (a, b) => `(${a} === ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} == ${b})`,
    grad: 'none',
    onnx: cmp('Equal'),
  },
  not_equal: {
    doc: '1 where a != b, else 0.',
    js: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} != ${b})`,
    grad: 'none',
    onnx: cmp('Equal', true),
  },
  // Gradient helpers: the reverse graph uses them so one activation's gradient is one node.
  sigmoid_grad: {
    doc: 'dy * y * (1 - y) for y = sigmoid(x): the gradient of sigmoid, from its output.',
    js: (y, dy) => `${dy} * ${y} * (1 - ${y})`,
    wgsl: (y, dy, t) => `${dy} * ${y} * (${t}(1) - ${y})`,
    grad: 'none',
    onnx: 'none',
    simd: {
      exact: false,
      emit: ({ f, a, c }) => {
        f.get(a[1]!).get(a[0]!).vmul();
        c(1);
        f.get(a[0]!).vsub().vmul();
      },
    },
    internal: true,
  },
  tanh_grad: {
    doc: 'dy * (1 - y^2) for y = tanh(x).',
    js: (y, dy) => `${dy} * (1 - ${y} * ${y})`,
    wgsl: (y, dy, t) => `${dy} * (${t}(1) - ${y} * ${y})`,
    grad: 'none',
    onnx: 'none',
    simd: {
      exact: false,
      emit: ({ f, a, c }) => {
        f.get(a[1]!);
        c(1);
        f.get(a[0]!).get(a[0]!).vmul().vsub().vmul();
      },
    },
    internal: true,
  },
  softplus_grad: {
    doc: 'dy * e^x / (e^x + 1) (dy above 20): the gradient of softplus, from its input, as PyTorch computes it.',
    js: (x, dy) => `(${x} > 20 ? ${dy} : ${dy} * Math.exp(${x}) / (Math.exp(${x}) + 1))`,
    wgsl: (x, dy) => `select(${dy} * exp(${x}) / (exp(${x}) + 1.0), ${dy}, ${x} > 20.0)`,
    grad: 'none',
    onnx: 'none',
    internal: true,
  },
  relu_grad: {
    doc: 'dy where x > 0, else 0: the gradient of relu, from its input.',
    js: (x, dy) => `(${x} > 0 ? ${dy} : 0)`,
    wgsl: (x, dy, t) => `select(${t}(0), ${dy}, ${x} > ${t}(0))`,
    grad: 'none',
    onnx: 'none',
    simd: {
      exact: true,
      emit: ({ f, a, c }) => {
        f.get(a[1]!).get(a[0]!);
        c(0);
        f.vgt().vand();
      },
    },
    internal: true,
  },
};
