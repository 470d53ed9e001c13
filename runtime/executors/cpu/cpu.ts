// The CPU executor: TypedArray buffers and prepared kernel closures, built once per plan.
// Synchronous; `read` resolves immediately. Two tiers of kernels:
// - reference: each op's plain TypeScript kernel (ops/*.ts), the definition of the op;
// - fast (default): f32 buffers live in a shared WebAssembly memory (arena.ts), f32 matrix
//   products run as WebAssembly SIMD on all cores (threads.ts), and chains of elementwise ops
//   run fused, one generated loop per chain (fused.ts, bit-identical to the unfused kernels),
//   and a matmul followed by a bias row and ReLU adds and clips in the gemm's epilogue (same bits);
//   ops with a fast lowering (OpDef.fast: sums, softmax rows, gelu, transposes by runs, ...) run
//   it over the arena, a reshape shares its input's buffer, and every other node runs its
//   reference kernel. `{ fast: false }` (or the environment
//   variable GRAPH_RUN_FAST=0) gives the reference tier alone.

import { getOp } from '../../ops/registry.js';
import { allocate, type DType, type IRNode, type TensorType, type TypedArray } from '../../ir/types.js';
import type { Executor } from '../executor.js';
import type { FusedGroup, FusingExecutor } from '../../ir/fusion.js';
import { prepareGroup, prepareSimd } from './fused.js';
import { isElementwise } from '../../ir/fusion.js';
import { epilogueApplies, fastMatmul } from './matmul.js';
import type { ConvRuns, CpuAccel } from '../../ops/op.js';
import { kernels, type Kernels } from './threads.js';
import { poolKernels } from './wasm/pool.js';
import { convRunKernels } from './wasm/conv-runs.js';
import { dotNTKernel } from './wasm/dot-nt.js';
import { reduceKernels } from './wasm/reduce.js';
import { softmaxKernels } from './wasm/softmax.js';
import { copyKernels } from './wasm/copy.js';

export interface CpuOptions {
  /** Use the fast kernels where they apply (default true). */
  fast?: boolean;
}

/** f32 buffers shorter than this stay ordinary arrays: no fast kernel would take them. */
const ARENA_MIN_LENGTH = 64;

export class CpuExecutor implements Executor<TypedArray>, Partial<FusingExecutor<TypedArray>> {
  readonly kind = 'cpu' as const;
  private readonly fast: Kernels | null;
  /** What ops' fast lowerings (OpDef.fast) may use. */
  private readonly accel: CpuAccel | null;

  /** Present only on the fast tier: matmuls finished by bias + ReLU in the gemm (scheduler/fusion.ts). */
  readonly epilogue?: (mm: IRNode, inTypes: TensorType[]) => boolean;
  readonly prepareEpilogue?: (
    mm: IRNode,
    inputs: TypedArray[],
    inTypes: TensorType[],
    bias: TypedArray,
    relu: boolean,
    output: TypedArray,
  ) => () => void;

  /** Present only on the fast tier: the planner fuses when an executor offers this. */
  readonly prepareFused?: (
    group: FusedGroup,
    inputs: TypedArray[],
    inTypes: TensorType[],
    output: TypedArray,
  ) => () => void;

