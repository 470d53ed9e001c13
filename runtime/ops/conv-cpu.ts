// CPU kernels of the convolutions (conv.ts), all on the 2-D geometry of conv-geom.ts.
// - Reference: direct loops, each output element one sum in a JavaScript number (f64), rounded
//   once; they define the op (and run f64). The input and weight gradients are gathers (each
//   result element sums what reaches it), as the WGSL kernels are.
// - Fast (f32): im2col + the SIMD gemm. The columns of a chunk of batch items are one matrix
//   [c/g·kh·kw, items·oh·ow], so one product covers the chunk (large enough to be split across
//   threads); the result is scattered to NCHW with the bias added. The input gradient is
//   Wᵀ·dY followed by col2im, the weight gradient dY·colsᵀ.

import type { TypedArray } from '../ir/types.js';
import type { ConvGeom } from './conv-geom.js';
import type { CpuAccel } from './op.js';

export function convRef(g: ConvGeom, inputs: TypedArray[], y: TypedArray): () => void {
  const [x, wt, b] = inputs as [TypedArray, TypedArray, TypedArray | undefined];
  const { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups } = g;
  const cg = c / groups,
    og = o / groups;
  return () => {
    let at = 0;
    for (let ni = 0; ni < n; ni++)
      for (let oc = 0; oc < o; oc++) {
        const grp = Math.floor(oc / og);
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            let s = b ? b[oc]! : 0;
            for (let ic = 0; ic < cg; ic++) {
              const xb = (ni * c + grp * cg + ic) * h * w,
                wb = (oc * cg + ic) * kh * kw;
              for (let ky = 0; ky < kh; ky++) {
                const iy = oy * sh - pt + ky * dh;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < kw; kx++) {
                  const ix = ox * sw - pl + kx * dw;
                  if (ix >= 0 && ix < w) s += x[xb + iy * w + ix]! * wt[wb + ky * kw + kx]!;
                }
              }
            }
            y[at++] = s;
          }
      }
  };
}

export function inputGradRef(g: ConvGeom, inputs: TypedArray[], dx: TypedArray): () => void {
  const [dy, wt] = inputs as [TypedArray, TypedArray];
  const { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups } = g;
  const cg = c / groups,
    og = o / groups;
  return () => {
    let at = 0;
    for (let ni = 0; ni < n; ni++)
      for (let xc = 0; xc < c; xc++) {
        const grp = Math.floor(xc / cg),
          ic = xc - grp * cg;
        for (let iy = 0; iy < h; iy++)
          for (let ix = 0; ix < w; ix++) {
            let s = 0;
            for (let oc = grp * og; oc < (grp + 1) * og; oc++) {
              const yb = (ni * o + oc) * oh * ow,
                wb = (oc * cg + ic) * kh * kw;
              for (let ky = 0; ky < kh; ky++) {
                const ty = iy + pt - ky * dh;
                if (ty < 0 || ty % sh !== 0 || ty / sh >= oh) continue;
                for (let kx = 0; kx < kw; kx++) {
                  const tx = ix + pl - kx * dw;
                  if (tx < 0 || tx % sw !== 0 || tx / sw >= ow) continue;
                  s += dy[yb + (ty / sh) * ow + tx / sw]! * wt[wb + ky * kw + kx]!;
                }
              }
            }
            dx[at++] = s;
          }
      }
  };
}

export function weightGradRef(g: ConvGeom, inputs: TypedArray[], dwt: TypedArray): () => void {
  const [x, dy] = inputs as [TypedArray, TypedArray];
  const { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups } = g;
  const cg = c / groups,
    og = o / groups;
  return () => {
    let at = 0;
    for (let oc = 0; oc < o; oc++) {
      const grp = Math.floor(oc / og);
      for (let ic = 0; ic < cg; ic++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            let s = 0;
            for (let ni = 0; ni < n; ni++) {
              const xb = (ni * c + grp * cg + ic) * h * w,
                yb = (ni * o + oc) * oh * ow;
              for (let oy = 0; oy < oh; oy++) {
                const iy = oy * sh - pt + ky * dh;
                if (iy < 0 || iy >= h) continue;
                for (let ox = 0; ox < ow; ox++) {
                  const ix = ox * sw - pl + kx * dw;
                  if (ix >= 0 && ix < w) s += dy[yb + oy * ow + ox]! * x[xb + iy * w + ix]!;
                }
              }
            }
            dwt[at++] = s;
          }
    }
  };
}

