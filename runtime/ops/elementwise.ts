// Elementwise ops as rows of two tables (./unary.ts, ./binary.ts): a new activation is one row.
// Each row gives the JavaScript expression of one element (compiled once into a tight loop
// per op and broadcast pattern); this module turns rows into ops. Binary ops broadcast as NumPy does.

import { RuleError } from '../errors.js';
import { sizeOf, type SymType, type TypedArray } from '../ir/types.js';
import { broadcastShapes, broadcastStrides, contiguousStrides } from './broadcast.js';
import { noAttrs } from './attrs.js';
import { type BinaryOpName, binaryRows } from './binary.js';
import type { CpuKernel, GradRule, OnnxRule, OpDef, SimdRule, TraceRule, WgslGen } from './op.js';
import { type UnaryOpName, unaryRows } from './unary.js';
import { gatherIndex, wgslType } from './wgsl.js';

/** What every row declares besides its element expressions. */
interface RowCommon {
  doc: string;
  grad: GradRule | 'none';
  onnx: OnnxRule;
  /** WebAssembly SIMD lowering inside fused groups (f32). */
  simd?: SimdRule;
  /** A gradient helper of the reverse graph, not offered to users. */
  internal?: boolean;
  /** Trace formula; unary rows default to `op(x)`, binary rows to their JavaScript expression. */
  trace?: TraceRule;
}

export interface UnaryRow extends RowCommon {
  /** JavaScript expression for one element, given the name of the input element. */
  js: (x: string) => string;
  /** WGSL expression for one f32 element; absent: the op runs on the CPU under WebGPU placement. */
  wgsl?: (x: string) => string;
  /** Module-scope WGSL the expression calls. */
  wgslDecls?: string;
}

export interface BinaryRow extends RowCommon {
  js: (a: string, b: string) => string;
  /** WGSL expression for one element of type `t` (f32 or i32: binary ops also take i32). */
  wgsl?: (a: string, b: string, t: 'f32' | 'i32') => string;
  /** Module-scope WGSL the expression calls. */
  wgslDecls?: string;
  /** Precedence when `trace` prints it infix (2 for * /, 1 for + -); otherwise it prints its expression. */
  infix?: number;
}

// Each row module declares its op-name union beside its table.
export type { BinaryOpName, UnaryOpName };

// Compiled loops, keyed by their own source text: the same expression never compiles twice.
/** A compiled loop: called with its buffers and sizes. */
type Loop = (...args: unknown[]) => unknown;

const compiled = new Map<string, Loop>();
function compile(params: string[], body: string): Loop {
  const key = params.join(',') + '|' + body;
  let f = compiled.get(key);
  if (!f) {
    f = new Function(...params, body) as Loop;
    compiled.set(key, f);
  }
  return f;
}

function floatOnly(op: string, t: SymType): void {
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
    group: row.internal ? 'helper' : 'unary',
    ...(row.internal ? { internal: true } : {}),
    arity: 1,
    attrs: noAttrs,
    infer: ([t]) => {
      floatOnly(name, t!);
      return { shape: [...t!.shape], dtype: t!.dtype };
    },
    cpu,
    ...(row.wgsl ? { wgsl: unaryWgsl(row.wgsl, row.wgslDecls) } : {}),
    ...(row.simd ? { simd: row.simd } : {}),
    grad: row.grad,
    onnx: row.onnx,
    trace: row.trace ?? (({ args }) => ({ text: `${name}(${args[0]!.text})`, atom: true })),
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
  const p = row.infix;
  // JavaScript's Math.f(...) reads as plain f(...) in a formula.
  const trace: TraceRule =
    row.trace ??
    (p !== undefined
      ? ({ args, side }) => ({ text: row.js(side(args[0]!, p, false), side(args[1]!, p, true)), atom: false, prec: p })
      : ({ args, paren, classify }) => classify(row.js(paren(args[0]!), paren(args[1]!)).replace(/Math\./g, '')));
  return {
    name,
    doc: row.doc,
    group: row.internal ? 'helper' : 'binary',
    ...(row.internal ? { internal: true } : {}),
    arity: 2,
    attrs: noAttrs,
    infer: ([a, b]) => {
      if (a!.dtype !== b!.dtype) throw new RuleError(`dtypes differ: ${a!.dtype} vs ${b!.dtype}`, 'DTypeError');
      return { shape: broadcastShapes(a!.shape, b!.shape), dtype: a!.dtype };
    },
    cpu,
    ...(row.wgsl ? { wgsl: binaryWgsl(row) } : {}),
    ...(row.simd ? { simd: row.simd } : {}),
    grad: row.grad,
    onnx: row.onnx,
    trace,
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

// Object.fromEntries loses the keys; the row tables are mapped types over their unions, so these
// tables have exactly the keys the casts claim.
export const unaryOps = Object.fromEntries(
  Object.entries(unaryRows).map(([k, r]) => [k, unaryDef(k, r as UnaryRow)]),
) as Record<UnaryOpName, OpDef<Record<string, never>>>;

export const binaryOps = Object.fromEntries(
  Object.entries(binaryRows).map(([k, r]) => [k, binaryDef(k, r as BinaryRow)]),
) as Record<BinaryOpName, OpDef<Record<string, never>>>;

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

/**
 * The WGSL of an elementwise op's element, for generators that fuse chains (the WebGPU
 * executor): its expression over the operands' element names (f32), and the module-scope WGSL
 * it calls. Undefined for ops without WGSL (they run on the CPU under WebGPU placement).
 */
export function elementwiseWgsl(op: string): { expr: (args: string[]) => string; decls?: string } | undefined {
  const u = Object.hasOwn(unaryRows, op) ? (unaryRows as Record<string, UnaryRow>)[op] : undefined;
  if (u?.wgsl) return { expr: ([x]) => u.wgsl!(x!), ...(u.wgslDecls ? { decls: u.wgslDecls } : {}) };
  const b = Object.hasOwn(binaryRows, op) ? (binaryRows as Record<string, BinaryRow>)[op] : undefined;
  if (b?.wgsl) return { expr: ([x, y]) => b.wgsl!(x!, y!, 'f32'), ...(b.wgslDecls ? { decls: b.wgslDecls } : {}) };
  return undefined;
}
