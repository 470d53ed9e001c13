// The shape of an op definition: one module keeps everything about an op together (see
// ../../docs/contributing.md): its attributes (a TypeBox schema, which is both the JSON Schema
// validated at load time and published for editors, and the TypeScript type every function
// below receives), its shape/dtype rule, CPU kernel, WGSL, gradient rule, ONNX mapping, fast
// CPU lowering, trace formula, and whether users may see it. ./registry.ts maps every op name
// of a declared union to one of these.

import type { Static, TObject } from '@sinclair/typebox';
import type { FloatDType, IRNode, SymType, TensorType, TypedArray, DType } from '../ir/types.js';
import type { Dim } from '../ir/dim.js';
import type { Fn } from '../executors/cpu/wasm/asm.js';
import type { OpName } from './registry.js';

export interface InferCtx {
  /** The float dtype the graph is compiled for (inputs and params declared `float`). */
  float: FloatDType;
}

/** An IR node whose attributes have the op's type (its dims possibly symbolic: a compiled graph's). */
export type OpNode<A> = Omit<IRNode<Dim>, 'attrs'> & { attrs: A };

/** What a CPU kernel factory receives once, at plan time. It returns the closure run per step. */
export interface KernelArgs<A = Record<string, unknown>> {
  inputs: TypedArray[];
  output: TypedArray;
  inTypes: TensorType[];
  outType: TensorType;
  attrs: A;
}

export type CpuKernel<A = Record<string, unknown>> = (a: KernelArgs<A>) => () => void;

/** What a WGSL kernel generator receives once, at plan time; shapes are baked into the source. */
export interface WgslArgs<A = Record<string, unknown>> {
  inTypes: TensorType[];
  outType: TensorType;
  attrs: A;
}

/**
 * A WGSL kernel as text inside the WebGPU executor's fixed frame (executors/webgpu/wgsl.ts).
 * Inputs are bound as `in0`, `in1`, ... and the output as `out`: arrays of `T0`, `T1`, ...,
 * `TO` (aliases of f32 or i32), and `f32_bits(u32) -> f32` makes infinities and NaN (no WGSL
 * constant may be one). `decls` holds module-scope helpers and workgroup arrays.
 * - map: `body` runs once per work item `i: u32` in [0, count); the frame derives `i`, splits
 *   the dispatch past 65,535 workgroups per dimension and returns when i >= count (the guard).
 * - tiled: `body` runs in every invocation of a `workgroupSize` workgroup; `wid: vec3<u32>` is
 *   the workgroup's cell of `grid` (the frame flattens and guards the grid), `lid: vec3<u32>`
 *   and `lidx: u32` the invocation within it. The body guards its own loads and stores.
 */
export type WgslPass =
  | { kind: 'map'; count: number; body: string; decls?: string }
  | {
      kind: 'tiled';
      grid: [number, number, number];
      workgroupSize: [number, number, number];
      body: string;
      decls?: string;
    };

/**
 * One pass, or `passes` dispatched in order that share a `scratch` buffer of that many f32
 * (bound as `scratch`, read-write, after `out`), which the executor owns: e.g. a matmul whose
 * first pass writes partial sums over chunks of k and whose second adds them into `out`.
 */
export type WgslKernel = WgslPass | { kind: 'passes'; scratch: number; passes: WgslPass[] };

export type WgslGen<A = Record<string, unknown>> = (a: WgslArgs<A>) => WgslKernel;

/** Emits reverse-graph nodes (of ops the registry has: a misspelt op does not compile); numbers become scalar constants of the graph's float dtype. */
export interface GradBuilder {
  op(op: OpName, inputs: (string | Dim)[], attrs?: Record<string, unknown>): string;
  type(name: string): SymType;
}

/**
 * A gradient rule: given the forward node and the gradient `dy` of its output, return one
 * gradient per input (null where `needs[i]` is false or the input has no gradient).
 * Rules never sum over fan-out and never un-broadcast: the builder does both.
 */
