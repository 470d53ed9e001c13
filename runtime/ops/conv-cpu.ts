// CPU kernels of the convolutions (conv.ts), all on the 2-D geometry of conv-geom.ts.
// - Reference: direct loops, each output element one sum in a JavaScript number (f64), rounded
//   once; they define the op (and run f64). The input and weight gradients are gathers (each
//   result element sums what reaches it), as the WGSL kernels are.
// - Fast (f32): im2col + the SIMD gemm, one image (and group) at a time, so the column matrix
//   [c/g·kh·kw, oh·ow] stays in cache between being written and packed, and the products read
//   and write NCHW in place (the bias rides along as a column of ones). The input gradient is
//   Wᵀ·dY followed by col2im (a gather per input row), the weight gradient Σ dY·colsᵀ.

import type { TypedArray } from '../ir/types.js';
import type { ConvGeom } from './conv-geom.js';
import type { CpuAccel } from './op.js';
import { convRuns, keepsWidth } from './conv-runs.js';

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

/** The first and one-past-last output column whose input column ox·sw + kx·dw − pl is inside [0, len). */
function validRange(len: number, kx: number, s: number, d: number, p0: number, out: number): [number, number] {
  const off = kx * d - p0;
  const lo = Math.min(out, off >= 0 ? 0 : Math.ceil(-off / s));
  const hi = Math.min(out, Math.floor((len - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/** The column matrix of one image's group: cols[r·p + oy·ow + ox], r = (ic, ky, kx) (zeros where padding). */
function im2col(g: ConvGeom, x: TypedArray, xb: number, cols: Float32Array): void {
  const { h, w, kh, kw, oh, ow, sh, sw, dh, dw, pt } = g;
  const cg = g.c / g.groups,
    p = oh * ow;
  for (let ic = 0; ic < cg; ic++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++) {
        const r = (ic * kh + ky) * kw + kx;
        const [lo, hi] = validRange(w, kx, sw, dw, g.pl, ow);
        const xoff = xb + ic * h * w + kx * dw - g.pl;
        let at = r * p;
        for (let oy = 0; oy < oh; oy++, at += ow) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) {
            cols.fill(0, at, at + ow);
            continue;
          }
          for (let ox = 0; ox < lo; ox++) cols[at + ox] = 0;
          const row = xoff + iy * w;
          if (sw === 1) for (let ox = lo; ox < hi; ox++) cols[at + ox] = x[row + ox]!;
          else for (let ox = lo; ox < hi; ox++) cols[at + ox] = x[row + ox * sw]!;
          for (let ox = hi; ox < ow; ox++) cols[at + ox] = 0;
        }
      }
}

/**
 * col2im as a gather, one input row at a time: dx[ic, iy, ·] = Σ over taps (ky, kx) of the
 * columns that read it, summed in a row buffer that stays in cache (each dx element is written once).
 */
function col2im(g: ConvGeom, cols: Float32Array, dx: TypedArray, xb: number, acc: Float64Array): void {
  const { h, w, kh, kw, oh, ow, sh, sw, dh, dw, pt } = g;
  const cg = g.c / g.groups,
    p = oh * ow;
  const ranges = Array.from({ length: kw }, (_, kx) => validRange(w, kx, sw, dw, g.pl, ow));
  for (let ic = 0; ic < cg; ic++)
    for (let iy = 0; iy < h; iy++) {
      acc.fill(0);
      for (let ky = 0; ky < kh; ky++) {
        const ty = iy + pt - ky * dh;
        if (ty < 0 || ty % sh !== 0 || ty / sh >= oh) continue;
        const oy = ty / sh;
        for (let kx = 0; kx < kw; kx++) {
          const [lo, hi] = ranges[kx]!;
          const at = ((ic * kh + ky) * kw + kx) * p + oy * ow;
          const xoff = kx * dw - g.pl;
          if (sw === 1) for (let ox = lo; ox < hi; ox++) acc[ox + xoff]! += cols[at + ox]!;
          else for (let ox = lo; ox < hi; ox++) acc[ox * sw + xoff]! += cols[at + ox]!;
        }
      }
      const o = xb + (ic * h + iy) * w;
      for (let ix = 0; ix < w; ix++) dx[o + ix] = acc[ix]!;
    }
}

/** im2col of the group at x[xb] into cols: one run per tap where the convolution keeps the width. */
function columns(accel: CpuAccel, g: ConvGeom, x: TypedArray, cols: Float32Array): (xb: number) => void {
  if (keepsWidth(g) && accel.holds(x)) {
    const runs = convRuns(accel, g);
    return (xb) => runs.im2col(x as Float32Array, xb, cols);
  }
  return (xb) => im2col(g, x, xb, cols);
}

/** An f32 array the gemm can address: `a` itself, or scratch that `load` fills from it and `store` copies back. */
function staged(accel: CpuAccel, a: TypedArray): { view: Float32Array; load: () => void; store: () => void } {
  if (accel.holds(a)) return { view: a as Float32Array, load: () => {}, store: () => {} };
  const view = accel.f32(a.length);
  return { view, load: () => view.set(a), store: () => a.set(view) };
}

/**
 * y_n = [W | bias] · [cols_n ; 1] for each image and group: the bias is one more column of the
 * weights against a row of ones, so the product writes NCHW directly, bias included.
 */
export function convFast(accel: CpuAccel, g: ConvGeom, inputs: TypedArray[], y: TypedArray): () => void {
  const [x, wt, b] = inputs as [TypedArray, TypedArray, TypedArray | undefined];
  const og = g.o / g.groups,
    cg = g.c / g.groups;
  const kdim = cg * g.kh * g.kw,
    p = g.oh * g.ow;
  const kb = kdim + (b ? 1 : 0);
  const cols = accel.f32(kb * p);
  if (b) cols.fill(1, kdim * p);
  const wa = accel.f32(g.o * kb);
  const out = staged(accel, y);
  const unfold = columns(accel, g, x, cols);
  return () => {
    for (let oc = 0; oc < g.o; oc++) {
      for (let r = 0; r < kdim; r++) wa[oc * kb + r] = wt[oc * kdim + r]!;
      if (b) wa[oc * kb + kdim] = b[oc]!;
    }
    for (let ni = 0; ni < g.n; ni++)
      for (let grp = 0; grp < g.groups; grp++) {
        unfold((ni * g.c + grp * cg) * g.h * g.w);
        accel.gemm({
          m: og,
          n: p,
          k: kb,
          a: wa,
          ao: grp * og * kb,
          rsa: kb,
          csa: 1,
          b: cols,
          bo: 0,
          rsb: p,
          csb: 1,
          c: out.view,
          co: (ni * g.o + grp * og) * p,
          ldc: p,
        });
      }
    out.store();
  };
}

/** cols_n = W_gᵀ · dY_n (W_g [og, kdim] read transposed), then col2im into dx. */
export function inputGradFast(accel: CpuAccel, g: ConvGeom, inputs: TypedArray[], dx: TypedArray): () => void {
  const og = g.o / g.groups,
    cg = g.c / g.groups;
  const kdim = cg * g.kh * g.kw,
    p = g.oh * g.ow;
  const dy = staged(accel, inputs[0]!),
    wt = staged(accel, inputs[1]!);
  const cols = accel.f32(kdim * p);
  const acc = new Float64Array(g.w);
  const runs = keepsWidth(g) && accel.holds(dx) ? convRuns(accel, g) : null;
  const size = cg * g.h * g.w;
  const fold = runs
    ? (xb: number) => runs.col2im(cols, dx as Float32Array, xb, size)
    : (xb: number) => col2im(g, cols, dx, xb, acc);
  return () => {
    dy.load();
    wt.load();
    for (let ni = 0; ni < g.n; ni++)
      for (let grp = 0; grp < g.groups; grp++) {
        accel.gemm({
          m: kdim,
          n: p,
          k: og,
          a: wt.view,
          ao: grp * og * kdim,
          rsa: 1,
          csa: kdim,
          b: dy.view,
          bo: (ni * g.o + grp * og) * p,
          rsb: p,
          csb: 1,
          c: cols,
          co: 0,
          ldc: p,
        });
        fold((ni * g.c + grp * cg) * g.h * g.w);
      }
  };
}

/**
 * dW_g = Σ_n dY_n · cols_nᵀ, computed transposed, one product per image: dW_gᵀ = cols_n · dY_nᵀ
 * reads the column matrix along its rows (what the gemm packs fastest) and gathers only the
 * smaller dY_n; the images' products are summed in f32, in image order.
 */
export function weightGradFast(accel: CpuAccel, g: ConvGeom, inputs: TypedArray[], dwt: TypedArray): () => void {
  const x = inputs[0]!;
  const og = g.o / g.groups,
    cg = g.c / g.groups;
  const kdim = cg * g.kh * g.kw,
    p = g.oh * g.ow;
  const dy = staged(accel, inputs[1]!);
  const cols = accel.f32(kdim * p);
  const unfold = columns(accel, g, x, cols);
  if (og * kdim <= DOT_NT_MAX) return weightGradThin(accel, g, dy, cols, unfold, dwt);
  const part = accel.f32(kdim * og);
  return () => {
    dy.load();
    dwt.fill(0);
    for (let ni = 0; ni < g.n; ni++)
      for (let grp = 0; grp < g.groups; grp++) {
        unfold((ni * g.c + grp * cg) * g.h * g.w);
        accel.gemm({
          m: kdim,
          n: og,
          k: p,
          a: cols,
          ao: 0,
          rsa: p,
          csa: 1,
          b: dy.view,
          bo: (ni * g.o + grp * og) * p,
          rsb: 1,
          csb: p,
          c: part,
          co: 0,
          ldc: og,
        });
        // part[r, oc] is dW[grp·og + oc, r].
        for (let oc = 0; oc < og; oc++) {
          const base = (grp * og + oc) * kdim;
          for (let r = 0; r < kdim; r++) dwt[base + r]! += part[r * og + oc]!;
        }
      }
  };
}

/**
 * Below this many weights per group, the weight gradient runs as CpuAccel.dotNT (dW_g += dY_n ·
 * cols_nᵀ, both read along their rows, no packing) instead of the gemm: measured on the MNIST
 * CNN's first convolution (8×9 over 784 positions) 0.52 against 0.87–1.33 ms per batch, on its
 * second (16×72 over 196) 2.3 against 2.0.
 */
const DOT_NT_MAX = 128;

function weightGradThin(
  accel: CpuAccel,
  g: ConvGeom,
  dy: { view: Float32Array; load: () => void },
  cols: Float32Array,
  unfold: (xb: number) => void,
  dwt: TypedArray,
): () => void {
  const og = g.o / g.groups,
    cg = g.c / g.groups;
  const kdim = cg * g.kh * g.kw,
    p = g.oh * g.ow;
  const out = staged(accel, dwt);
  return () => {
    dy.load();
    out.view.fill(0);
    for (let ni = 0; ni < g.n; ni++)
      for (let grp = 0; grp < g.groups; grp++) {
        unfold((ni * g.c + grp * cg) * g.h * g.w);
        accel.dotNT(dy.view, (ni * g.o + grp * og) * p, p, cols, 0, p, out.view, grp * og * kdim, og, kdim, p);
      }
    out.store();
  };
}
