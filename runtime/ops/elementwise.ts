// Elementwise ops as rows of two tables (unary, binary): a new activation is one row.
// Each row gives the JavaScript expression of one element (compiled once into a tight loop
// per op and broadcast pattern) and the gradient rule. Binary ops broadcast as NumPy does.

import { RuleError } from '../errors.js';
import { sizeOf, type TensorType, type TypedArray } from '../ir/types.js';
import { broadcastShapes, broadcastStrides, contiguousStrides } from './broadcast.js';
import { noAttrs, type CpuKernel, type GradRule, type OpDef, type WgslGen } from './op.js';
import { gatherIndex, wgslType } from './wgsl.js';

interface UnaryRow {
  doc: string;
  /** JavaScript expression for one element, given the name of the input element. */
  js: (x: string) => string;
  /** WGSL expression for one f32 element; absent: the op runs on the CPU under WebGPU placement. */
  wgsl?: (x: string) => string;
  /** Module-scope WGSL the expression calls. */
  wgslDecls?: string;
  grad: GradRule | 'none';
}

interface BinaryRow {
  doc: string;
  js: (a: string, b: string) => string;
  /** WGSL expression for one element of type `t` (f32 or i32: binary ops also take i32). */
  wgsl?: (a: string, b: string, t: 'f32' | 'i32') => string;
  /** Module-scope WGSL the expression calls. */
  wgslDecls?: string;
  grad: GradRule | 'none';
}

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

const unaryRows = {
  neg: { doc: 'Negation, -x.', js: (x) => `-${x}`, wgsl: (x) => `-(${x})`, grad: (g, _n, dy) => [g.op('neg', [dy])] },
  exp: {
    doc: 'e to the x.',
    js: (x) => `Math.exp(${x})`,
    wgsl: (x) => `exp(${x})`,
    grad: (g, n, dy) => [g.op('mul', [dy, n.name])],
  },
  log: {
    doc: 'Natural logarithm.',
    js: (x) => `Math.log(${x})`,
    wgsl: (x) => `log(${x})`,
    grad: (g, n, dy) => [g.op('div', [dy, n.inputs[0]!])],
  },
  sigmoid: {
    doc: 'Logistic function 1 / (1 + e^-x).',
    js: (x) => `1 / (1 + Math.exp(-${x}))`,
    wgsl: (x) => `1.0 / (1.0 + exp(-(${x})))`,
    grad: (g, n, dy) => [g.op('sigmoid_grad', [n.name, dy])],
  },
  tanh: {
    doc: 'Hyperbolic tangent.',
    js: (x) => `Math.tanh(${x})`,
    // Clamped: some drivers build tanh from exp and overflow to NaN past |x| ~ 44; tanh(±10) is ±1 in f32.
    wgsl: (x) => `tanh(clamp(${x}, -10.0, 10.0))`,
    grad: (g, n, dy) => [g.op('tanh_grad', [n.name, dy])],
  },
  relu: {
    doc: 'max(x, 0).',
    // x > 0 keeps NaN as 0 like PyTorch's threshold; -0 is not produced.
    js: (x) => `(${x} > 0 ? ${x} : 0)`,
    wgsl: (x) => `select(0.0, ${x}, ${x} > 0.0)`,
    grad: (g, n, dy) => [g.op('relu_grad', [n.inputs[0]!, dy])],
  },
  square: {
    doc: 'x * x.',
    js: (x) => `${x} * ${x}`,
    wgsl: (x) => `${x} * ${x}`,
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('mul', [n.inputs[0]!, 2])])],
  },
  sqrt: {
    doc: 'Square root.',
    js: (x) => `Math.sqrt(${x})`,
    wgsl: (x) => `sqrt(${x})`,
    grad: (g, n, dy) => [g.op('div', [dy, g.op('mul', [n.name, 2])])],
  },
  abs: {
    doc: '|x|; its gradient at 0 is 0, as in PyTorch.',
    js: (x) => `Math.abs(${x})`,
    wgsl: (x) => `abs(${x})`,
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('sign', [n.inputs[0]!])])],
  },
  sign: { doc: '-1, 0 or 1.', js: (x) => `Math.sign(${x})`, wgsl: (x) => `sign(${x})`, grad: 'none' },
  floor: {
    doc: 'Largest integer <= x; no gradient (it is 0 almost everywhere).',
    js: (x) => `Math.floor(${x})`,
    wgsl: (x) => `floor(${x})`,
    grad: 'none',
  },
  cos: {
    doc: 'Cosine (radians).',
    js: (x) => `Math.cos(${x})`,
    wgsl: (x) => `cos_acc(${x})`,
    wgslDecls: SINCOS,
    grad: (g, n, dy) => [g.op('neg', [g.op('mul', [dy, g.op('sin', [n.inputs[0]!])])])],
  },
  sin: {
    doc: 'Sine (radians).',
    js: (x) => `Math.sin(${x})`,
    wgsl: (x) => `sin_acc(${x})`,
    wgslDecls: SINCOS,
    grad: (g, n, dy) => [g.op('mul', [dy, g.op('cos', [n.inputs[0]!])])],
  },
  softplus: {
    doc: 'log(1 + e^x); x itself above 20, as PyTorch (beta 1, threshold 20).',
    js: (x) => `(${x} > 20 ? ${x} : Math.log1p(Math.exp(${x})))`,
    wgsl: (x) => `select(log(1.0 + exp(${x})), ${x}, ${x} > 20.0)`,
    grad: (g, n, dy) => [g.op('softplus_grad', [n.inputs[0]!, dy])],
  },
} satisfies Record<string, UnaryRow>;

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

