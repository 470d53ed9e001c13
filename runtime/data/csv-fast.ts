// CSV data at speed: the file is streamed in chunks and each field read straight from its bytes
// into the input's typed array, with no string, no per-value position and no row object kept.
// Positions are found when needed: a bad row is read again, alone, by the positioned reader
// (csv.ts), so errors read exactly as before; the column's `loc(row)` does the same for label
// errors. Files with quoted fields take the positioned reader whole (numbers need no quotes).

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import type { FloatDType } from '../ir/types.js';
import type { DataSource, InputDecl } from '../load/model.js';
import { openData } from './binary.js';
import { type Progress, progressOf } from './bytes.js';
import { type Column, columnArray, columnDType, perSample } from './column.js';
import { fieldLoc, MAX_CSV_ROW, type Plan, Quoted, readHeader, readLine, rowErrors } from './csv-rows.js';
import { parseNumber, scanNumber, scanned } from './number.js';
import { pickColumns } from './names.js';
import { fmt } from './shapes.js';

type FileSpec = Extract<DataSource, { kind: 'file' }>;

const CHUNK = 4 << 20;
/** Bad rows reported before reading stops. */
const MAX_BAD = 10;

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
  let report: Progress = () => {};
  let reached = 0;
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
    // The data is read from here (a header-only read is no loading to report).
    report = progressOf(io, path, f.size);
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
      report((reached = pos));
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
          const j = readRecord(big, s, le, rows, tgt, plans);
          const ok = j === names.length;
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
    report(reached, true);
    f.close();
  }
}

/**
 * One record's fields, bytes [s, le), read into the plans' arrays at `row` (a function of its
 * own, so the engine optimizes this loop apart from the reader around it): the number of fields,
 * or -1 when a value is not a number its input takes.
 */
function readRecord(
  big: Uint8Array,
  s: number,
  le: number,
  row: number,
  tgt: (number[] | null)[],
  plans: Plan[],
): number {
  let j = 0;
  let p = s;
  let ok = true;
  for (;;) {
    const t = j < tgt.length ? tgt[j] : null;
    let q: number;
    if (t) {
      // The field is read as it is scanned; anything but a plain number before the comma
      // (spaces after it, other forms) is read again whole by parseNumber.
      let v: number;
      const d = big[p]! - 48;
      if (d >= 0 && d <= 9 && (p + 1 === le || big[p + 1] === 44)) {
        // One digit (zeros are most of an image's pixels).
        v = d;
        q = p + 1;
      } else {
        v = scanNumber(big, p, le);
        q = scanned.end;
      }
      if (q < le && big[q] !== 44) {
        while (q < le && big[q] !== 44) q++;
        v = parseNumber(big, p, q);
      }
      for (let k = 0; k < t.length; k += 2) {
        const pl = plans[t[k]!]!;
        if (v !== v || (pl.int && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647))) ok = false;
        pl.values[row * pl.width + t[k + 1]!] = v;
      }
    } else {
      q = p;
      while (q < le && big[q] !== 44) q++;
    }
    j++;
    if (q >= le) break;
    p = q + 1;
  }
  return ok ? j : -1;
}

export { MAX_CSV_ROW, Quoted } from './csv-rows.js';
