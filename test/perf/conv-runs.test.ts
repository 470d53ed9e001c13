// The CNN step's WebAssembly kernels against their definitions. The width-keeping im2col/col2im runs (ops/conv-runs.ts, WebAssembly in
// executors/cpu/wasm/conv-runs.ts) against their definition, bit for bit, on edge geometries:
// taps wholly above, below or beside a small image, asymmetric 'same' padding, dilation along
// H, one-row images, several channels. im2col: cols[r, oy, ox] = x[ic, oy − pt + ky·dh, ox − pl + kx]
// or 0; col2im: dx = each tap's columns added in tap order, rounded to f32 after every add.
import { describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import type { ConvGeom } from '../../runtime/ops/conv-geom.js';
import { convRuns, keepsWidth } from '../../runtime/ops/conv-runs.js';
import type { CpuAccel } from '../../runtime/ops/op.js';
import { registry } from '../../runtime/ops/registry.js';
import { prng } from '../../bench/stats.js';

const accel = (new CpuExecutor() as unknown as { accel: CpuAccel | null }).accel;

/** c channels of h×w, kernel kh×kw, dilation dh along H, padding [pt, pl, pb] (pr keeps the width). */
function geometry(
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  dh: number,
  pt: number,
  pl: number,
  pb: number,
): ConvGeom {
  const pr = kw - 1 - pl;
  const oh = h + pt + pb - dh * (kh - 1);
  return { n: 2, c, h, w, o: 1, kh, kw, oh, ow: w, sh: 1, sw: 1, dh, dw: 1, pt, pl, pb, pr, groups: 1 };
}

const cases: [string, ConvGeom][] = [
  ['3x3 same, 28x28, one channel', geometry(1, 28, 28, 3, 3, 1, 1, 1, 1)],
  ['3x3 same, dilated 2 along H, 3 channels, 9x7', geometry(3, 9, 7, 3, 3, 2, 2, 1, 2)],
  ['2x2 same (padding only after), 2 channels', geometry(2, 6, 5, 2, 2, 1, 0, 0, 1)],
  ['5x5 padded 2 on a 3x4 image (taps wholly outside)', geometry(2, 3, 4, 5, 5, 1, 2, 2, 2)],
  ['1x3 on one-row images (conv1d)', geometry(4, 1, 9, 1, 3, 1, 0, 1, 0)],
  ['3x1 dilated 3 on 4 rows (rows wholly outside)', geometry(1, 4, 6, 3, 1, 3, 3, 0, 3)],
  ['7x7 same on 3x3 (wider than the image)', geometry(1, 3, 3, 7, 7, 1, 3, 3, 3)],
];

describe.skipIf(accel === null)('width-keeping im2col/col2im runs', () => {
  for (const [name, g] of cases)
    it(name, () => {
      expect(keepsWidth(g)).toBe(true);
      const A = accel!;
      const { c, h, w, kh, kw, oh, ow, dh, pt, pl } = g;
      const p = oh * ow,
        kdim = c * kh * kw,
        plane = c * h * w;
      const rnd = prng(5);
      const x = A.f32(g.n * plane);
      x.set(x.map(() => rnd() * 2 - 1)); // map copies: set the arena's view
      const cols = A.f32(kdim * p);
      const runs = convRuns(A, g);
      for (let ni = 0; ni < g.n; ni++) {
        cols.fill(Number.NaN); // every element must be written
        runs.im2col(x, ni * plane, cols);
        const want: number[] = [];
        for (let ic = 0; ic < c; ic++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let oy = 0; oy < oh; oy++)
                for (let ox = 0; ox < ow; ox++) {
                  const iy = oy - pt + ky * dh,
                    ix = ox - pl + kx;
                  want.push(iy >= 0 && iy < h && ix >= 0 && ix < w ? x[ni * plane + (ic * h + iy) * w + ix]! : 0);
                }
        expect(Array.from(cols)).toEqual(want);
      }
      // col2im of random columns into the second image, the first left alone.
      const src = Float32Array.from({ length: kdim * p }, () => rnd() * 2 - 1);
      const dx = A.f32(g.n * plane).fill(7);
      cols.set(src);
      runs.col2im(cols, dx, plane, plane);
      const want = new Float32Array(plane);
      for (let ic = 0; ic < c; ic++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++)
            for (let oy = 0; oy < oh; oy++)
              for (let ox = 0; ox < ow; ox++) {
                const iy = oy - pt + ky * dh,
                  ix = ox - pl + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const at = (ic * h + iy) * w + ix;
                want[at] = Math.fround(want[at]! + src[((ic * kh + ky) * kw + kx) * p + oy * ow + ox]!);
              }
      expect(Array.from(dx.subarray(0, plane))).toEqual(new Array(plane).fill(7));
      expect(Array.from(dx.subarray(plane))).toEqual(Array.from(want));
    });
});

// The trailing f32 sums (a convolution's bias gradient sums each (image, channel) plane) on
// arrays in the kernels' memory run as WebAssembly, four rows at a time: the reference's bits,
// at row and column counts that are and are not multiples of 4, with signed zeros and
// magnitudes that make the order of the adds matter.
describe('f32 row sums in the kernels memory', () => {
  const exec = new CpuExecutor();
  const cases: [number[], number[]][] = [
    [
      [64, 8, 28, 28],
      [2, 3],
    ],
    [[130, 13], [1]],
    [[66, 4], [1]],
    [
      [67, 5, 3],
      [1, 2],
    ],
    [[64, 3], [1]], // columns under 4: the loops alone
  ];
  const rnd = prng(9);
  const value = () => {
    const u = rnd();
    if (u < 0.05) return -0;
    if (u < 0.1) return 0;
    return (rnd() * 2 - 1) * 10 ** Math.floor(rnd() * 8 - 4);
  };
  for (const [shape, axis] of cases)
    for (const op of ['sum', 'mean'] as const)
      it(`${op} ${JSON.stringify(shape)} axes ${JSON.stringify(axis)}`, () => {
        const inT = { shape, dtype: 'f32' as const };
        const outT = registry[op].infer([inT], { axis }, { float: 'f32' }) as { shape: number[]; dtype: 'f32' };
        const n = shape.reduce((a, d) => a * d, 1),
          m = outT.shape.reduce((a, d) => a * d, 1);
        const x = exec.allocate('f32', n) as Float32Array;
        for (let i = 0; i < n; i++) x[i] = value();
        const got = exec.allocate('f32', m) as Float32Array;
        const want = new Float32Array(m);
        registry[op].cpu({ inputs: [x], output: want, inTypes: [inT], outType: outT, attrs: { axis } })();
        got.fill(Number.NaN);
        exec.prepare({ name: 'r', op, inputs: ['x'], attrs: { axis }, type: outT }, [x], got, [inT])();
        expect(Array.from(got)).toEqual(Array.from(want));
      });
});

// The thin-product kernel of small weight gradients: C += A·Bᵀ, rows of A and B along k, at
// sizes around its blocks (four rows of B at a time, four k at a time), against f64 sums.
describe.skipIf(accel === null)('dotNT (C += A·Bᵀ)', () => {
  for (const [m, n, k] of [
    [9, 8, 784],
    [8, 9, 783],
    [5, 7, 13],
    [1, 1, 3],
    [3, 4, 1],
  ] as const)
    it(`${m}×${n} over ${k}`, () => {
      const A = accel!;
      const rnd = prng(m * 100 + n);
      const fill = (len: number) => {
        const a = A.f32(len);
        for (let i = 0; i < len; i++) a[i] = rnd() * 2 - 1;
        return a;
      };
      // Rows of A and B one element apart from their neighbours' ends (lda = ldb = k + 1), at offsets.
      const a = fill(2 + m * (k + 1)),
        b = fill(3 + n * (k + 1)),
        c = fill(1 + m * n);
      const c0 = Array.from(c);
      A.dotNT(a, 2, k + 1, b, 3, k + 1, c, 1, m, n, k);
      expect(c[0]).toBe(c0[0]);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = c0[1 + i * n + j]!,
            mag = Math.abs(s);
          for (let q = 0; q < k; q++) {
            const t = a[2 + i * (k + 1) + q]! * b[3 + j * (k + 1) + q]!;
            s += t;
            mag += Math.abs(t);
          }
          expect(Math.abs(c[1 + i * n + j]! - s)).toBeLessThanOrEqual(mag * 2 ** -21);
        }
    });
});
