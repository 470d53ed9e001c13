// The fast tier's 2×2, stride-2 max pooling (WebAssembly SIMD, executors/cpu/wasm/pool.ts)
// against the reference loops of ops/pool.ts on inputs full of ties, signed zeros and NaNs:
// the same maxima, and each window's gradient at the same element (the first maximum in
// row-major order, the last NaN where there is one), bit for bit up to the sign of zero.
import { describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import type { IRNode } from '../../runtime/ir/types.js';

const fast = new CpuExecutor(),
  ref = new CpuExecutor({ fast: false });

function run(ex: CpuExecutor, op: string, arrays: Float32Array[], shapes: number[][], out: number[]): number[] {
  const inputs = arrays.map((a) => {
    const b = ex.allocate('f32', a.length);
    b.set(a);
    return b;
  });
  const output = ex.allocate(
    'f32',
    out.reduce((a, d) => a * d, 1),
  );
  output.fill(123); // every element must be written
  const node: IRNode = {
    name: 'p',
    op,
    inputs: arrays.map((_, i) => `i${i}`),
    attrs: { kernel: 2 },
    type: { shape: out, dtype: 'f32' },
  };
  ex.prepare(
    node,
    inputs,
    output,
    shapes.map((shape) => ({ shape, dtype: 'f32' as const })),
  )();
  return Array.from(output, (v) => (v === 0 ? 0 : v)); // -0 and 0 alike
}

/** Values from a few levels (many ties), with zeros of both signs and, if asked, NaNs. */
function values(n: number, seed: number, nans: boolean): Float32Array {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const levels = [-1, -0, 0, 0.5, 2];
  return Float32Array.from({ length: n }, () => (nans && r() < 0.15 ? NaN : levels[Math.floor(r() * levels.length)]!));
}

describe('2×2 max pooling, SIMD against the reference loops', () => {
  for (const [n, c, h, w] of [
    [2, 3, 8, 8],
    [2, 2, 6, 14],
    [3, 1, 10, 22],
  ] as const)
    for (const nans of [false, true])
      it(`[${n}, ${c}, ${h}, ${w}]${nans ? ' with NaNs' : ''}`, () => {
        const xs = [n, c, h, w],
          ys = [n, c, h / 2, w / 2];
        const x = values(n * c * h * w, h * w + (nans ? 1 : 0), nans);
        const dy = Float32Array.from({ length: (n * c * h * w) / 4 }, (_, i) => i + 1);
        const y = run(fast, 'max_pool2d', [x], [xs], ys);
        expect(y).toEqual(run(ref, 'max_pool2d', [x], [xs], ys));
        expect(run(fast, 'max_pool2d_grad', [x, dy], [xs, ys], xs)).toEqual(
          run(ref, 'max_pool2d_grad', [x, dy], [xs, ys], xs),
        );
      });
});