/** im2col's buffer is capped at this many floats (128 MiB): larger batches run in chunks of items. */
const COLS_LIMIT = 1 << 25;

interface Plan {
  /** Rows of the column matrix: c/g·kh·kw. */
  kdim: number;
  /** Output positions per item: oh·ow. */
  p: number;
  /** Items per chunk. */
  nb: number;
  cols: Float32Array;
}

function plan(accel: CpuAccel, g: ConvGeom): Plan {
  const kdim = (g.c / g.groups) * g.kh * g.kw,
    p = g.oh * g.ow;
  const nb = Math.max(1, Math.min(g.n, Math.floor(COLS_LIMIT / Math.max(1, kdim * p))));
  return { kdim, p, nb, cols: accel.f32(kdim * nb * p) };
}

/** The first and one-past-last output column whose input column kx·dw + ox·sw − pl is inside [0, len). */
function validRange(len: number, k: number, s: number, d: number, p0: number, out: number): [number, number] {
  const off = k * d - p0;
  const lo = off >= 0 ? 0 : Math.ceil(-off / s);
  const hi = Math.min(out, Math.floor((len - 1 - off) / s) + 1);
  return [Math.min(lo, out), Math.max(Math.min(lo, out), hi)];
}

/** Columns of items [n0, n0+cnt) of group grp: cols[r][j·p + oy·ow + ox], r = (ic, ky, kx). */
function im2col(g: ConvGeom, pl: Plan, x: TypedArray, n0: number, cnt: number, grp: number): void {
  const { c, h, w, kh, kw, oh, ow, sh, sw, dh, dw, pt } = g;
  const cg = c / g.groups,
    stride = pl.nb * pl.p,
    cols = pl.cols;
  for (let ic = 0; ic < cg; ic++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++) {
        const r = (ic * kh + ky) * kw + kx;
        const [lo, hi] = validRange(w, kx, sw, dw, g.pl, ow);
        const xoff = kx * dw - g.pl;
        for (let j = 0; j < cnt; j++) {
          const xb = ((n0 + j) * c + grp * cg + ic) * h * w;
          let at = r * stride + j * pl.p;
          for (let oy = 0; oy < oh; oy++, at += ow) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) {
              cols.fill(0, at, at + ow);
              continue;
            }
            for (let ox = 0; ox < lo; ox++) cols[at + ox] = 0;
            const row = xb + iy * w + xoff;
            for (let ox = lo; ox < hi; ox++) cols[at + ox] = x[row + ox * sw]!;
            for (let ox = hi; ox < ow; ox++) cols[at + ox] = 0;
          }
        }
      }
}

/** An f32 array the gemm can address: `a` itself, or scratch `copy()` refreshes per call. */
function staged(accel: CpuAccel, a: TypedArray): { view: Float32Array; copy: () => void } {
  if (accel.holds(a)) return { view: a as Float32Array, copy: () => {} };
  const view = accel.f32(a.length);
  return { view, copy: () => view.set(a) };
}

export function convFast(accel: CpuAccel, g: ConvGeom, inputs: TypedArray[], y: TypedArray): () => void {
  const [x, wt0, b] = inputs as [TypedArray, TypedArray, TypedArray | undefined];
  const pl = plan(accel, g);
  const { kdim, p, nb } = pl;
  const og = g.o / g.groups;
  const wt = staged(accel, wt0);
  const tmp = accel.f32(og * nb * p);
  return () => {
    wt.copy();
    for (let n0 = 0; n0 < g.n; n0 += nb) {
      const cnt = Math.min(nb, g.n - n0);
      for (let grp = 0; grp < g.groups; grp++) {
        im2col(g, pl, x, n0, cnt, grp);
        accel.gemm({
          m: og,
          n: cnt * p,
          k: kdim,
          a: wt.view,
          ao: grp * og * kdim,
          rsa: kdim,
          csa: 1,
          b: pl.cols,
          bo: 0,
          rsb: nb * p,
          csb: 1,
          c: tmp,
          co: 0,
          ldc: nb * p,
        });
        for (let oc = 0; oc < og; oc++) {
          const bias = b ? b[grp * og + oc]! : 0;
          for (let j = 0; j < cnt; j++) {
            const src = oc * nb * p + j * p,
              dst = ((n0 + j) * g.o + grp * og + oc) * p;
            for (let q = 0; q < p; q++) y[dst + q] = tmp[src + q]! + bias;
          }
        }
      }
    }
  };
}