const binaryRows = {
  add: {
    doc: 'a + b (broadcasting).',
    js: (a, b) => `${a} + ${b}`,
    wgsl: (a, b) => `${a} + ${b}`,
    grad: (_g, _n, dy) => [dy, dy],
  },
  sub: {
    doc: 'a - b (broadcasting).',
    js: (a, b) => `${a} - ${b}`,
    wgsl: (a, b) => `${a} - ${b}`,
    grad: (g, _n, dy, needs) => [dy, needs[1] ? g.op('neg', [dy]) : null],
  },
  mul: {
    doc: 'a * b (broadcasting).',
    js: (a, b) => `${a} * ${b}`,
    wgsl: (a, b) => `${a} * ${b}`,
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('mul', [dy, n.inputs[1]!]) : null,
      needs[1] ? g.op('mul', [dy, n.inputs[0]!]) : null,
    ],
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
  },
  maximum: {
    doc: 'Elementwise max(a, b); ties send the gradient to a.',
    js: (a, b) => `(${a} >= ${b} ? ${a} : ${b})`,
    wgsl: (a, b) => `select(${b}, ${a}, ${a} >= ${b})`,
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('mul', [dy, g.op('greater_equal', [n.inputs[0]!, n.inputs[1]!])]) : null,
      needs[1] ? g.op('mul', [dy, g.op('less', [n.inputs[0]!, n.inputs[1]!])]) : null,
    ],
  },
  minimum: {
    doc: 'Elementwise min(a, b); ties send the gradient to a.',
    js: (a, b) => `(${a} <= ${b} ? ${a} : ${b})`,
    wgsl: (a, b) => `select(${b}, ${a}, ${a} <= ${b})`,
    grad: (g, n, dy, needs) => [
      needs[0] ? g.op('mul', [dy, g.op('less_equal', [n.inputs[0]!, n.inputs[1]!])]) : null,
      needs[1] ? g.op('mul', [dy, g.op('greater', [n.inputs[0]!, n.inputs[1]!])]) : null,
    ],
  },
  greater: {
    doc: '1 where a > b, else 0.',
    js: (a, b) => `(${a} > ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} > ${b})`,
    grad: 'none',
  },
  greater_equal: {
    doc: '1 where a >= b, else 0.',
    js: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} >= ${b})`,
    grad: 'none',
  },
  less: {
    doc: '1 where a < b, else 0.',
    js: (a, b) => `(${a} < ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} < ${b})`,
    grad: 'none',
  },
  less_equal: {
    doc: '1 where a <= b, else 0.',
    js: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} <= ${b})`,
    grad: 'none',
  },
  equal: {
    doc: '1 where a == b, else 0.',
    js: (a, b) => `(${a} === ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} == ${b})`,
    grad: 'none',
  },
  not_equal: {
    doc: '1 where a != b, else 0.',
    js: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
    wgsl: (a, b, t) => `select(${t}(0), ${t}(1), ${a} != ${b})`,
    grad: 'none',
  },
  // Gradient helpers: the reverse graph uses them so one activation's gradient is one node.
  sigmoid_grad: {
    doc: 'dy * y * (1 - y) for y = sigmoid(x): the gradient of sigmoid, from its output.',
    js: (y, dy) => `${dy} * ${y} * (1 - ${y})`,
    wgsl: (y, dy, t) => `${dy} * ${y} * (${t}(1) - ${y})`,
    grad: 'none',
  },
  tanh_grad: {
    doc: 'dy * (1 - y^2) for y = tanh(x).',
    js: (y, dy) => `${dy} * (1 - ${y} * ${y})`,
    wgsl: (y, dy, t) => `${dy} * (${t}(1) - ${y} * ${y})`,
    grad: 'none',
  },
  softplus_grad: {
    doc: 'dy * e^x / (e^x + 1) (dy above 20): the gradient of softplus, from its input, as PyTorch computes it.',
    js: (x, dy) => `(${x} > 20 ? ${dy} : ${dy} * Math.exp(${x}) / (Math.exp(${x}) + 1))`,
    wgsl: (x, dy) => `select(${dy} * exp(${x}) / (exp(${x}) + 1.0), ${dy}, ${x} > 20.0)`,
    grad: 'none',
  },
  relu_grad: {
    doc: 'dy where x > 0, else 0: the gradient of relu, from its input.',
    js: (x, dy) => `(${x} > 0 ? ${dy} : 0)`,
    wgsl: (x, dy, t) => `select(${t}(0), ${dy}, ${x} > ${t}(0))`,
    grad: 'none',
  },
} satisfies Record<string, BinaryRow>;

