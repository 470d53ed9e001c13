// The JSON fast path's pieces: a byte window over the file with a small tokenizer (numbers
// read from their bytes, strings decoded, any value skipped), and values kept in blocks.

import type { DType, TypedArray } from '../ir/types.js';
import type { DataFile } from '../load/io.js';
import type { Progress } from './bytes.js';
import { columnArray } from './column.js';
import { parseNumber, scanNumber, scanned } from './number.js';

/** A byte a number token may hold: a digit, a sign, a point or an exponent mark. */
const numeric = (c: number) => (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;

/** A problem at a byte offset of the file. */
export class JsonStop extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Values appended one at a time into one array of a capacity counted beforehand (untouched
 * capacity costs no memory; a copy at the end would double the peak), in blocks beyond it.
 */
export class Grow {
  private blocks: TypedArray[] = [];
  private cur: TypedArray;
  private k = 0;
  length = 0;
  constructor(
    private readonly dtype: DType,
    capacity = 1 << 16,
  ) {
    // Up to 2^28 values at once (1 GiB of f32, reserved, not touched); blocks beyond.
    this.cur = columnArray(dtype, Math.max(1, Math.min(capacity, 1 << 28)));
  }
  push(v: number): void {
    if (this.k === this.cur.length) {
      this.blocks.push(this.cur);
      this.cur = columnArray(this.dtype, Math.min(1 << 22, Math.max(1 << 16, this.cur.length * 2)));
      this.k = 0;
    }
    this.cur[this.k++] = v;
    this.length++;
  }
  finish(): TypedArray {
    if (!this.blocks.length) {
      // One array: kept unless much of it is unused (as the CSV reader keeps its columns).
      const cur = this.cur;
      return cur.length > this.k * 1.25 + 64 ? cur.slice(0, this.k) : cur.subarray(0, this.k);
    }
    const out = columnArray(this.dtype, this.length);
    let o = 0;
    for (const b of this.blocks) {
      out.set(b, o);
      o += b.length;
    }
    out.set(this.cur.subarray(0, this.k), o);
    this.blocks = [];
    return out;
  }
}

/**
 * An upper bound on the numbers in a JSON file: each one ends at a ",", "]" or "}" (a count
 * over the bytes, read once more; the page cache holds them).
 */
/** 1 for the bytes that end a number in a list or object (a table: no branch per byte). */
const ENDS = new Uint8Array(256);
ENDS[44] = ENDS[93] = ENDS[125] = 1;

export function countValues(f: DataFile): number {
  const buf = new Uint8Array(Math.min(4 << 20, Math.max(1, f.size)));
  let count = 1;
  for (let pos = 0; pos < f.size; ) {
    const n = f.read(buf, pos);
    if (n <= 0) break;
    for (let k = 0; k < n; k++) count += ENDS[buf[k]!]!;
    pos += n;
  }
  return count;
}

/** Bytes of the file through a refilled window. */
export class Bytes {
  buf = new Uint8Array(1 << 20);
  i = 0;
  n = 0;
  base = 0;
  constructor(
    private readonly f: DataFile,
    private readonly report: Progress = () => {},
  ) {
    this.fill();
  }
  /** Keep at least `want` bytes ahead when the file has them. */
  fill(want = 64): void {
    if (this.n - this.i >= want) return;
    this.buf.copyWithin(0, this.i, this.n);
    this.base += this.i;
    this.n -= this.i;
    this.i = 0;
    if (this.n + want > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + want));
      b.set(this.buf.subarray(0, this.n));
      this.buf = b;
    }
    while (this.n < this.buf.length) {
      const k = this.f.read(this.buf.subarray(this.n), this.base + this.n);
      if (k <= 0) break;
      this.n += k;
      if (this.n - this.i >= want) break;
    }
    this.report(this.base + this.n);
  }
  get at(): number {
    return this.base + this.i;
  }
  /** The next byte that is not white space (-1 at the end), not consumed. */
  peek(): number {
    for (;;) {
      if (this.i >= this.n) {
        this.fill();
        if (this.i >= this.n) return -1;
      }
      const c = this.buf[this.i]!;
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else return c;
    }
  }
  expect(c: number, what: string): void {
    if (this.peek() !== c) throw new JsonStop(`expected ${what}`, this.at);
    this.i++;
  }
  /** A number token's value; NaN when it is not a finite number. */
  number(): number {
    this.fill(400);
    const s = this.i;
    const b = this.buf;
    if (s >= this.n || !numeric(b[s]!)) throw new JsonStop('expected a number', this.at);
    const d = b[s]! - 48;
    if (d >= 0 && d <= 9 && (s + 1 === this.n || !numeric(b[s + 1]!))) {
      // One digit (zeros are most of an image's pixels).
      this.i = s + 1;
      return d;
    }
    // Read as scanned; a token that goes on past the plain number is read whole.
    let v = scanNumber(b, s, this.n);
    let e = scanned.end;
    if (e < this.n && numeric(b[e]!)) {
      while (e < this.n && numeric(b[e]!)) e++;
      v = parseNumber(b, s, e);
    }
    this.i = e;
    return v;
  }
  /** A string token's text (the opening quote next). */
  string(): string {
    this.expect(34, 'a string');
    const parts: string[] = [];
    let total = 0;
    for (;;) {
      this.fill(2);
      if (this.i >= this.n) throw new JsonStop('a string is not closed', this.at);
      let e = this.i;
      while (e < this.n && this.buf[e] !== 34 && this.buf[e] !== 92) e++;
      parts.push(new TextDecoder().decode(this.buf.subarray(this.i, e)));
      total += e - this.i;
      if (total > 1 << 20) throw new JsonStop('a string over 1 MiB long where a name was expected', this.at);
      this.i = e;
      if (e >= this.n) continue;
      if (this.buf[e] === 34) {
        this.i++;
        return parts.join('');
      }
      // An escape: decoded by JSON.parse on the two (or six) characters.
      this.fill(6);
      const len = this.buf[this.i + 1] === 117 ? 6 : 2;
      parts.push(JSON.parse(`"${new TextDecoder().decode(this.buf.subarray(this.i, this.i + len))}"`) as string);
      this.i += len;
    }
  }
  /** Skip any value. */
  skip(): void {
    const c = this.peek();
    if (c === 34) this.string();
    else if (c === 91 || c === 123) {
      this.i++;
      const close = c === 91 ? 93 : 125;
      if (this.peek() === close) {
        this.i++;
        return;
      }
      for (;;) {
        if (c === 123) {
          this.string();
          this.expect(58, '":"');
        }
        this.skip();
        const d = this.peek();
        this.i++;
        if (d === close) return;
        if (d !== 44) throw new JsonStop('expected "," or the end of a list or object', this.at - 1);
      }
    } else if (c === 116 || c === 102 || c === 110) {
      this.fill(5);
      while (this.i < this.n && this.buf[this.i]! >= 97 && this.buf[this.i]! <= 122) this.i++;
    } else this.number();
  }
}
