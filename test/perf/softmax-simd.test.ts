// masked_softmax on the fast CPU tier (WebAssembly SIMD rows, executors/cpu/wasm/softmax.ts)
// against the reference kernel: attention's causal [T, T] mask repeated over [batch·heads, T,
// T] scores, a mask of one row, a fully masked row (zeros), scores spread wide enough that exp
// underflows, and ±∞ / NaN scores. Within (len/4 + 6) ulp of the reference's value, plus a
// relative |x - m|·2^-24 (x - m rounded to f32; below the normal range, 2^-126 absolute);
// masked elements exactly 0.

import { describe, expect, it } from 'vitest';
import { registry } from '../../runtime/ops/registry.js';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { kernels } from '../../runtime/executors/cpu/threads.js';
import { sizeOf, type TensorType } from '../../runtime/ir/types.js';
import { prng } from '../support/prng.js';

const K = kernels();

function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

describe.skipIf(K === null)('masked_softmax as WebAssembly SIMD rows', () => {
  const cases: [string, number[], number[], (i: number, j: number) => number][] = [
    ['causal [T, T] over batch·heads', [6, 16, 16], [16, 16], (i, j) => (j <= i ? 1 : 0)],
    ['one mask row for every row', [3, 5, 24], [1, 24], (_, j) => (j % 3 === 2 ? 0 : 1)],
    ['a mask as large as the scores', [4, 64], [4, 64], (i, j) => ((i + j) % 5 === 0 ? 0 : 1)],
    ['no element dropped', [64, 64], [64, 64], () => 1],
  ];
  for (const [name, xs, ms, keep] of cases) {
    it(name, () => {
      const exec = new CpuExecutor({ fast: true });
      const xt: TensorType = { shape: xs, dtype: 'f32' },
        mt: TensorType = { shape: ms, dtype: 'f32' };
      const len = xs[xs.length - 1]!;
      const x = exec.allocate('f32', sizeOf(xs)) as Float32Array;
      const mask = exec.allocate('f32', sizeOf(ms)) as Float32Array;
      const rnd = prng(sizeOf(xs));
      for (let i = 0; i < x.length; i++) x[i] = (rnd() * 2 - 1) * (i % 11 === 0 ? 60 : 4);
      // Row 1: every score -∞ but kept (0/0: NaN, as the reference); row 2 holds +∞; row 3 a NaN.
      if (ms[0] !== 4) {
        for (let j = 0; j < len; j++) x[len + j] = -Infinity;
        x[2 * len + 1] = Infinity;
        x[3 * len] = NaN;
      }
      const mrows = sizeOf(ms) / len;
      for (let i = 0; i < mrows; i++) for (let j = 0; j < len; j++) mask[i * len + j] = keep(i, j);
      // A fully masked row of the mask (when it has more than one): zeros wherever it applies.
      if (mrows > 4) mask.fill(0, 4 * len, 5 * len);
      const y = exec.allocate('f32', x.length) as Float32Array;
      const want = new Float32Array(x.length);
      registry.masked_softmax.cpu({ inputs: [x, mask], output: want, inTypes: [xt, mt], outType: xt, attrs: {} })();
      y.fill(12345);
      exec.prepare({ name: 'y', op: 'masked_softmax', inputs: ['x', 'm'], attrs: {}, type: xt }, [x, mask], y, [
        xt,
        mt,
      ])();
      const bound = len / 4 + 6;
      // Each row's largest kept score: exp(x - m) takes x - m rounded to f32, a relative error
      // of up to |x - m|·2^-24 in the tail.
      const top = (i: number) => {
        const row = Math.floor(i / len),
          mrow = (row % mrows) * len;
        let m = -Infinity;
        for (let j = 0; j < len; j++) if (mask[mrow + j] !== 0 && x[row * len + j]! > m) m = x[row * len + j]!;
        return m;
      };
      for (let i = 0; i < x.length; i++) {
        const g = y[i]!,
          w = want[i]!;
        if (Number.isNaN(w) || w === 0 || !Number.isFinite(w)) {
          if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w)))
            expect.fail(`element ${i}: fast ${g}, reference ${w}`);
          continue;
        }
        const d = Math.abs(g - w);
        const tol = bound * ulp(w) + Math.abs(x[i]! - top(i)) * 2 ** -24 * Math.abs(w);
        if (!(d <= tol || d < 2 ** -126)) expect.fail(`element ${i}: fast ${g}, reference ${w}`);
      }
    });
  }

  it('leaves other layouts to the reference kernel', () => {
    const exec = new CpuExecutor({ fast: true });
    // Softmax over a middle axis, and rows of 6 (not a multiple of 4): both the reference loop.
    for (const [shape, axis] of [
      [[4, 16, 8], 1],
      [[64, 6], -1],
    ] as [number[], number][]) {
      const t: TensorType = { shape, dtype: 'f32' };
      const x = exec.allocate('f32', sizeOf(shape)) as Float32Array;
      const m = exec.allocate('f32', sizeOf(shape)) as Float32Array;
      for (let i = 0; i < x.length; i++) [x[i], m[i]] = [Math.sin(i) * 5, i % 3 ? 1 : 0];
      const y = exec.allocate('f32', x.length),
        want = new Float32Array(x.length);
      registry.masked_softmax.cpu({ inputs: [x, m], output: want, inTypes: [t, t], outType: t, attrs: { axis } })();
      exec.prepare({ name: 'y', op: 'masked_softmax', inputs: ['x', 'm'], attrs: { axis }, type: t }, [x, m], y, [
        t,
        t,
      ])();
      expect(Array.from(y)).toEqual(Array.from(want));
    }
  });
});