export type UnaryOpName = keyof typeof unaryRows;
export type BinaryOpName = keyof typeof binaryRows;

// Compiled loops, keyed by their own source text: the same expression never compiles twice.
const compiled = new Map<string, Function>();
function compile(params: string[], body: string): Function {
  const key = params.join(',') + '|' + body;
  let f = compiled.get(key);
  if (!f) {
    f = new Function(...params, body);
    compiled.set(key, f);
  }
  return f;
}

function floatOnly(op: string, t: TensorType): void {
  if (t.dtype === 'i32') throw new RuleError(`${op} needs a float tensor, got i32`, 'DTypeError');
}

function unaryDef(name: string, row: UnaryRow): OpDef {
  const loop = compile(['x', 'y', 'n'], `for (let i = 0; i < n; i++) { const v = x[i]; y[i] = ${row.js('v')}; }`);
  const cpu: CpuKernel = ({ inputs, output }) => {
    const x = inputs[0]!;
    const n = output.length;
    return () => loop(x, output, n);
  };
  return {
    name,
    doc: row.doc,
    arity: 1,
    attrs: noAttrs,
    infer: ([t]) => {
      floatOnly(name, t!);
      return { shape: [...t!.shape], dtype: t!.dtype };
    },
    cpu,
    ...(row.wgsl ? { wgsl: unaryWgsl(row.wgsl, row.wgslDecls) } : {}),
    grad: row.grad,
  };
}

function unaryWgsl(expr: (x: string) => string, decls?: string): WgslGen {
  return ({ outType }) => ({
    kind: 'map',
    count: sizeOf(outType.shape),
    body: `let v = in0[i];\nout[i] = ${expr('v')};`,
    ...(decls ? { decls } : {}),
  });
}

/** Same shape: the output index; one element: 0; otherwise the broadcast gather. */
function operandIndex(shape: readonly number[], out: readonly number[]): string {
  const n = sizeOf(shape);
  if (n === sizeOf(out)) return 'i';
  if (n === 1) return '0u';
  return gatherIndex('i', out, broadcastStrides(shape, out));
}