export type GradRule<A = Record<string, unknown>> = (
  g: GradBuilder,
  node: OpNode<A>,
  dy: string,
  needs: boolean[],
) => (string | null)[];

/** An ONNX attribute value (export/onnx-proto.ts's AttrValue). */
export type OnnxAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] };

/** What an op's ONNX mapping gets (export/onnx.ts builds it): the node, its inputs' ONNX names and types, emitters. */
export interface OnnxCtx<A = Record<string, unknown>> {
  node: OpNode<A>;
  /** ONNX value names of the node's inputs. */
  x: string[];
  types: SymType[];
  /** The ONNX name the node's result must have. */
  out: string;
  /** Emit an ONNX node; `out` defaults to one fresh intermediate name, returned. */
  emit(op: string, inputs: string[], attrs?: Record<string, OnnxAttr>, out?: string): string;
  /** ONNX's element type number of a dtype (for Cast's `to`). */
  elemType(d: DType | 'bool'): number;
  /** An int64 constant (axes, shapes, slice bounds). */
  i64(values: number[], name: string): string;
  /** A scalar constant of `dtype`. */
  scalar(v: number, dtype: DType): string;
  /** A constant tensor of `dtype` named `name`. */
  constant(name: string, dtype: DType, dims: number[], values: number[]): string;
  /** The batch-dependent positions of a shape attribute. */
  batchDims(attr: string): number[];
  /** Stop the export with an ExportError naming this node. */
  fail(message: string, hint?: string): never;
}

/** Writes the node as ONNX nodes, or 'none': ONNX cannot express it (an ExportError naming the node). */
export type OnnxRule<A = Record<string, unknown>> = ((c: OnnxCtx<A>) => void) | 'none';

/** A printed expression for `trace`; `atom`: needs no parentheses as an operand; `prec`: 2 for * / ·, 1 for + -. */
export interface TraceExpr {
  text: string;
  atom: boolean;
  prec?: number;
}

/** What a trace formula gets: the node, its operands as printed, and trace/expr.ts's layout helpers. */
export interface TraceCtx<A = Record<string, unknown>> {
  node: OpNode<A>;
  args: TraceExpr[];
  /** An operand, parenthesized unless atomic. */
  paren(e: TraceExpr): string;
  /** An operand of an infix op of precedence p (left or right side). */
  side(e: TraceExpr, p: number, right: boolean): string;
  /** Text that is a call or parenthesized is an atom; anything else with an operator is not. */
  classify(text: string): TraceExpr;
}

/** How `trace` prints the node; absent: `op(args...)`. */
export type TraceRule<A = Record<string, unknown>> = (t: TraceCtx<A>) => TraceExpr;

