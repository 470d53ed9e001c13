// Numbers read from the bytes of a text data file (CSV fields, JSON number tokens), exactly as
// Number() reads them (the same double, bit for bit), without making a string for the common case.
//
// A plain decimal (digits, an optional fraction, an optional exponent) of up to 19 significant
// digits whose power of ten is exact (10^0..10^22) is read without a string: up to 2^53 as one
// correctly rounded division or product of exact doubles (Clinger's fast path); above 2^53 (the
// 16- and 17-digit values that print a float32 in full) the mantissa is held exactly as two
// doubles, the quotient or product is formed to about 100 bits with error-free transformations,
// and it is rounded once — accepted only when both ends of its error interval round to the same
// double, so a value near a halfway point goes to Number() like every other form (hex, Infinity,
// more digits, exponents past 22). test/data/number.test.ts checks this against Number().

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];
/** Veltkamp's constant: 2^27 + 1 splits a double into two 26-bit halves. */
const SPLIT = 134217729;
/** Each power of ten split into halves whose products are exact (Dekker's product). */
const POW_HI = POW10.map((p) => {
  const c = SPLIT * p;
  return c - (c - p);
});
const POW_LO = POW10.map((p, k) => p - POW_HI[k]!);
const TWO53 = 9007199254740992;
/** The margin put around the ~2^-100 relative error of the two-double result. */
const MARGIN = 2 ** -90;

/** Where the last scanNumber stopped (one past the number's last byte). */
export const scanned = { end: 0 };

/**
 * The plain decimal starting at `i` (spaces and tabs before it skipped), read up to `limit`:
 * its value, NaN when there are no digits; `scanned.end` is set one past it. A caller that
 * finds more than its delimiter after it reads the field with parseNumber.
 */
export function scanNumber(buf: Uint8Array, i: number, limit: number): number {
  while (i < limit && (buf[i] === 32 || buf[i] === 9)) i++;
  const a = i;
  let neg = false;
  let c = i < limit ? buf[i]! : -1;
  if (c === 45) {
    neg = true;
    i++;
  } else if (c === 43) i++;
  // The first 15 significant digits in hi, the next (up to 4) in lo.
  let hi = 0;
  let lo = 0;
  let nlo = 0;
  let nd = 0;
  let scale = 0;
  let any = false;
  let many = false;
  while (i < limit) {
    c = buf[i]! - 48;
    if (c < 0 || c > 9) break;
    any = true;
    if (nd < 15) {
      hi = hi * 10 + c;
      if (hi > 0) nd++;
    } else if (nd < 19) {
      lo = lo * 10 + c;
      nlo++;
      nd++;
    } else {
      many = true;
      scale++;
    }
    i++;
  }
  if (i < limit && buf[i] === 46) {
    i++;
    while (i < limit) {
      c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      any = true;
      if (nd < 15) {
        hi = hi * 10 + c;
        if (hi > 0) nd++;
        scale--;
      } else if (nd < 19) {
        lo = lo * 10 + c;
        nlo++;
        nd++;
        scale--;
      } else if (c !== 0) many = true;
      i++;
    }
  }
  if (!any) {
    scanned.end = i;
    return Number.NaN;
  }
  if (i < limit && (buf[i] === 101 || buf[i] === 69)) {
    let k = i + 1;
    let eneg = false;
    if (k < limit && buf[k] === 45) {
      eneg = true;
      k++;
    } else if (k < limit && buf[k] === 43) k++;
    let ex = 0;
    const e0 = k;
    while (k < limit) {
      c = buf[k]! - 48;
      if (c < 0 || c > 9) break;
      ex = ex * 10 + c;
      if (ex > 1e6) ex = 1e6;
      k++;
    }
    // "1e" or "1e+" is not a number: stop before the "e", so the caller reads the field whole.
    if (k === e0) {
      scanned.end = i;
      return Number.NaN;
    }
    i = k;
    scale += eneg ? -ex : ex;
  }
  scanned.end = i;
  if (many || scale > 22 || scale < -22) return slow(buf, a, i);
  const v = nlo === 0 ? small(hi, scale) : wide(hi, lo, nlo, scale);
  if (v !== v) return slow(buf, a, i);
  return neg ? -v : v;
}

