// The fast f32 matmul kernel factory: the WebAssembly SIMD gemm (threads.ts, wasm/gemm.ts)
// over the plan's buffers in place when they live in the shared arena, through arena scratch
// (copied per call) when they do not. Anything else (f64, tiny products) keeps the
// reference kernel of ops/matmul.ts, which stays the definition of the op.

import type { TensorType, TypedArray } from '../../ir/types.js';
import { dims } from '../../ops/matmul.js';
import type { Kernels } from './threads.js';
import { EPI_BIAS, EPI_RELU } from './wasm/gemm-tile.js';

/** Below this many multiply-adds the plain loop is as fast as a call into WebAssembly. */
export const FAST_MATMUL_MIN_WORK = 4096;

/** A bias row added to every row of C, then ReLU or nothing: the gemm's epilogue. */
export interface MatmulEpilogue {
  bias: TypedArray;
  relu: boolean;
}

/** Whether C = op(A)·op(B) runs in the gemm with an epilogue (f32, work enough, no empty axis). */
export function epilogueApplies(inTypes: TensorType[], attrs: Record<string, unknown>): boolean {
  if (inTypes[0]!.dtype !== 'f32' || inTypes[1]!.dtype !== 'f32') return false;
  const { batch, m, k, n } = dims(
    inTypes[0]!.shape,
    inTypes[1]!.shape,
    attrs.transpose_a === true,
    attrs.transpose_b === true,
  );
  return batch > 0 && m * n > 0 && k > 0 && m * n * k >= FAST_MATMUL_MIN_WORK;
}

/** A step closure for C = op(A)·op(B) (then `epi`), or null where the reference kernel should run. */
export function fastMatmul(
  K: Kernels,
  inputs: TypedArray[],
  output: TypedArray,
  inTypes: TensorType[],
  attrs: Record<string, unknown>,
  minWork = FAST_MATMUL_MIN_WORK,
  epi?: MatmulEpilogue,
): (() => void) | null {
  if (inTypes[0]!.dtype !== 'f32' || inTypes[1]!.dtype !== 'f32') return null;
  const ta = attrs.transpose_a === true,
    tb = attrs.transpose_b === true;
  const d = dims(inTypes[0]!.shape, inTypes[1]!.shape, ta, tb);
  let { batch, m } = d;
  const { k, n, aStride, bStride } = d;
  // A batch of A's rows against one shared B, A not transposed: the batch's matrices lie one
  // after another as rows of one [batch·m, k] matrix, and C's likewise, so one product of
  // batch·m rows replaces `batch` small ones (each element's sum runs in the same order).
  if (bStride === 0 && !ta && batch > 1) {
    m *= batch;
    batch = 1;
  }
  if (m * n * k < minWork && k > 0) return null;
  if (epi && !epilogueApplies(inTypes, attrs)) return null;
  const C = output as Float32Array;
  if (m * n === 0 || batch === 0) return () => {};
  if (k === 0) return () => C.fill(0);
  // Operands outside the arena are staged in arena scratch, copied in (and C out) per call.
  const stage = (x: Float32Array): { view: Float32Array; copy: boolean } =>
    K.arena.holds(x) ? { view: x, copy: false } : { view: K.arena.f32(x.length), copy: true };
  const A = stage(inputs[0] as Float32Array),
    B = stage(inputs[1] as Float32Array),
    Cs = stage(C);
  const a0 = A.view.byteOffset,
    b0 = B.view.byteOffset,
    c0 = Cs.view.byteOffset;
  // Strides in bytes of op(A) (m×k) and op(B) (k×n) as stored (transposed ones read across).
  const rsa = ta ? 4 : k * 4,
    csa = ta ? m * 4 : 4;
  const rsb = tb ? 4 : n * 4,
    csb = tb ? k * 4 : 4;
  // The bias row, copied each call (it may be a parameter that training changes) into arena
  // scratch padded with zeros to whole tiles: the epilogue reads it a tile's width at a time.
  const bias = epi && K.arena.f32(Math.ceil(n / K.shape.nr) * K.shape.nr);
  const flags = epi ? EPI_BIAS | (epi.relu ? EPI_RELU : 0) : 0;
  const task = { m, n, k, a: a0, rsa, csa, b: b0, rsb, csb, c: c0, ldc: n * 4, bias: bias?.byteOffset ?? 0, flags };
  const srcA = inputs[0] as Float32Array,
    srcB = inputs[1] as Float32Array;
  return () => {
    if (bias) bias.set(epi!.bias);
    if (A.copy) A.view.set(srcA);
    if (B.copy) B.view.set(srcB);
    for (let t = 0; t < batch; t++) {
      task.a = a0 + t * aStride * 4;
      task.b = b0 + t * bStride * 4;
      task.c = c0 + t * m * n * 4;
      K.gemm(task);
    }
    if (Cs.copy) C.set(Cs.view);
  };
}