  constructor(opts: CpuOptions = {}) {
    this.fast = opts.fast === false ? null : kernels();
    const K = this.fast;
    this.accel = K && {
      matmul: (inputs, output, inTypes, attrs) => fastMatmul(K, inputs, output, inTypes, attrs),
      f32: (length) => K.arena.f32(length),
      holds: (a) => K.arena.holds(a),
      gemm: (t) => {
        if (!K.arena.holds(t.a) || !K.arena.holds(t.b) || !K.arena.holds(t.c))
          throw new Error('gemm operands must live in the kernels memory');
        K.gemm({
          m: t.m,
          n: t.n,
          k: t.k,
          a: t.a.byteOffset + t.ao * 4,
          rsa: t.rsa * 4,
          csa: t.csa * 4,
          b: t.b.byteOffset + t.bo * 4,
          rsb: t.rsb * 4,
          csb: t.csb * 4,
          c: t.c.byteOffset + t.co * 4,
          ldc: t.ldc * 4,
        });
      },
      maxPool2x2: (x, y, rows, ow, dx) => {
        if (![x, y, dx ?? x].every((a) => K.arena.holds(a)))
          throw new Error('pooling operands must live in the kernels memory');
        const p = poolKernels(K.arena.memory, K.arena.maxPages);
        if (dx) p.max2x2grad(x.byteOffset, y.byteOffset, dx.byteOffset, rows, ow);
        else p.max2x2(x.byteOffset, y.byteOffset, rows, ow);
      },
      convRuns: (taps, p, ow) => convRuns(K, taps, p, ow),
      dotNT: (a, ao, lda, b, bo, ldb, c, co, m, n, k) => {
        if (!K.arena.holds(a) || !K.arena.holds(b) || !K.arena.holds(c))
          throw new Error('dotNT operands must live in the kernels memory');
        dotNTKernel(K.arena.memory, K.arena.maxPages).dotNT(
          a.byteOffset + ao * 4,
          lda * 4,
          b.byteOffset + bo * 4,
          ldb * 4,
          c.byteOffset + co * 4,
          m,
          n,
          k,
        );
      },
      simd: (key, rule, inputs, output, tail) => prepareSimd(K, key, rule, inputs, output, tail),
      maskedSoftmaxRows: (x, mask, y, len) => {
        if (![x, mask, y].every((a) => K.arena.holds(a)) || len % 4 !== 0 || mask.length % len !== 0) return null;
        const { softmax } = softmaxKernels(K.arena.memory, K.arena.maxPages);
        const [xo, mo, yo, rows, maskRows] = [
          x.byteOffset,
          mask.byteOffset,
          y.byteOffset,
          x.length / len,
          mask.length / len,
        ];
        return () => softmax(xo, mo, yo, rows, len, maskRows);
      },
      runs: (x, y, srcs, len, fill) => {
        if (!K.arena.holds(x) || !K.arena.holds(y) || len % 4 !== 0 || srcs.length * len !== y.length) return null;
        const k = copyKernels(K.arena.memory, K.arena.maxPages);
        // The run offsets, in arena scratch for the kernel to read.
        const at = K.arena.f32(Math.max(1, srcs.length));
        new Int32Array(at.buffer, at.byteOffset, srcs.length).set(srcs);
        const run = fill ? k.fillRuns : k.copyRuns;
        const [xo, yo, so, n] = [x.byteOffset, y.byteOffset, at.byteOffset, srcs.length];
        return () => run(xo, yo, so, n, len);
      },
      logSoftmaxRows: (x, y, len) => {
        if (!K.arena.holds(x) || !K.arena.holds(y) || len < 4) return null;
        const { rowstats, subrows } = softmaxKernels(K.arena.memory, K.arena.maxPages);
        const rows = x.length / len;
        // Per row: m and Σ exp(x - m), then m + log Σ (in f64, once per row) in its place.
        const stats = K.arena.f32(2 * Math.max(1, rows));
        const [xo, yo, so] = [x.byteOffset, y.byteOffset, stats.byteOffset];
        return () => {
          rowstats(xo, so, rows, len);
          for (let r = 0; r < 2 * rows; r += 2) stats[r] = stats[r]! + Math.log(stats[r + 1]!);
          subrows(xo, yo, so, rows, len);
        };
      },
      sumF32: (along, x, y, rows, cols, count) => {
        // The divisor goes in as an f32: exact up to 2^24.
        if (!K.arena.holds(x) || (count !== undefined && count > 2 ** 24)) return null;
        const r = reduceKernels(K.arena.memory, K.arena.maxPages);
        const run = along === 'rows' ? r.rowsum : r.colsum;
        // A short y outside the arena is written in arena scratch, then copied out.
        const out = K.arena.holds(y) ? null : K.arena.f32(Math.max(1, y.length));
        const [xo, yo, mean, c] = [x.byteOffset, (out ?? y).byteOffset, count === undefined ? 0 : 1, count ?? 1];
        return () => {
          run(xo, yo, rows, cols, mean, c);
          if (out) y.set(out.subarray(0, y.length));
        };
      },
    };
    if (K) {
      this.prepareFused = (group, inputs, inTypes, output) => prepareGroup(K, group, inputs, inTypes, output);
      this.epilogue = (mm, inTypes) => K.epilogue && epilogueApplies(inTypes, mm.attrs);
      this.prepareEpilogue = (mm, inputs, inTypes, bias, relu, output) => {
        const k = fastMatmul(K, inputs, output, inTypes, mm.attrs, undefined, { bias, relu });
        if (!k) throw new Error(`matmul "${mm.name}" cannot take an epilogue`);
        return k;
      };
    }
  }