/** What the CPU executor's fast tier offers an op's lowering (executors/cpu implements it). */
export interface CpuAccel {
  /** f32 matrix products as WebAssembly SIMD on all cores; null where it does not apply. */
  matmul(
    inputs: TypedArray[],
    output: TypedArray,
    inTypes: TensorType[],
    attrs: { transpose_a?: boolean; transpose_b?: boolean },
  ): (() => void) | null;
  /** A zeroed Float32Array in the memory the SIMD kernels work in (a lowering's scratch, kept by its closure). */
  f32(length: number): Float32Array;
  /** Whether `a` lives in that memory (plan buffers of f32 usually do; small ones may not). */
  holds(a: TypedArray): boolean;
  /** C = op(A)·op(B) with the SIMD gemm, on arrays that live in that memory (see `holds`). */
  gemm(t: GemmCall): void;
  /**
   * 2×2, stride-2 max pooling of even-sized NCHW images in that memory, `rows` rows of `ow` ≥ 4
   * windows (N·C·H/2 of W/2): y the maxima; with `dx`, the gradient (x, dy, dx) instead.
   */
  maxPool2x2(x: Float32Array, y: Float32Array, rows: number, ow: number, dx?: Float32Array): void;
  /**
   * f32 sums of the rows × cols matrix x in the reference kernel's order and rounding (the same
   * bits): 'columns' sums over the rows (y[j] = Σ_r x[r][j], a bias gradient), 'rows' along
   * each row (y[r] = Σ_j x[r][j]); then ÷ count for a mean. x lives in that memory (y need not);
   * null where it does not apply.
   */
  sumF32(
    along: 'rows' | 'columns',
    x: Float32Array,
    y: Float32Array,
    rows: number,
    cols: number,
    count?: number,
  ): (() => void) | null;
  /**
   * Masked softmax along rows of `len` (a multiple of 4) f32 values, the mask's `mask.length /
   * len` rows repeating down x's rows (ops/masking.ts's rule, within the rounding
   * executors/cpu/wasm/softmax.ts states); null where an array is not in that memory.
   */
  maskedSoftmaxRows(x: Float32Array, mask: Float32Array, y: Float32Array, len: number): (() => void) | null;
  /**
   * y as runs of `len` (a multiple of 4) f32 values: run r copies x from element srcs[r] on, or
   * with `fill` repeats x[srcs[r]] (transpose and broadcast_to by runs, the same bits); null
   * where an array is not in that memory.
   */
  runs(x: Float32Array, y: Float32Array, srcs: Int32Array, len: number, fill: boolean): (() => void) | null;
  /**
   * log_softmax along rows of `len` >= 4 f32 values: x - (m + log Σ exp(x - m)), the sum in f32
   * (the rounding executors/cpu/wasm/softmax.ts states); null where an array is not in that memory.
   */
  logSoftmaxRows(x: Float32Array, y: Float32Array, len: number): (() => void) | null;
  /**
   * An elementwise SIMD lowering (`key` names it for the module cache) over f32 arrays of one
   * length, four lanes at a time, split across threads when long; `tail(start)` prepares the
   * op's own kernel for the elements from `start` on (a length not a multiple of 4). null where
   * an array does not live in that memory.
   */
  simd(
    key: string,
    rule: SimdRule,
    inputs: TypedArray[],
    output: TypedArray,
    tail: (start: number) => () => void,
  ): (() => void) | null;
  /**
   * C += A·Bᵀ for thin products (wasm/dot-nt.ts): c[co + i·n + j] += Σ_q a[ao + i·lda + q]·b[bo + j·ldb + q]
   * for i < m, j < n, q < k (offsets and strides in elements); arrays in that memory.
   */
  dotNT(
    a: Float32Array,
    ao: number,
    lda: number,
    b: Float32Array,
    bo: number,
    ldb: number,
    c: Float32Array,
    co: number,
    m: number,
    n: number,
    k: number,
  ): void;
  /**
   * The im2col/col2im runs of a width-keeping convolution (conv-runs.ts) as WebAssembly, for the
   * tap records `taps` (8 i32 each, in elements: row, src, j0, j1, side, lo, hi, 0) over
   * column-matrix rows of p and output rows of ow; arrays in that memory, x/dx from element xo.
   */
  convRuns(taps: Int32Array, p: number, ow: number): ConvRuns;
}

/** See CpuAccel.convRuns. */
export interface ConvRuns {
  im2col(x: Float32Array, xo: number, cols: Float32Array): void;
  /** dx[xo, xo + size) = Σ of the taps' runs of cols (cols' outside columns are zeroed). */
  col2im(cols: Float32Array, dx: Float32Array, xo: number, size: number): void;
}

/**
 * One matrix product on arrays, offsets and strides in elements: op(A)'s (i, p) is
 * a[ao + i*rsa + p*csa], op(B)'s (p, j) is b[bo + p*rsb + j*csb], C's (i, j) is c[co + i*ldc + j].
 */
export interface GemmCall {
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  ao: number;
  rsa: number;
  csa: number;
  b: Float32Array;
  bo: number;
  rsb: number;
  csb: number;
  c: Float32Array;
  co: number;
  ldc: number;
}

/**
 * A fast CPU kernel (default tier), bit-identical to `cpu` unless the op documents its bound
 * (gelu's SIMD kernels); null where it does not apply (then `cpu` runs).
 */
