// JSON data at speed: the file is streamed in chunks through a small tokenizer that writes each
// number straight into its input's typed array — no parsed tree, no positions per value. The two
// shapes of a JSON data file are read: an object of input -> rows (rows nested as the sample's
// shape), and a list of records whose number fields the columns name. A problem stops reading;
// its position is found then, from the byte offset (the caller reads small files again with the
// positioned reader, so their messages stay as they were).

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import type { FloatDType } from '../ir/types.js';
import { excerpt } from '../load/io.js';
import type { DataSource, InputDecl } from '../load/model.js';
import { openData } from './binary.js';
import { progressOf } from './bytes.js';
import { type Column, columnDType, perSample } from './column.js';
import { Bytes, countValues, Grow, JsonStop } from './json-tokens.js';
import { columnsOf } from './files.js';
import { sampleShape } from './shapes.js';

type FileSpec = Extract<DataSource, { kind: 'file' }>;
type DataFile = ReturnType<typeof openData>;

/** The line and column of a byte offset (the file read again up to it). */
export function offsetLoc(f: DataFile, path: string, offset: number): SourceLoc {
  const buf = new Uint8Array(1 << 20);
  let line = 1;
  let lineStart = 0;
  for (let pos = 0; pos < offset; ) {
    const k = f.read(buf.subarray(0, Math.min(buf.length, offset - pos)), pos);
    if (k <= 0) break;
    for (let j = buf.indexOf(10); j >= 0 && j < k; j = buf.indexOf(10, j + 1)) {
      line++;
      lineStart = pos + j + 1;
    }
    pos += k;
  }
  // Columns count characters: UTF-8 continuation bytes do not start one.
  const tail = new Uint8Array(Math.max(0, offset - lineStart));
  f.read(tail, lineStart);
  let col = 1;
  for (const b of tail) if ((b & 0xc0) !== 0x80) col++;
  return { file: path, line, col };
}

interface Target {
  input: InputDecl;
  values: Grow;
  dims: number[];
  int: boolean;
  rows: number;
}

/**
 * The columns of a JSON data file for `inputs` by the streaming reader; throws JsonStop at the
 * first problem (the caller positions it, or reads a small file again with the positioned reader).
 */