  /** The fast tier's plans give a reshape its input's buffer (no copy); the reference tier copies. */
  get reshapeShares(): boolean {
    return this.fast !== null;
  }

  /** Whether the fast kernels are in use. */
  get accelerated(): boolean {
    return this.fast !== null;
  }

  allocate(dtype: DType, length: number): TypedArray {
    if (this.fast && dtype === 'f32' && length >= ARENA_MIN_LENGTH) return this.fast.arena.f32(length);
    return allocate(dtype, length);
  }

  write(buf: TypedArray, data: ArrayLike<number>): void {
    buf.set(data);
  }

  read(buf: TypedArray): Promise<TypedArray> {
    return Promise.resolve(buf.slice());
  }

  prepare(node: IRNode, inputs: TypedArray[], output: TypedArray, inTypes: TensorType[]): () => void {
    const def = getOp(node.op);
    if (!def) throw new Error(`no kernel for op ${node.op}`);
    if (this.fast && isElementwise(node)) {
      // A lone elementwise node runs as a group of one (WebAssembly SIMD where it applies).
      const ins = [...new Set(node.inputs)];
      return prepareGroup(
        this.fast,
        { output: node.name, nodes: [node], inputs: ins },
        ins.map((x) => inputs[node.inputs.indexOf(x)]!),
        ins.map((x) => inTypes[node.inputs.indexOf(x)]!),
        output,
      );
    }
    const args = { inputs, output, inTypes, outType: node.type, attrs: node.attrs };
    if (this.accel && def.fast) {
      const k = def.fast(this.accel, args);
      if (k) return k;
    }
    return def.cpu(args);
  }

  copy(src: TypedArray, dst: TypedArray, length: number): () => void {
    if (length === 1)
      return () => {
        dst[0] = src[0]!;
      };
    return () => dst.set(src);
  }

  begin(): void {}
  end(): void {}
  dispose(): void {}
}

/** CpuAccel.convRuns: the tap records copied once into the arena (in bytes), kept by the closures. */
function convRuns(K: Kernels, taps: Int32Array, p: number, ow: number): ConvRuns {
  const k = convRunKernels(K.arena.memory, K.arena.maxPages);
  const count = taps.length / 8;
  const keep = K.arena.f32(Math.max(1, taps.length));
  new Int32Array(keep.buffer, keep.byteOffset, taps.length).set(taps.map((v) => v * 4));
  const check = (a: Float32Array, b: Float32Array) => {
    if (!K.arena.holds(a) || !K.arena.holds(b)) throw new Error('convolution runs must live in the kernels memory');
  };
  return {
    im2col: (x, xo, cols) => {
      check(x, cols);
      k.im2col(x.byteOffset + xo * 4, cols.byteOffset, keep.byteOffset, count, p * 4, ow * 4);
    },
    col2im: (cols, dx, xo, size) => {
      check(cols, dx);
      k.col2im(cols.byteOffset, dx.byteOffset + xo * 4, keep.byteOffset, count, p * 4, ow * 4, size * 4);
    },
  };
}