function binaryWgsl(row: BinaryRow): WgslGen {
  const expr = row.wgsl!;
  return ({ inTypes, outType }) => {
    const t = wgslType(outType.dtype);
    const ia = operandIndex(inTypes[0]!.shape, outType.shape);
    const ib = operandIndex(inTypes[1]!.shape, outType.shape);
    const body = `let u = in0[${ia}];\nlet v = in1[${ib}];\nout[i] = ${expr('u', 'v', t)};`;
    return { kind: 'map', count: sizeOf(outType.shape), body, ...(row.wgslDecls ? { decls: row.wgslDecls } : {}) };
  };
}

function binaryDef(name: string, row: BinaryRow): OpDef {
  const e = row.js('u', 'v');
  const same = compile(['a', 'b', 'y', 'n'], `for (let i = 0; i < n; i++) { const u = a[i], v = b[i]; y[i] = ${e}; }`);
  const scalarB = compile(
    ['a', 'b', 'y', 'n'],
    `const v = b[0]; for (let i = 0; i < n; i++) { const u = a[i]; y[i] = ${e}; }`,
  );
  const scalarA = compile(
    ['a', 'b', 'y', 'n'],
    `const u = a[0]; for (let i = 0; i < n; i++) { const v = b[i]; y[i] = ${e}; }`,
  );
  const general = compile(
    ['a', 'b', 'y', 'n', 'ia', 'ib'],
    `for (let i = 0; i < n; i++) { const u = a[ia[i]], v = b[ib[i]]; y[i] = ${e}; }`,
  );
  const cpu: CpuKernel = ({ inputs, output, inTypes, outType }) => {
    const [a, b] = inputs as [TypedArray, TypedArray];
    const n = output.length;
    const na = a.length,
      nb = b.length;
    if (na === n && nb === n) return () => same(a, b, output, n);
    if (nb === 1 && na === n) return () => scalarB(a, b, output, n);
    if (na === 1 && nb === n) return () => scalarA(a, b, output, n);
    const ia = indexMap(inTypes[0]!.shape, outType.shape);
    const ib = indexMap(inTypes[1]!.shape, outType.shape);
    return () => general(a, b, output, n, ia, ib);
  };
  return {
    name,
    doc: row.doc,
    arity: 2,
    attrs: noAttrs,
    infer: ([a, b]) => {
      if (a!.dtype !== b!.dtype) throw new RuleError(`dtypes differ: ${a!.dtype} vs ${b!.dtype}`, 'DTypeError');
      return { shape: broadcastShapes(a!.shape, b!.shape), dtype: a!.dtype };
    },
    cpu,
    ...(row.wgsl ? { wgsl: binaryWgsl(row) } : {}),
    grad: row.grad,
  };
}

/** For each element of a tensor of shape `out`, the flat index of its source in `shape`. */
export function indexMap(shape: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const map = new Int32Array(n);
  const st = broadcastStrides(shape, out);
  const ost = contiguousStrides(out);
  for (let i = 0; i < n; i++) {
    let rem = i,
      src = 0;
    for (let d = 0; d < out.length; d++) {
      const q = Math.floor(rem / ost[d]!);
      rem -= q * ost[d]!;
      src += q * st[d]!;
    }
    map[i] = src;
  }
  return map;
}

export const unaryOps = Object.fromEntries(
  Object.entries(unaryRows).map(([k, r]) => [k, unaryDef(k, r as UnaryRow)]),
) as Record<UnaryOpName, OpDef>;

export const binaryOps = Object.fromEntries(
  Object.entries(binaryRows).map(([k, r]) => [k, binaryDef(k, r as BinaryRow)]),
) as Record<BinaryOpName, OpDef>;

/** The element expressions, for code generators that fuse elementwise chains. */
export const elementwiseExpr = {
  unary: Object.fromEntries(Object.entries(unaryRows).map(([k, r]) => [k, r.js])) as Record<
    UnaryOpName,
    (x: string) => string
  >,
  binary: Object.fromEntries(Object.entries(binaryRows).map(([k, r]) => [k, r.js])) as Record<
    BinaryOpName,
    (a: string, b: string) => string
  >,
};
