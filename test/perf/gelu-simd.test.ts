// gelu and its gradient on the fast CPU tier (WebAssembly SIMD, ops/gelu-simd.ts) against the
// reference kernels (f32 through phiF32, computed in f64) and against f64 values of the exact
// erf form: a dense grid over the whole range where f32 results are not 0 or x, the edges
// (±0, ±∞, NaN, huge, subnormal inputs, the clamps at -14 and 10), and lengths that are not a
// multiple of 4 (the tail runs the reference loop). The bounds are the ones ops/gelu-simd.ts
// states.

import { describe, expect, it } from 'vitest';
import { registry } from '../../runtime/ops/registry.js';
import { erf } from '../../runtime/ops/gelu.js';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { kernels } from '../../runtime/executors/cpu/threads.js';
import type { TensorType, TypedArray } from '../../runtime/ir/types.js';

const K = kernels();

/** One f32 ulp of |x| (the smallest subnormal below the normal range). */
function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

const edges = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  1e30,
  -1e30,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  1e-40,
  -1e-40,
  2 ** -149,
  -14,
  -14.000001,
  -13.999999,
  10,
  10.000001,
  -0.7517915,
  -0.75,
  -1.5,
  5e-8,
  -5e-8,
];

/** A grid over [-16, 12] (steps that hit no round numbers), the edges, then `extra` more (a ragged tail). */
function inputs(extra: number): Float32Array {
  const grid: number[] = [];
  for (let v = -16; v < 12; v += 0.000731) grid.push(v);
  const xs = [...grid, ...edges];
  for (let i = 0; i < extra; i++) xs.push(-0.3 - i * 0.7);
  return Float32Array.from(xs);
}

/**
 * Φ(x) in f64 without cancelling in the negative tail: erfc(-x/√2)/2, erfc from erf's series
 * below 3 and from its continued fraction (Lentz) above.
 */