// log_softmax along the last axis (the cross-entropy's): x - c with c = m + log Σ exp(x - m)
// taken from f32 partial sums. Within 2 ulp of the reference's value plus 2 ulp of c plus an
// absolute (len/4 + 6)·2^-24 (log of the sum's relative error).
describe.skipIf(K === null)('log_softmax as WebAssembly SIMD rows', () => {
  for (const shape of [
    [2048, 83],
    [64, 4],
    [7, 13],
    [3, 64],
    [40, 6],
  ]) {
    it(`rows of [${shape.join(', ')}]`, () => {
      const exec = new CpuExecutor({ fast: true });
      const t: TensorType = { shape, dtype: 'f32' };
      const len = shape[1]!;
      const x = exec.allocate('f32', sizeOf(shape)) as Float32Array;
      const rnd = prng(len);
      for (let i = 0; i < x.length; i++) x[i] = (rnd() * 2 - 1) * (i % 7 === 0 ? 80 : 5);
      // Row 0: a NaN; row 1: +∞; row 2: all -∞ (NaN, as x - 0 - log 0 gives -∞ + ∞); a -∞ in row 3.
      x[3] = NaN;
      x[len + 1] = Infinity;
      x.fill(-Infinity, 2 * len, 3 * len);
      x[3 * len + 2] = -Infinity;
      const y = exec.allocate('f32', x.length) as Float32Array;
      const want = new Float32Array(x.length);
      registry.log_softmax.cpu({ inputs: [x], output: want, inTypes: [t], outType: t, attrs: {} })();
      y.fill(12345);
      exec.prepare({ name: 'y', op: 'log_softmax', inputs: ['x'], attrs: {}, type: t }, [x], y, [t])();
      for (let r = 0; r < shape[0]!; r++) {
        const row = x.subarray(r * len, (r + 1) * len);
        let m = Math.max(...row);
        if (!Number.isFinite(m)) m = 0;
        const c = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        for (let j = 0; j < len; j++) {
          const i = r * len + j;
          const g = y[i]!,
            w = want[i]!;
          if (!Number.isFinite(w)) {
            if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w)))
              expect.fail(`element ${i}: fast ${g}, reference ${w}`);
            continue;
          }
          const tol = 2 * ulp(w) + 2 * ulp(c) + (len / 4 + 6) * 2 ** -24;
          if (!(Math.abs(g - w) <= tol)) expect.fail(`element ${i}: fast ${g}, reference ${w}`);
        }
      }
    });
  }
});
