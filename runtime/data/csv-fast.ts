// CSV data at speed: the file is streamed in chunks and each field read straight from its bytes
// into the input's typed array, with no string, no per-value position and no row object kept.
// Positions are found when needed: a bad row is read again, alone, by the positioned reader
// (csv.ts), so errors read exactly as before; the column's `loc(row)` does the same for label
// errors. Files with quoted fields take the positioned reader whole (numbers need no quotes).

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import type { DType, FloatDType, TypedArray } from '../ir/types.js';
import { excerpt } from '../load/io.js';
import type { DataSource, InputDecl } from '../load/model.js';
import { openData } from './binary.js';
import { type Column, columnArray, columnDType, perSample, valueProblem } from './column.js';
import { numberAt, parseCsv } from './csv.js';
import { pickColumns } from './names.js';
import { fmt } from './shapes.js';

type FileSpec = Extract<DataSource, { kind: 'file' }>;

const CHUNK = 4 << 20;
/** Longest header row, and longest data row (a row holds one sample; longer is a broken file). */
export const MAX_CSV_ROW = 64 << 20;
/** Bad rows reported before reading stops. */
const MAX_BAD = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Where reading stopped short: the file, a quoted field seen (take the positioned reader). */
export class Quoted extends Error {}

interface Plan {
  input: InputDecl;
  indices: number[];
  names: string[];
  vector: boolean;
  width: number;
  values: TypedArray;
  int: boolean;
  dtype: DType;
}

/**
 * The columns of a CSV data file for `inputs`, read by the fast path; null after errors. Throws
 * Quoted when the data holds a quoted field (the caller reads it with the positioned reader).
 */
