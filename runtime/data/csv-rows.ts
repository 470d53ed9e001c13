// The CSV fast path's helpers for rows read on their own: the header row, a row's bytes read
// again by offset, and the positioned errors of a bad row (by the positioned reader, csv.ts).

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import type { DType, TypedArray } from '../ir/types.js';
import type { InputDecl } from '../load/model.js';
import { valueProblem } from './column.js';
import { numberAt, parseCsv } from './csv.js';

/** Longest header row, and longest data row (a row holds one sample; longer is a broken file). */
export const MAX_CSV_ROW = 64 << 20;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Where reading stopped short: a quoted field seen (take the positioned reader). */
export class Quoted extends Error {}

/** What the fast path fills for one input. */
export interface Plan {
  input: InputDecl;
  indices: number[];
  names: string[];
  vector: boolean;
  width: number;
  values: TypedArray;
  int: boolean;
  dtype: DType;
}

/** The header row: its column names, the byte offset after it and the lines it spans. */
export function readHeader(
  size: number,
  read: (into: Uint8Array, pos: number) => number,
  path: string,
  errors: GraphError[],
): { names: string[]; end: number; lines: number } | null {
  // Read a growing window until it holds the header's newline (a header is usually short).
  let b = new Uint8Array(0);
  let got = 0;
  for (let cap = 1 << 16; ; cap *= 4) {
    b = new Uint8Array(Math.min(size, cap, MAX_CSV_ROW + 1));
    got = 0;
    while (got < b.length) {
      const k = read(b.subarray(got), got);
      if (k <= 0) break;
      got += k;
    }
    if (got < b.length || b.length === size || b.length === MAX_CSV_ROW + 1) break;
    let i = 0;
    while (i < got && (b[i] === 32 || b[i] === 9 || b[i] === 13 || b[i] === 10)) i++;
    const nl = b.indexOf(10, i);
    if (i < got && nl >= 0 && nl < got) break;
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

export const notUtf8 = (path: string, line: number) =>
  new DataError(`line ${line} is not UTF-8 text`, { file: path, line, col: 1 }, undefined, 'save the file as UTF-8');

/** The bytes of the line at `offset` (up to its newline, at most MAX_CSV_ROW). */
export function readLine(f: { size: number; read(into: Uint8Array, pos: number): number }, offset: number): Uint8Array {
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
export function rowErrors(
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
export function fieldLoc(bytes: Uint8Array, line: number, j: number, path: string): SourceLoc {
  const csv = parseCsv(new TextDecoder().decode(bytes).replace(/\r$/, ''), path, []);
  const l = csv?.header[j]?.loc;
  return { file: path, line, col: l?.col ?? 1 };
}
