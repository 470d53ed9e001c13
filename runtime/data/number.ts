// Numbers read from the bytes of a text data file (CSV fields, JSON number tokens), exactly as
// Number() reads them, without making a string for the common case.

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];

/**
 * The number in bytes [a, b) (spaces and tabs around it ignored), NaN when it is not a finite
 * number. Plain decimals with at most 15 significant digits and a power of ten up to 22 are
 * exact as one division or product of exact doubles (Clinger's fast path); others go to Number().
 */
export function parseNumber(buf: Uint8Array, a: number, b: number): number {
  while (a < b && (buf[a] === 32 || buf[a] === 9)) a++;
  while (b > a && (buf[b - 1] === 32 || buf[b - 1] === 9)) b--;
  if (a === b) return Number.NaN;
  let i = a;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  } else if (buf[i] === 43) i++;
  let m = 0;
  let digits = 0;
  let scale = 0;
  let any = false;
  while (i < b) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) break;
    any = true;
    if (digits > 0 || c > 0) digits++;
    m = m * 10 + c;
    i++;
  }
  if (i < b && buf[i] === 46) {
    i++;
    while (i < b) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      any = true;
      if (digits > 0 || c > 0) digits++;
      m = m * 10 + c;
      scale--;
      i++;
    }
  }
  if (any && i < b && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let eneg = false;
    if (buf[i] === 45) {
      eneg = true;
      i++;
    } else if (buf[i] === 43) i++;
    let ex = 0;
    let ed = false;
    while (i < b) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      ex = ex * 10 + c;
      if (ex > 1e6) ex = 1e6;
      ed = true;
      i++;
    }
    if (!ed) return slow(buf, a, b);
    scale += eneg ? -ex : ex;
  }
  if (!any || i !== b || digits > 15) return slow(buf, a, b);
  let v: number;
  if (scale === 0) v = m;
  else if (scale < 0 && scale >= -22) v = m / POW10[-scale]!;
  else if (scale > 0 && scale <= 22 && m * POW10[scale]! < 9007199254740992) v = m * POW10[scale]!;
  else return slow(buf, a, b);
  return neg ? -v : v;
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
