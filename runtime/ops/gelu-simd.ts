// gelu and its gradient as WebAssembly SIMD (f32, four lanes): the fast CPU tier's kernels for
// the two ops (ops/gelu.ts), run through CpuAccel.simd. The same formula as the reference's
// f32 path, phiF32 (Numerical Recipes' erfcc: erfc(z) = t·exp(-z² + g(t)), t = 1/(1 + z/2),
// g a degree-9 polynomial), evaluated in f32 instead of f64:
// - the exponent's -x²/2 is carried as an exact high part (-xh²/2, xh = x with its low 12
//   mantissa bits cleared) and a small low part, so exp sees it without the rounding of x²
//   that would cost |x|²·2^-25 of relative accuracy in the far negative tail;
// - the negative tail multiplies x/2 · t before e (which nears the subnormals first);
// - x is clamped to [-14, 10] for the exponent: beyond, Φ is 0 or 1 in f32. ±Infinity and NaN
//   give what the reference gives (NaN, except gelu(+∞) = +∞).
// Rounding against the reference kernel (test/perf/gelu-simd.test.ts): gelu within 8 ulp of
// the result (below f32's normal range, 2^-126 absolute); the gradient dy·(Φ(x) + x·φ(x))
// within 8 ulp of |dy|·(Φ(x) + |x|·φ(x)), its terms' scale (the sum cancels near x = -0.75,
// where no f32 evaluation keeps a relative bound).

import type { SimdCtx, SimdRule } from './op.js';

/** erfcc's exponent polynomial, constant term first. */
const G = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
];

interface Parts {
  /** x clamped to [-14, 10]. */
  xc: number;
  /** 1 / (1 + |xc|/(2√2)). */
  t: number;
  /** g(t). */
  g: number;
  /** -xc²/2 = hi + lo, hi exact. */
  hi: number;
  lo: number;
}

/** The shared first half: clamp, t, g(t) and the split -x²/2, in fresh locals. */
function parts({ f, c, scratch }: SimdCtx, x: number): Parts {
  const xc = scratch(),
    t = scratch(),
    g = scratch(),
    xh = scratch(),
    hi = scratch(),
    lo = scratch();
  // pmax/pmin keep their first operand when it is NaN.
  f.get(x);
  c(-14);
  f.vpmax();
  c(10);
  f.vpmin().set(xc);
  c(1);
  c(1);
  f.get(xc).vabs();
  c(0.5 * Math.SQRT1_2);
  f.vmul().vadd().vdiv().set(t);
  c(G[9]!);
  for (let k = 8; k >= 0; k--) {
    f.get(t).vmul();
    c(G[k]!);
    f.vadd();
  }
  f.set(g);
  // xh: 12 significant bits, so xh² is exact; xc² - xh² = (xc - xh)(xc + xh) is small.
  f.get(xc);
  c(0xfffff000 | 0, true);
  f.vand().set(xh);
  f.get(xh).get(xh).vmul();
  c(-0.5);
  f.vmul().set(hi);
  f.get(xc).get(xh).vsub().get(xc).get(xh).vadd().vmul();
  c(-0.5);
  f.vmul().set(lo);
  return { xc, t, g, hi, lo };
}

/** Push (scale/2 · t) · e: Φ's negative branch times `scale` (that order keeps it normal longest). */
function negBranch({ f, c }: SimdCtx, p: Parts, e: number, scale?: number): void {
  if (scale === undefined) c(0.5);
  else {
    f.get(scale);
    c(0.5);
    f.vmul();
  }
  f.get(p.t).vmul().get(e).vmul();
}

/** Push scale · (1 - t/2 · e): Φ's positive branch times `scale`. */
function posBranch({ f, c }: SimdCtx, p: Parts, e: number, scale?: number): void {
  if (scale !== undefined) f.get(scale);
  c(1);
  f.get(p.t);
  c(0.5);
  f.vmul().get(e).vmul().vsub();
  if (scale !== undefined) f.vmul();
}

/** Select on the sign of x: the negative branch (pushed first) where x < 0 (not NaN). */
function bySign({ f, c }: SimdCtx, x: number): void {
  f.get(x);
  c(0);
  f.vlt().vbitselect();
}

export const geluSimd: SimdRule = {
  exact: false,
  // x · Φ(x) with e = exp(-x²/2 + g): the negative branch from xc (x below -14 gives Φ(-14)·(-14),
  // below f32's normal range), plus x - x so that -∞ gives NaN as x · 0 does in the reference;
  // the positive branch from x (Φ is 1 past 10).
  emit: (s) => {
    const { f, a, scratch } = s;
    const x = a[0]!;
    const p = parts(s, x);
    const lo = scratch(),
      e = scratch();
    f.get(p.lo).get(p.g).vadd().set(lo);
    s.exp(p.hi, lo);
    f.set(e);
    negBranch(s, p, e, p.xc);
    f.get(x).get(x).vsub().vadd();
    posBranch(s, p, e, x);
    bySign(s, x);
  },
};

export const geluGradSimd: SimdRule = {
  exact: false,
  // dy · (Φ(xc) + xc·φ(xc) + (x - x)): φ(x) = exp(-x²/2)/√(2π); x - x is NaN for ±∞ and NaN
  // (as the reference's ∞ · 0), 0 otherwise.
  emit: (s) => {
    const { f, a, scratch } = s;
    const x = a[0]!,
      dy = a[1]!;
    const p = parts(s, x);
    const lo = scratch(),
      e = scratch();
    f.get(p.lo).get(p.g).vadd().set(lo);
    s.exp(p.hi, lo);
    f.set(e);
    f.get(dy);
    negBranch(s, p, e);
    posBranch(s, p, e);
    bySign(s, p.xc);
    s.exp(p.hi, p.lo);
    s.c(1 / Math.sqrt(2 * Math.PI));
    f.vmul().get(p.xc).vmul().vadd();
    f.get(x).get(x).vsub().vadd();
    f.vmul();
  },
};