export type FastKernel<A = Record<string, unknown>> = (accel: CpuAccel, a: KernelArgs<A>) => (() => void) | null;

/**
 * What an elementwise op's WebAssembly SIMD lowering gets (executors/cpu/wasm/elementwise.ts):
 * the function being written, the locals holding its f32x4 arguments, and helpers. It leaves
 * one f32x4 on the stack.
 */
export interface SimdCtx {
  f: Fn;
  a: number[];
  /** A fresh v128 local. */
  scratch(): number;
  /** Push the constant v in all four lanes (f32, or i32 with `int`). */
  c(v: number, int?: boolean): void;
  /**
   * Push exp of the v128 in local x (Cephes expf, within 2 ulp: not bit-identical to Math.exp);
   * with local `lo`, exp(x + lo) of an argument held as an exact x and a small lo, x + lo in
   * [-104, 88.7].
   */
  exp(x: number, lo?: number): void;
}

export interface SimdRule {
  /** Whether it gives the reference kernel's bits (one f32 rounding per op, as the JavaScript loop). */
  exact: boolean;
  emit(s: SimdCtx): void;
}

/** Where docs/ops.md lists the op. */
export type OpGroup =
  | 'unary'
  | 'binary'
  | 'reduce'
  | 'normalise'
  | 'matmul'
  | 'conv'
  | 'shape'
  | 'random'
  | 'helper'
  | 'source';

// The registry holds ops of different attribute types: `any` is where those types meet
// (an executor hands a node's attributes to its own op).
// biome-ignore lint/suspicious/noExplicitAny: see above
export interface OpDef<A = any> {
  name: string;
  /** One line for `--help`, docs and schema descriptions. */
  doc: string;
  /** More for docs/ops.md (markdown), after the group's table. */
  notes?: string;
  group: OpGroup;
  /**
   * Internal ops (the reverse graph's `*_grad` helpers) are valid in graphs, so a printed
   * reverse graph loads and runs, but are not offered to users: not in `--help`, the published
   * schema's completions or docs/ops.md's tables.
   */
  internal?: boolean;
  /** Number of inputs, or [min, max]. */
  arity: number | [number, number];
  /** The attributes' schema (TypeBox: JSON Schema and the type A in one). */
  attrs: TObject;
  /**
   * Shape and dtype rule; throws RuleError. Run once per node at build time, with `batch`
   * symbolic: dims are compared with === (interned) and computed with ir/dim.ts's helpers.
   */
  infer: (inTypes: SymType[], attrs: A, ctx: InferCtx) => SymType;
  /** CPU kernel factory: the plain reference implementation. */
  cpu: CpuKernel<A>;
  /** Fast CPU kernel (the default tier), where it applies. */
  fast?: FastKernel<A>;
  /** WebAssembly SIMD lowering inside fused elementwise groups (f32). */
  simd?: SimdRule;
  /** WGSL kernel generator (f32 and i32 tensors); absent: the node falls back to the CPU. */
  wgsl?: WgslGen<A>;
  /** Gradient rule, or 'none' for ops that are not differentiable (the builder then stops there). */
  grad: GradRule<A> | 'none';
  /** ONNX mapping, or 'none' (declared absent). */
  onnx: OnnxRule<A>;
  /** How many of the inputs (the first n) the ONNX mapping reads; default all. */
  onnxReads?: number;
  /** Trace formula; absent: a call. */
  trace?: TraceRule<A>;
  /**
   * Floating-point operations of one run at these shapes (a multiply-add is two), for the device
   * cost estimate (scheduler/cost.ts); absent: one per output element.
   */
  flops?: (inTypes: TensorType[], outType: TensorType, attrs: A) => number;
}

/** An op whose functions all see the attribute type of its schema S. */
export function defineOp<S extends TObject>(
  def: Omit<OpDef<NoInfer<Static<S>>>, 'attrs'> & { attrs: S },
): OpDef<Static<S>> {
  return def as OpDef<Static<S>>;
}