export function readCsvFast(
  spec: FileSpec,
  inputs: InputDecl[],
  float: FloatDType,
  errors: GraphError[],
  headOnly = false,
): Map<string, Column> | null {
  const { io, path, at } = spec;
  const f = openData(io, path);
  try {
    // Pass 1: the header row, and an upper bound on the data rows (the newlines after it).
    const head = readHeader(f.size, (into, pos) => f.read(into, pos), path, errors);
    if (!head) return null;
    const { names, end: headEnd, lines: headLines } = head;
    // The columns each input takes, and the arrays they fill.
    const plans: Plan[] = [];
    const before = errors.length;
    for (const input of inputs) {
      const c = spec.columns?.[input.name];
      const specLoc = c !== undefined ? at(['columns', input.name]) : at(['file']);
      const picked = pickColumns(
        c,
        input.name,
        names,
        path,
        (k) => (k === undefined ? specLoc : at(['columns', input.name, k])),
        errors,
      );
      if (!picked) continue;
      const per = perSample(input);
      const width = picked.names.length;
      if (per !== undefined && (picked.vector ? width !== per : per !== 1)) {
        errors.push(
          new DataError(
            `input "${input.name}" takes ${per} value${per === 1 ? '' : 's'} per sample, but ${width} column${width === 1 ? ' is' : 's are'} given`,
            specLoc,
            undefined,
            `list ${per} column names: columns: {${input.name}: [...]}, or a range: {${input.name}: px0..px${per - 1}}`,
          ),
        );
        continue;
      }
      const dtype = columnDType(input, float);
      plans.push({
        input,
        ...picked,
        width,
        values: new Float32Array(0),
        int: dtype === 'i32',
        dtype,
      });
    }
    if (errors.length > before || headOnly) return errors.length > before ? null : new Map();
    let capacity = 1;
    let quoted = false;
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, f.size)));
    for (let pos = headEnd; pos < f.size; ) {
      const n = f.read(buf, pos);
      if (n <= 0) break;
      for (let k = buf.indexOf(10); k >= 0 && k < n; k = buf.indexOf(10, k + 1)) capacity++;
      const q = buf.indexOf(34);
      if (q >= 0 && q < n) quoted = true;
      pos += n;
    }
    if (quoted) throw new Quoted();
    for (const p of plans) p.values = columnArray(p.dtype, capacity * p.width);
    // Field j -> where its value goes: plan index and position in the row, flattened.
    const targets: number[][] = names.map(() => []);
    plans.forEach((p, a) => {
      p.indices.forEach((j, pos) => targets[j]!.push(a, pos));
    });
    const tgt = targets.map((t) => (t.length ? t : null));
    const rowOffset = new Float64Array(capacity);
    const rowLine = new Int32Array(capacity);
    const bad: { offset: number; line: number; row: number }[] = [];
    let rows = 0;
    let line = headLines + 1;
    let big = buf;
    let carry = 0;
    let pos = headEnd;
    let eof = false;
    // Pass 2: records (lines) in chunks; a partial last line is carried to the next chunk.
    while (!eof && bad.length < MAX_BAD) {
      let n = 0;
      if (pos < f.size) {
        if (carry === big.length) {
          if (big.length >= MAX_CSV_ROW) {
            errors.push(
              new DataError(
                `line ${line} is over ${MAX_CSV_ROW >> 20} MiB long; a CSV row holds one sample`,
                { file: path, line, col: 1 },
                undefined,
                'is this a CSV file?',
              ),
            );
            return null;
          }
          const grown = new Uint8Array(Math.min(MAX_CSV_ROW, big.length * 2));
          grown.set(big);
          big = grown;
        }
        n = f.read(big.subarray(carry), pos);
      }
      if (n <= 0) eof = true;
      const end = carry + Math.max(0, n);
      const base = pos - carry;
      pos += Math.max(0, n);
      let s = 0;
      for (;;) {
        let e = big.indexOf(10, s);
        if (e < 0 || e >= end) {
          if (!eof || s >= end) break;
          e = end;
        }
        const le = e > s && big[e - 1] === 13 ? e - 1 : e;
        // One record [s, le): fields split at commas, each parsed from its bytes.
        let blank = true;
        for (let k = s; k < le; k++) {
          const b = big[k]!;
          if (b !== 32 && b !== 9) {
            blank = false;
            break;
          }
        }
        if (!blank) {
          if (rows >= capacity) capacity = -1; // cannot happen: rows <= newlines + 1
          let j = 0;
          let p = s;
          let ok = true;
          for (;;) {
            let q = p;
            while (q < le && big[q] !== 44) q++;
            const t = j < tgt.length ? tgt[j] : null;
            if (t) {
              const v = parseNumber(big, p, q);
              for (let k = 0; k < t.length; k += 2) {
                const pl = plans[t[k]!]!;
                if (v !== v || (pl.int && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647))) ok = false;
                pl.values[rows * pl.width + t[k + 1]!] = v;
              }
            }
            j++;
            if (q >= le) break;
            p = q + 1;
          }
          if (j !== names.length) ok = false;
          if (!ok) bad.push({ offset: base + s, line, row: rows });
          rowOffset[rows] = base + s;
          rowLine[rows] = line;
          rows++;
        }
        line++;
        s = e + 1;
        if (s > end || bad.length >= MAX_BAD) break;
      }
      // Keep the partial record for the next chunk.
      carry = Math.max(0, end - s);
      if (carry) big.copyWithin(0, s, end);
    }
    const reread = (offset: number) => readLine(f, offset);
    if (bad.length) {
      for (const b of bad) rowErrors(reread(b.offset), b.line, b.row, path, names, plans, errors);
      if (errors.length === before)
        errors.push(new DataError('a row could not be read', { file: path, line: bad[0]!.line, col: 1 }));
      return null;
    }
    const out = new Map<string, Column>();
    for (const p of plans) {
      const n = rows * p.width;
      // Rows were counted from above: keep the array unless much of it is unused.
      const values = p.values.length > n * 1.25 + 64 ? p.values.slice(0, n) : p.values.subarray(0, n);
      const first = p.indices[0]!;
      const loc = (r: number): SourceLoc => {
        if (r < 0 || r >= rows) return at(['file']);
        const f2 = openData(io, path);
        try {
          return fieldLoc(readLine(f2, rowOffset[r]!), rowLine[r]!, first, path);
        } finally {
          f2.close();
        }
      };
      const per = perSample(p.input);
      if (per === undefined) {
        const shape = p.vector ? [rows, p.width] : [rows];
        if (shape.join(',') !== p.input.shape.join(',')) {
          errors.push(
            new DataError(
              `data for "${p.input.name}" has shape ${fmt(shape)}, the input has ${fmt(p.input.shape)}`,
              at(['file']),
            ),
          );
          continue;
        }
        out.set(p.input.name, {
          input: p.input,
          rowSize: n,
          rows: 1,
          values,
          batched: false,
          loc,
          where: at(['file']),
        });
        continue;
      }
      out.set(p.input.name, {
        input: p.input,
        rowSize: p.width,
        rows,
        values,
        batched: true,
        loc,
        where: at(['file']),
      });
    }
    return errors.length > before ? null : out;
  } finally {
    f.close();
  }
}