function Phi(x: number): number {
  const a = Math.abs(x) * Math.SQRT1_2;
  let erfc: number;
  if (a < 3) erfc = 1 - erf(a);
  else {
    let f = a,
      c = a,
      d = 0;
    for (let n = 1; n < 500; n++) {
      d = 1 / (a + (n / 2) * d);
      c = a + n / 2 / c;
      f *= c * d;
      if (Math.abs(c * d - 1) < 1e-16) break;
    }
    erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Runs `op` on the fast tier, the f32 reference and f64 values (Phi above). */
function run(op: 'gelu' | 'gelu_grad', xs: Float32Array, dy?: Float32Array) {
  const n = xs.length;
  const t: TensorType = { shape: [n], dtype: 'f32' };
  const exec = new CpuExecutor({ fast: true });
  const args = dy ? [xs, dy] : [xs];
  // Plan buffers of f32 live in the kernels' memory: copy the inputs there.
  const ins = args.map((a) => {
    const b = exec.allocate('f32', n);
    b.set(a);
    return b;
  });
  const fast = exec.allocate('f32', n) as Float32Array;
  fast.fill(12345);
  exec.prepare(
    { name: 'y', op, inputs: ins.map((_, k) => `x${k}`), attrs: {}, type: t },
    ins,
    fast,
    args.map(() => t),
  )();
  const ref = new Float32Array(n);
  registry[op].cpu({ inputs: args, output: ref, inTypes: args.map(() => t), outType: t, attrs: {} })();
  // Non-finite inputs: checked by value in the tests.
  const exact = Float64Array.from(xs, (x, i) =>
    !Number.isFinite(x)
      ? ref[i]!
      : op === 'gelu'
        ? x * Phi(x)
        : dy![i]! * (Phi(x) + (x * Math.exp(-x * x * 0.5)) / Math.sqrt(2 * Math.PI)),
  );
  return { fast, ref, exact };
}

/** The largest error in ulp of `scale` (scale 0 or non-finite: must agree exactly, NaN for NaN). */
function worst(got: TypedArray, want: ArrayLike<number>, scale: (i: number) => number, floor: number) {
  let w = 0,
    at = -1;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!,
      r = want[i]!;
    if (Number.isNaN(r) || !Number.isFinite(r)) {
      if (!Object.is(g, r) && !(Number.isNaN(g) && Number.isNaN(r))) return { w: Infinity, at: i };
      continue;
    }
    const d = Math.abs(g - r);
    if (d <= floor) continue;
    const e = d / ulp(scale(i));
    if (!(e <= w)) {
      w = e;
      at = i;
    }
  }
  return { w, at };
}

describe.skipIf(K === null)('gelu on the fast tier (WebAssembly SIMD)', () => {
  for (const extra of [0, 1, 2, 3]) {
    it(`gelu within 8 ulp of the reference, 10 of the exact f64 value (length ${inputs(extra).length})`, () => {
      const xs = inputs(extra);
      const { fast, ref, exact } = run('gelu', xs);
      const a = worst(fast, ref, (i) => ref[i]!, 2 ** -126);
      if (a.w > 8) expect.fail(`gelu(${xs[a.at]}): fast ${fast[a.at]}, reference ${ref[a.at]} (${a.w} ulp)`);
      const b = worst(fast, exact, (i) => exact[i]!, 2 ** -126);
      if (process.env.GELU_REPORT) console.log('gelu', a, b, xs[a.at], xs[b.at]);
      if (b.w > 10) expect.fail(`gelu(${xs[b.at]}): fast ${fast[b.at]}, exact ${exact[b.at]} (${b.w} ulp)`);
      // The edges, by value.
      const at = (v: number) => fast[xs.findIndex((x) => Object.is(x, Math.fround(v)))]!;
      expect(at(Infinity)).toBe(Infinity);
      expect(at(-Infinity)).toBeNaN();
      expect(at(NaN)).toBeNaN();
      expect(at(1e30)).toBe(Math.fround(1e30));
      expect(Math.abs(at(-1e30))).toBeLessThan(2 ** -126);
      expect(Object.is(at(-0), -0)).toBe(true);
      expect(Object.is(at(0), 0)).toBe(true);
    });
  }

  it('gelu_grad within 8 ulp of dy·(Φ + |x|φ) from the reference, 10 from the exact f64 value', () => {
    const xs = inputs(3);
    const dy = xs.map((_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? -2.5 : 0.37));
    const { fast, ref, exact } = run('gelu_grad', xs, dy);
    // The scale of the terms: |dy| · (Φ(x) + |x| φ(x)), from f64.
    const scale = (i: number) => {
      const x = xs[i]!;
      return Math.abs(dy[i]!) * (Phi(x) + (Math.abs(x) * Math.exp(-x * x * 0.5)) / Math.sqrt(2 * Math.PI));
    };
    const a = worst(fast, ref, scale, 2 ** -126);
    if (a.w > 8) expect.fail(`gelu_grad(${xs[a.at]}): fast ${fast[a.at]}, reference ${ref[a.at]} (${a.w} ulp)`);
    const b = worst(fast, exact, scale, 2 ** -126);
    if (process.env.GELU_REPORT) console.log('gelu_grad', a, b, xs[a.at], xs[b.at]);
    if (b.w > 10) expect.fail(`gelu_grad(${xs[b.at]}): fast ${fast[b.at]}, exact ${exact[b.at]} (${b.w} ulp)`);
    const at = (v: number) => fast[xs.findIndex((x) => Object.is(x, Math.fround(v)))]!;
    // ∞ · 0 in the reference's x φ(x): NaN, as PyTorch's gelu_backward gives.
    expect(at(Infinity)).toBeNaN();
    expect(at(-Infinity)).toBeNaN();
    expect(at(NaN)).toBeNaN();
    expect(at(1e30)).toBe(dy[xs.indexOf(Math.fround(1e30))]);
    expect(Math.abs(at(-1e30))).toBeLessThan(2 ** -126);
  });

  it('gives the same values split across threads (arrays of more than 2^16 elements)', () => {
    const xs = Float32Array.from({ length: 300_001 }, (_, i) => Math.sin(i) * 6);
    const dy = xs.map((_, i) => (i % 2 ? 1 : -0.5));
    for (const [op, args] of [
      ['gelu', [xs]],
      ['gelu_grad', [xs, dy]],
    ] as const) {
      const { fast, ref } = run(op, args[0], args[1]);
      // gelu: ulps of the result; gelu_grad: of its terms' scale |dy|·(Φ + |x|φ), as above.
      const scale = (i: number) => {
        const x = xs[i]!;
        if (op === 'gelu') return ref[i]!;
        return Math.abs(dy[i]!) * (Phi(x) + (Math.abs(x) * Math.exp(-x * x * 0.5)) / Math.sqrt(2 * Math.PI));
      };
      const a = worst(fast, ref, scale, 2 ** -126);
      expect(a.w).toBeLessThanOrEqual(8);
    }
  });

  it('falls back to the reference loop for f64 and leaves short arrays to it', () => {
    const exec = new CpuExecutor({ fast: true });
    const t: TensorType = { shape: [3], dtype: 'f32' };
    const x = Float32Array.from([-1, 0, 2]),
      y = new Float32Array(3);
    exec.prepare({ name: 'y', op: 'gelu', inputs: ['x'], attrs: {}, type: t }, [x], y, [t])();
    const want = new Float32Array(3);
    registry.gelu.cpu({ inputs: [x], output: want, inTypes: [t], outType: t, attrs: {} })();
    expect(Array.from(y)).toEqual(Array.from(want));
  });
});