export function readJsonFast(spec: FileSpec, inputs: InputDecl[], float: FloatDType): Map<string, Column> {
  const { io, path, at } = spec;
  const f = openData(io, path);
  const report = progressOf(io, path, f.size);
  let reached = () => 0;
  try {
    const capacity = countValues(f);
    const t = new Bytes(f, report);
    reached = () => t.at;
    const targets = inputs.map(
      (input): Target => ({
        input,
        values: new Grow(columnDType(input, float), capacity),
        dims: (sampleShape(input) ?? input.shape).map(Number),
        int: columnDType(input, float) === 'i32',
        rows: 0,
      }),
    );
    const put = (tg: Target, v: number, off: number) => {
      if (v !== v) throw new JsonStop(`a value of "${tg.input.name}" is not a finite number`, off);
      if (tg.int && !Number.isInteger(v))
        throw new JsonStop(`${v} in "${tg.input.name}": input "${tg.input.name}" is i32 and takes whole numbers`, off);
      tg.values.push(v);
    };
    /** One sample nested as `dims` (a number for no dims). */
    const sample = (tg: Target, d: number): void => {
      if (d === tg.dims.length) {
        const off = t.at;
        if (t.peek() === 91)
          throw new JsonStop(
            `row ${tg.rows} of "${tg.input.name}" is nested deeper than a sample of shape [${tg.dims.join(', ')}]`,
            off,
          );
        put(tg, t.number(), off);
        return;
      }
      const off = t.at;
      t.expect(91, `a list (a sample of "${tg.input.name}" has shape [${tg.dims.join(', ')}])`);
      let n = 0;
      if (t.peek() !== 93)
        for (;;) {
          sample(tg, d + 1);
          n++;
          const c = t.peek();
          t.i++;
          if (c === 93) break;
          if (c !== 44) throw new JsonStop('expected "," or "]"', t.at - 1);
        }
      else t.i++;
      if (n !== tg.dims[d])
        throw new JsonStop(
          `row ${tg.rows} of "${tg.input.name}" has ${n} values where its sample shape [${tg.dims.join(', ')}] has ${tg.dims[d]}`,
          off,
        );
    };
    const c = t.peek();
    if (c === 123) {
      // An object of input -> rows.
      const byKey = new Map<string, Target>();
      for (const tg of targets) {
        const names = columnsOf(spec, tg.input.name);
        if (names.length !== 1)
          throw new JsonStop(`input "${tg.input.name}" takes one key of a JSON object of rows`, 0);
        byKey.set(names[0]!, tg);
      }
      t.i++;
      const seen = new Set<string>();
      if (t.peek() !== 125)
        for (;;) {
          const key = t.string();
          t.expect(58, '":"');
          const tg = byKey.get(key);
          if (!tg) t.skip();
          else {
            seen.add(key);
            const batched = perSample(tg.input) !== undefined;
            if (!batched) sample(tg, 0);
            else {
              t.expect(91, `a list of rows for "${key}"`);
              if (t.peek() !== 93)
                for (;;) {
                  sample(tg, 0);
                  tg.rows++;
                  const d = t.peek();
                  t.i++;
                  if (d === 93) break;
                  if (d !== 44) throw new JsonStop('expected "," or "]"', t.at - 1);
                }
              else t.i++;
            }
          }
          const d = t.peek();
          t.i++;
          if (d === 125) break;
          if (d !== 44) throw new JsonStop('expected "," or "}"', t.at - 1);
        }
      else t.i++;
      for (const [key, tg] of byKey)
        if (!seen.has(key))
          throw new JsonStop(`${path} has no key "${excerpt(key)}" (for input "${tg.input.name}")`, 0);
    } else if (c === 91) {
      // A list of records: each input takes its fields (numbers), in the columns' order.
      const fields = new Map<string, [Target, number][]>();
      for (const tg of targets) {
        const names = columnsOf(spec, tg.input.name);
        const per = perSample(tg.input);
        if (per !== undefined && names.length !== per)
          throw new JsonStop(
            `input "${tg.input.name}" takes ${per} values per sample, ${names.length} fields are named`,
            0,
          );
        names.forEach((n, k) => {
          fields.set(n, [...(fields.get(n) ?? []), [tg, k]]);
        });
      }
      const row: number[][] = targets.map((tg) => new Array<number>(columnsOf(spec, tg.input.name).length));
      const index = new Map(targets.map((tg, k) => [tg, k]));
      t.i++;
      let r = 0;
      if (t.peek() !== 93)
        for (;;) {
          const off = t.at;
          t.expect(123, `record ${r} to be an object`);
          for (const a of row) a.fill(Number.NaN);
          let found = 0;
          if (t.peek() !== 125)
            for (;;) {
              const key = t.string();
              t.expect(58, '":"');
              const to = fields.get(key);
              if (!to) t.skip();
              else {
                const voff = t.at;
                if (t.peek() === 91 || t.peek() === 34 || t.peek() > 96)
                  throw new JsonStop(`field "${excerpt(key)}" of record ${r} is not a number`, voff);
                const v = t.number();
                if (v !== v) throw new JsonStop(`field "${excerpt(key)}" of record ${r} is not a finite number`, voff);
                for (const [tg, k] of to) {
                  if (Number.isNaN(row[index.get(tg)!]![k]!)) found++;
                  row[index.get(tg)!]![k] = v;
                }
              }
              const d = t.peek();
              t.i++;
              if (d === 125) break;
              if (d !== 44) throw new JsonStop('expected "," or "}"', t.at - 1);
            }
          else t.i++;
          if (found !== [...fields.values()].reduce((a, l) => a + l.length, 0)) {
            const missing = [...fields.keys()].find((k) =>
              fields.get(k)!.some(([tg, j]) => Number.isNaN(row[index.get(tg)!]![j]!)),
            );
            throw new JsonStop(`record ${r} has no field "${excerpt(missing ?? '')}"`, off);
          }
          targets.forEach((tg, k) => {
            for (const v of row[k]!) put(tg, v, off);
            tg.rows++;
          });
          r++;
          const d = t.peek();
          t.i++;
          if (d === 93) break;
          if (d !== 44) throw new JsonStop('expected "," or "]"', t.at - 1);
        }
      else t.i++;
    } else throw new JsonStop('a JSON data file holds an object (input -> rows) or a list of records', t.at);
    if (t.peek() !== -1) throw new JsonStop('more text after the JSON value', t.at);
    const out = new Map<string, Column>();
    for (const tg of targets) {
      const values = tg.values.finish();
      const batched = perSample(tg.input) !== undefined;
      const where = at(['file']);
      out.set(tg.input.name, {
        input: tg.input,
        rowSize: batched ? tg.dims.reduce((a, b) => a * b, 1) : values.length,
        rows: batched ? tg.rows : 1,
        values,
        batched,
        loc: () => where,
        where,
      });
    }
    return out;
  } finally {
    report(reached(), true);
    f.close();
  }
}

/** A JsonStop as a positioned DataError. */
export function jsonError(e: JsonStop, spec: FileSpec): GraphError {
  const f = openData(spec.io, spec.path);
  try {
    return new DataError(e.message, offsetLoc(f, spec.path, e.offset));
  } finally {
    f.close();
  }
}

export { JsonStop } from './json-tokens.js';