/** The header row: its column names, the byte offset after it and the lines it spans. */
function readHeader(
  size: number,
  read: (into: Uint8Array, pos: number) => number,
  path: string,
  errors: GraphError[],
): { names: string[]; end: number; lines: number } | null {
  const b = new Uint8Array(Math.min(size, MAX_CSV_ROW + 1));
  let got = 0;
  while (got < b.length) {
    const k = read(b.subarray(got), got);
    if (k <= 0) break;
    got += k;
  }
  // Skip blank lines, then the header is the first line (up to its newline).
  let s = 0;
  let lines = 0;
  for (;;) {
    const e = b.indexOf(10, s);
    const stop = e < 0 || e >= got ? got : e;
    let blank = true;
    for (let k = s; k < stop; k++) if (b[k] !== 32 && b[k] !== 9 && b[k] !== 13) blank = false;
    if (!blank || stop === got) {
      if (blank) {
        errors.push(
          new DataError('the CSV file is empty; it needs a header row naming the columns', {
            file: path,
            line: 1,
            col: 1,
          }),
        );
        return null;
      }
      if (e < 0 && got === MAX_CSV_ROW + 1) {
        errors.push(
          new DataError(`the header row is over ${MAX_CSV_ROW >> 20} MiB long`, {
            file: path,
            line: lines + 1,
            col: 1,
          }),
        );
        return null;
      }
      let text: string;
      try {
        text = utf8.decode(b.subarray(s, stop));
      } catch {
        errors.push(notUtf8(path, lines + 1));
        return null;
      }
      if (text.includes('"')) throw new Quoted();
      const csv = parseCsv(text, path, errors);
      if (!csv) return null;
      return { names: csv.header.map((h) => h.name), end: Math.min(stop + 1, size), lines: lines + 1 };
    }
    lines++;
    s = stop + 1;
  }
}

const notUtf8 = (path: string, line: number) =>
  new DataError(`line ${line} is not UTF-8 text`, { file: path, line, col: 1 }, undefined, 'save the file as UTF-8');

/** The bytes of the line at `offset` (up to its newline, at most MAX_CSV_ROW). */
function readLine(f: { size: number; read(into: Uint8Array, pos: number): number }, offset: number): Uint8Array {
  const out: Uint8Array[] = [];
  let len = 0;
  const chunk = new Uint8Array(1 << 16);
  while (len < MAX_CSV_ROW) {
    const n = f.read(chunk, offset + len);
    if (n <= 0) break;
    const e = chunk.subarray(0, n).indexOf(10);
    const part = chunk.slice(0, e >= 0 ? e : n);
    out.push(part);
    len += part.length;
    if (e >= 0) break;
  }
  const all = new Uint8Array(len);
  let k = 0;
  for (const p of out) {
    all.set(p, k);
    k += p.length;
  }
  return all;
}

/** The positioned errors of one bad row (read again, alone). */
function rowErrors(
  bytes: Uint8Array,
  line: number,
  row: number,
  path: string,
  names: string[],
  plans: Plan[],
  errors: GraphError[],
): void {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    errors.push(notUtf8(path, line));
    return;
  }
  const csv = parseCsv(text.replace(/\r$/, ''), path, errors);
  if (!csv) return;
  const fields = csv.header;
  const loc = (l: SourceLoc): SourceLoc => ({ file: path, line: line + l.line - 1, col: l.col });
  if (fields.length !== names.length) {
    errors.push(
      new DataError(`row has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${names.length}`, {
        file: path,
        line,
        col: 1,
      }),
    );
    return;
  }
  for (const p of plans) {
    const before = errors.length;
    const vals = p.indices.map((j) => numberAt(fields[j]!.name, loc(fields[j]!.loc), names[j]!, errors));
    if (errors.length > before) continue;
    const dtype = p.int ? 'i32' : 'f32';
    const k = vals.findIndex((v) => valueProblem(v!, dtype) !== '');
    if (k >= 0)
      errors.push(
        new DataError(
          `row ${row} of "${p.input.name}" holds ${vals[k]}${valueProblem(vals[k]!, dtype)}`,
          loc(fields[p.indices[k]!]!.loc),
        ),
      );
  }
}

/** The position of field `j` of a row read again. */
function fieldLoc(bytes: Uint8Array, line: number, j: number, path: string): SourceLoc {
  const csv = parseCsv(new TextDecoder().decode(bytes).replace(/\r$/, ''), path, []);
  const l = csv?.header[j]?.loc;
  return { file: path, line, col: l?.col ?? 1 };
}

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

function slow(buf: Uint8Array, a: number, b: number): number {
  let s = '';
  for (let i = a; i < b; i++) {
    const c = buf[i]!;
    if (c > 127) return Number.NaN;
    s += String.fromCharCode(c);
  }
  const v = Number(s);
  return Number.isFinite(v) ? v : Number.NaN;
}