/** dY of items [n0, n0+cnt), group grp, as [og, nb·p] (the layout of the forward product). */
function gatherDy(
  g: ConvGeom,
  p: number,
  nb: number,
  dy: TypedArray,
  dst: Float32Array,
  n0: number,
  cnt: number,
  grp: number,
): void {
  const og = g.o / g.groups;
  for (let oc = 0; oc < og; oc++)
    for (let j = 0; j < cnt; j++) {
      const src = ((n0 + j) * g.o + grp * og + oc) * p;
      dst.set(dy.subarray(src, src + p), oc * nb * p + j * p);
    }
}

export function inputGradFast(accel: CpuAccel, g: ConvGeom, inputs: TypedArray[], dx: TypedArray): () => void {
  const [dy, wt0] = inputs as [TypedArray, TypedArray];
  const pl = plan(accel, g);
  const { kdim, p, nb } = pl;
  const { c, h, w, kh, kw, oh, ow, sh, sw, dh, dw, pt } = g;
  const og = g.o / g.groups,
    cg = c / g.groups;
  const wt = staged(accel, wt0);
  const dyg = accel.f32(og * nb * p);
  const stride = nb * p;
  return () => {
    wt.copy();
    dx.fill(0);
    for (let n0 = 0; n0 < g.n; n0 += nb) {
      const cnt = Math.min(nb, g.n - n0);
      for (let grp = 0; grp < g.groups; grp++) {
        gatherDy(g, p, nb, dy, dyg, n0, cnt, grp);
        // cols = W_gᵀ · dY_g: W_g is [og, kdim] row-major, read transposed.
        accel.gemm({
          m: kdim,
          n: cnt * p,
          k: og,
          a: wt.view,
          ao: grp * og * kdim,
          rsa: 1,
          csa: kdim,
          b: dyg,
          bo: 0,
          rsb: stride,
          csb: 1,
          c: pl.cols,
          co: 0,
          ldc: stride,
        });
        // col2im: each column entry adds into the input element it was read from.
        const cols = pl.cols;
        for (let ic = 0; ic < cg; ic++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const r = (ic * kh + ky) * kw + kx;
              const [lo, hi] = validRange(w, kx, sw, dw, g.pl, ow);
              const xoff = kx * dw - g.pl;
              for (let j = 0; j < cnt; j++) {
                const xb = ((n0 + j) * c + grp * cg + ic) * h * w;
                let at = r * stride + j * p;
                for (let oy = 0; oy < oh; oy++, at += ow) {
                  const iy = oy * sh - pt + ky * dh;
                  if (iy < 0 || iy >= h) continue;
                  const row = xb + iy * w + xoff;
                  for (let ox = lo; ox < hi; ox++) dx[row + ox * sw]! += cols[at + ox]!;
                }
              }
            }
      }
    }
  };
}

export function weightGradFast(accel: CpuAccel, g: ConvGeom, inputs: TypedArray[], dwt: TypedArray): () => void {
  const [x, dy] = inputs as [TypedArray, TypedArray];
  const pl = plan(accel, g);
  const { kdim, p, nb } = pl;
  const og = g.o / g.groups;
  const dyg = accel.f32(og * nb * p);
  const part = accel.f32(og * kdim);
  const stride = nb * p;
  const chunks = Math.ceil(g.n / nb);
  return () => {
    if (chunks > 1) dwt.fill(0);
    for (let n0 = 0; n0 < g.n; n0 += nb) {
      const cnt = Math.min(nb, g.n - n0);
      for (let grp = 0; grp < g.groups; grp++) {
        im2col(g, pl, x, n0, cnt, grp);
        gatherDy(g, p, nb, dy, dyg, n0, cnt, grp);
        // dW_g = dY_g · colsᵀ: [og, cnt·p] · [cnt·p, kdim].
        accel.gemm({
          m: og,
          n: kdim,
          k: cnt * p,
          a: dyg,
          ao: 0,
          rsa: stride,
          csa: 1,
          b: pl.cols,
          bo: 0,
          rsb: 1,
          csb: stride,
          c: part,
          co: 0,
          ldc: kdim,
        });
        const base = grp * og * kdim;
        if (chunks > 1) for (let q = 0; q < og * kdim; q++) dwt[base + q]! += part[q]!;
        else dwt.set(part, base);
      }
    }
  };
}