/** hi (< 10^15, exact) times 10^scale, |scale| <= 22: one correctly rounded operation. */
function small(hi: number, scale: number): number {
  if (scale === 0) return hi;
  return scale < 0 ? hi / POW10[-scale]! : hi * POW10[scale]!;
}

/**
 * (hi * 10^nlo + lo) * 10^scale, |scale| <= 22, correctly rounded; NaN when the result lies too
 * near a halfway point to be sure (the caller asks Number()).
 */
function wide(hi: number, lo: number, nlo: number, scale: number): number {
  // The mantissa exactly as mh + ml: hi = hh * 2^24 + hl, so each partial product is exact.
  const P = POW10[nlo]!;
  const hh = Math.floor(hi / 16777216);
  const hl = hi - hh * 16777216;
  const A = hh * P * 16777216;
  const B = hl * P + lo;
  const mh = A + B;
  if (mh < TWO53) return small(mh, scale); // exact: the sum is below 2^53
  const bb = mh - A;
  const ml = A - (mh - bb) + (B - bb);
  if (scale === 0) return mh; // mh is the sum rounded once
  const k = scale < 0 ? -scale : scale;
  const D = POW10[k]!;
  const Dh = POW_HI[k]!;
  const Dl = POW_LO[k]!;
  let q1: number;
  let q2: number;
  if (scale < 0) {
    // q1 + q2 = m / D: q1 rounded, the rest from the exact residual m - q1 * D.
    q1 = mh / D;
    const s = SPLIT * q1;
    const qh = s - (s - q1);
    const ql = q1 - qh;
    const p = q1 * D;
    const e = qh * Dh - p + qh * Dl + ql * Dh + ql * Dl;
    q2 = (mh - p - e + ml) / D;
  } else {
    // q1 + q2 = m * D: Dekker's exact product of mh and D, plus ml * D.
    const s = SPLIT * mh;
    const mhh = s - (s - mh);
    const mhl = mh - mhh;
    q1 = mh * D;
    const e = mhh * Dh - q1 + mhh * Dl + mhl * Dh + mhl * Dl;
    q2 = e + ml * D;
  }
  const d = q1 * MARGIN;
  const up = q1 + (q2 + d);
  return up === q1 + (q2 - d) ? up : Number.NaN;
}

/**
 * The number in bytes [a, b) (spaces and tabs around it ignored), NaN when it is not a finite
 * number.
 */
export function parseNumber(buf: Uint8Array, a: number, b: number): number {
  while (a < b && (buf[a] === 32 || buf[a] === 9)) a++;
  while (b > a && (buf[b - 1] === 32 || buf[b - 1] === 9)) b--;
  if (a === b) return Number.NaN;
  const v = scanNumber(buf, a, b);
  return scanned.end === b ? v : slow(buf, a, b);
}

/** Character codes of a field, reused (a field is short; a long one takes a new array). */
const codes: number[] = [];

function slow(buf: Uint8Array, a: number, b: number): number {
  // One string from the codes at once: concatenating a character at a time is twice as slow.
  if (b - a > 4096) {
    let t = '';
    for (let i = a; i < b; i++) {
      if (buf[i]! > 127) return Number.NaN;
      t += String.fromCharCode(buf[i]!);
    }
    const w = Number(t);
    return Number.isFinite(w) ? w : Number.NaN;
  }
  codes.length = b - a;
  for (let i = a; i < b; i++) {
    const c = buf[i]!;
    if (c > 127) return Number.NaN;
    codes[i - a] = c;
  }
  const v = Number(String.fromCharCode.apply(null, codes));
  return Number.isFinite(v) ? v : Number.NaN;
}
