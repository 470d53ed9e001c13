// The text readers' number parser gives the double Number() gives, bit for bit: on random
// decimals of 1 to 20 digits, float32 and float64 values printed in full (16-17 digits), exact
// halfway points between doubles and decimals just either side of them, subnormals and exponents
// far past the double range. Compared with Object.is, so -0 and NaN count too.
import { describe, expect, it } from 'vitest';
import { parseNumber, scanNumber, scanned } from '../../runtime/data/number.js';

const enc = new TextEncoder();
const buf = new Uint8Array(1024);

/** Number() as the readers take it: trimmed of spaces and tabs, NaN for "" and non-finite values. */
function want(s: string): number {
  const t = s.replace(/^[ \t]+|[ \t]+$/g, '');
  if (t === '') return Number.NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : Number.NaN;
}

/** The strings whose parse differs from Number() (at most a few kept, for the message). */
function mismatches(strings: Iterable<string>): { count: number; checked: number; first: string[] } {
  let count = 0;
  let checked = 0;
  const first: string[] = [];
  for (const s of strings) {
    const n = enc.encodeInto(s, buf).written;
    const got = parseNumber(buf, 0, n);
    checked++;
    if (!Object.is(got, want(s))) {
      count++;
      if (first.length < 5) first.push(`${s}: ${got} != ${want(s)}`);
    }
  }
  return { count, checked, first };
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    // xorshift32: fast, seeded, enough for test inputs
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const f32 = new Float32Array(1);
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function* randomDecimals(count: number, rnd: () => number): Generator<string> {
  const digits = (n: number) => {
    let t = String(1 + Math.floor(rnd() * 9));
    for (let i = 1; i < n; i++) t += Math.floor(rnd() * 10);
    return t;
  };
  for (let it = 0; it < count; it++) {
    f32[0] = rnd() * 2 - 1;
    yield String(f32[0]);
    f32[0] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 80 - 45);
    yield String(f32[0]);
    u32[0] = (rnd() * 2 ** 32) >>> 0;
    u32[1] = (rnd() * 2 ** 32) >>> 0;
    yield String(f64[0]);
    yield f64[0].toExponential(Math.floor(rnd() * 21));
    const nd = 1 + Math.floor(rnd() * 20);
    const d = digits(nd);
    const pt = Math.floor(rnd() * (nd + 3));
    const body = pt >= nd ? d + '0'.repeat(pt - nd) : `${d.slice(0, pt)}.${d.slice(pt)}`;
    yield `${rnd() < 0.5 ? '-' : ''}${body}${rnd() < 0.4 ? `e${Math.floor(rnd() * 60 - 30)}` : ''}`;
    yield `0.${'0'.repeat(Math.floor(rnd() * 8))}${d}`;
  }
}

/** Exact halfway points between doubles in [2^53, 2^64) (integers), written several ways. */
function* integerHalfways(count: number, rnd: () => number): Generator<string> {
  for (let it = 0; it < count; it++) {
    const e = 54 + Math.floor(rnd() * 10);
    const m = 2n ** 52n + BigInt(Math.floor(rnd() * 2 ** 52));
    const t = (((2n * m + 1n) << BigInt(e - 53)) >> 1n).toString();
    yield t;
    yield `${t.slice(0, 5)}.${t.slice(5)}e${t.length - 5}`;
    yield `${t.slice(0, -3)}.${t.slice(-3)}e3`;
    yield String(BigInt(t) + 1n);
    yield String(BigInt(t) - 1n);
  }
}

/** Decimals of 16-19 digits just below, at and above the halfway points of doubles in (1e-6, 1e6). */
function* nearHalfways(count: number, rnd: () => number): Generator<string> {
  for (let it = 0; it < count; it++) {
    f64[0] = 10 ** (rnd() * 12 - 6);
    const M = (BigInt(u32[1]! & 0xfffff) | 0x100000n) * 2n ** 32n + BigInt(u32[0]!);
    const k = 1075 - ((u32[1]! >>> 20) & 0x7ff) + 1; // x = M * 2^-(k-1); halfway = (2M+1) * 5^k / 10^k
    const ds = ((2n * M + 1n) * 5n ** BigInt(k)).toString();
    for (const nd of [16, 17, 18, 19]) {
      const head = BigInt(ds.slice(0, nd));
      const exp = ds.length - nd - k;
      for (const h of [head - 1n, head, head + 1n]) {
        const hs = String(h);
        yield `${hs}e${exp}`;
        yield `${hs[0]}.${hs.slice(1)}e${exp + hs.length - 1}`;
      }
    }
  }
}

describe('parseNumber', () => {
  it('agrees with Number() on a million random decimals, float32 and float64 values printed in full', () => {
    const r = mismatches(randomDecimals(200_000, rng(12345)));
    expect(r.checked).toBe(1_200_000);
    expect(r.first).toEqual([]);
  });

  it('agrees with Number() at and beside the halfway points between doubles', () => {
    const a = mismatches(integerHalfways(40_000, rng(777)));
    const b = mismatches(nearHalfways(20_000, rng(4242)));
    expect(a.checked + b.checked).toBe(200_000 + 480_000);
    expect([...a.first, ...b.first]).toEqual([]);
  });

  it('agrees with Number() on edge forms: subnormals, overflow, signs, points, other notations', () => {
    const cases = [
      '',
      ' ',
      '-',
      '+',
      '.',
      'e5',
      '1e',
      '1e+',
      '1e-',
      '-0',
      '+0',
      '-0.0e5',
      '0x10',
      '0b11',
      'Infinity',
      '-Infinity',
      'NaN',
      '1.',
      '.5',
      '+.5',
      '1.e5',
      ' 7 ',
      '\t-3.25\t',
      '1e400',
      '-1e400',
      '1e-400',
      '0e400',
      '4.9e-324',
      '2.5e-324',
      '2.4703282292062328e-324',
      '2.2250738585072014e-308',
      '2.2250738585072011e-308',
      '1.7976931348623157e308',
      '1.7976931348623159e308',
      '9007199254740993',
      '9007199254740995',
      '18446744073709551615',
      '18446744073709551616',
      '1844674407370955161.5',
      '0.30000000000000004',
      '123456789012345678901234567890',
      '0.1000000000000000000000000001',
      '1.000000000000000000000',
      '00000000000000000000001.5',
      '1e1000000000',
      '1_000',
      '1 2',
      '١',
    ];
    expect(mismatches(cases).first).toEqual([]);
  });

  it('scanNumber stops after the number, where a field or token goes on', () => {
    const n = enc.encodeInto('0.003899999894201755,12', buf).written;
    expect(scanNumber(buf, 0, n)).toBe(0.003899999894201755);
    expect(scanned.end).toBe(20);
    expect(scanNumber(buf, 21, n)).toBe(12);
    expect(scanned.end).toBe(n);
  });
});
