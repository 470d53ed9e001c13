// One input's data as a column: a typed array in the dtype the program computes in (f32 or f64
// for float inputs, i32 for integer ones), checked against the input's shape. Two ways in:
// nested lists as YAML (and JSON records) write them, and flat arrays with a shape, as binary
// files and the text fast paths hand them over.

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import type { DType, FloatDType, TypedArray } from '../ir/types.js';
import type { InputDecl, Located } from '../load/model.js';
import { flatten } from '../load/values.js';
import { fmt, sampleShape } from './shapes.js';

export interface Column {
  input: InputDecl;
  /** Elements per row (per sample), or the whole value for inputs without a batch axis. */
  rowSize: number;
  rows: number;
  /** rows * rowSize values, row-major, in the input's dtype (columnDType). */
  values: TypedArray;
  batched: boolean;
  /** Where row r of the data is written (YAML or data file), for errors about its values. */
  loc: (row: number) => SourceLoc;
  /** Where the column as a whole is named (its key in the YAML, its file spec). */
  where?: SourceLoc;
}

/** The dtype a column of `input` holds in a program computing in `float`. */
export function columnDType(input: InputDecl, float: FloatDType): DType {
  return input.dtype === 'float' ? float : input.dtype;
}

/** A typed array of `n` values in `dtype`. */
export function columnArray(dtype: DType, n: number): TypedArray {
  return dtype === 'i32' ? new Int32Array(n) : dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
}

/** Values per sample of a batched input (its shape without `batch`), or undefined when not batched. */
export function perSample(input: InputDecl): number | undefined {
  const per = sampleShape(input);
  if (!per) return undefined;
  let n = 1;
  for (const d of per) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

/** Elements of an input without a batch axis. */
function wholeSize(input: InputDecl): number {
  return input.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
}

/**
 * A column from nested lists (inline YAML rows, JSON): each row shaped like a sample of the
 * input, every value finite, whole numbers for i32 inputs; errors name the row at its position.
 */
export function checkColumn(
  input: InputDecl,
  col: Located<unknown[]>,
  errors: GraphError[],
  float: FloatDType = 'f32',
): Column | null {
  const dtype = columnDType(input, float);
  const per = sampleShape(input);
  if (!per) {
    const f = flatten(col.value);
    if (typeof f === 'string') {
      errors.push(new DataError(`data for "${input.name}": ${f}`, col.loc));
      return null;
    }
    if (f.shape.join(',') !== input.shape.join(',')) {
      errors.push(
        new DataError(`data for "${input.name}" has shape ${fmt(f.shape)}, the input has ${fmt(input.shape)}`, col.loc),
      );
      return null;
    }
    const values = columnArray(dtype, f.values.length);
    values.set(f.values);
    return { input, rowSize: f.values.length, rows: 1, values, batched: false, loc: () => col.loc, where: col.loc };
  }
  const rowSize = per.reduce<number>((a, d) => a * (d as number), 1);
  const values = columnArray(dtype, rowSize * col.value.length);
  let ok = true;
  // Rows of the wrong shape: one error, at the first, counting the rest (a whole column of them
  // is one mistake in the declaration, not one per row).
  let misshaped: { r: number; shape: number[]; count: number } | undefined;
  col.value.forEach((row, r) => {
    const f = flatten(row);
    if (typeof f === 'string') {
      errors.push(new DataError(`row ${r} of "${input.name}": ${f}`, col.itemLoc(r)));
      ok = false;
      return;
    }
    if (f.shape.join(',') !== per.join(',')) {
      if (misshaped) misshaped.count++;
      else misshaped = { r, shape: f.shape, count: 1 };
      ok = false;
      return;
    }
    let k = r * rowSize;
    for (const v of f.values) {
      const bad = valueProblem(v, dtype);
      if (bad) {
        errors.push(new DataError(`row ${r} of "${input.name}" holds ${v}${bad}`, col.itemLoc(r)));
        ok = false;
      }
      values[k++] = v;
    }
  });
  if (misshaped) errors.push(shapeError(input, per, misshaped, col.itemLoc(misshaped.r)));
  return ok
    ? { input, rowSize, rows: col.value.length, values, batched: true, loc: (r) => col.itemLoc(r), where: col.loc }
    : null;
}

/** The error for rows shaped unlike the input's samples, with the likely fix as its hint. */
function shapeError(
  input: InputDecl,
  per: (number | string)[],
  m: { r: number; shape: number[]; count: number },
  at: SourceLoc,
): DataError {
  const others = m.count > 1 ? ` (and ${m.count - 1} more row${m.count > 2 ? 's' : ''} like it)` : '';
  // Plain numbers where the input wants [batch, 1]: each row should be a one-element list.
  const hint =
    m.shape.length === 0 && per.length === 1 && per[0] === 1
      ? `write each row as a one-element list ([[1], [0], ...]), or declare "${input.name}" with shape [batch]`
      : `input "${input.name}" is declared with shape ${fmt(input.shape)}`;
  return new DataError(
    `row ${m.r} of "${input.name}" has shape ${fmt(m.shape)}, each sample of input "${input.name}" has shape ${fmt(per)}${others}`,
    at,
    undefined,
    hint,
  );
}

/** Why a value cannot stand in a column of `dtype` ('' when it can). */
export function valueProblem(v: number, dtype: DType): string {
  if (!Number.isFinite(v)) return '; data values must be finite numbers';
  if (dtype === 'i32' && !Number.isInteger(v)) return `; the input is i32 and takes whole numbers`;
  if (dtype === 'i32' && (v < -2147483648 || v > 2147483647)) return '; it does not fit an i32';
  return '';
}

/** A flat array read from a file: its values (any numeric typed array), shape and element kind. */
export interface ArraySource {
  /** Where the array comes from, for messages: `train.npz` array "x_train". */
  what: string;
  shape: number[];
  /** Whole numbers only (an integer dtype in the file). */
  integer: boolean;
  /** The file's dtype name as written in messages ('<f4', 'U8', 'uint8'). */
  dtype: string;
  values: ArrayLike<number>;
}

/**
 * A column from a flat array with a shape (binary files): the shape must be [rows, ...] with as
 * many values per row as a sample of the input has (samples are taken in row-major order, so an
 * image array [n, 28, 28] feeds an input [batch, 784]); integer inputs take integer arrays only.
 * `scale` multiplies every value (u8 pixels to [0, 1]). At most one copy: an array already in the
 * column's dtype without a scale is used as it is.
 */
export function arrayColumn(
  input: InputDecl,
  src: ArraySource,
  at: SourceLoc,
  errors: GraphError[],
  float: FloatDType = 'f32',
  scale?: number,
): Column | null {
  const dtype = columnDType(input, float);
  const per = perSample(input);
  const n = src.values.length;
  const rows = per === undefined ? 1 : src.shape.length ? src.shape[0]! : 1;
  const rowSize = per ?? wholeSize(input);
  if (!arrayFits(input, src, at, errors, float)) return null;
  let values: TypedArray;
  const v = src.values;
  const same =
    scale === undefined &&
    ((dtype === 'f32' && v instanceof Float32Array) ||
      (dtype === 'f64' && v instanceof Float64Array) ||
      (dtype === 'i32' && v instanceof Int32Array));
  if (same) values = v as TypedArray;
  else {
    values = columnArray(dtype, n);
    const s = scale ?? 1;
    if (s === 1) values.set(v);
    else if (v instanceof Uint8Array && values instanceof Float32Array) scaleBytes(v, s, values);
    else for (let i = 0; i < n; i++) values[i] = v[i]! * s;
  }
  // Bytes (IDX images) times a finite scale are finite: nothing to look for.
  const small =
    (v instanceof Uint8Array || v instanceof Int8Array) && dtype !== 'i32' && Number.isFinite(256 * (scale ?? 1));
  const bad = small ? -1 : firstBad(values, dtype, v);
  if (bad >= 0) {
    const x = v[bad]!;
    errors.push(
      new DataError(
        `${src.what}: row ${Math.floor(bad / Math.max(1, rowSize))} holds ${x}${Number.isFinite(x) ? ', which does not fit an i32' : '; data values must be finite numbers'}`,
        at,
      ),
    );
    return null;
  }
  return { input, rowSize, rows, values, batched: per !== undefined, loc: () => at, where: at };
}

/**
 * Whether an array of `src.shape` and element kind fits `input` (arrayColumn's checks, without
 * the values: what a header tells).
 */
export function arrayFits(
  input: InputDecl,
  src: Omit<ArraySource, 'values'>,
  at: SourceLoc,
  errors: GraphError[],
  float: FloatDType = 'f32',
): boolean {
  const dtype = columnDType(input, float);
  const per = perSample(input);
  const n = src.shape.reduce((a, b) => a * b, 1);
  const rowSize = per ?? wholeSize(input);
  const theirs = src.shape.length > 1 ? src.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  if (per === undefined ? n !== rowSize : src.shape.length === 0 || theirs !== per) {
    errors.push(
      new DataError(
        `${src.what} has shape ${fmt(src.shape)}${per === undefined ? '' : ` (${theirs} value${theirs === 1 ? '' : 's'} per sample)`}, input "${input.name}" has ${fmt(input.shape)}${per === undefined ? '' : ` (${per} per sample)`}`,
        at,
        undefined,
        per === undefined ? undefined : 'the first axis counts samples; the rest must hold as many values as a sample',
      ),
    );
    return false;
  }
  if (dtype === 'i32' && !src.integer) {
    errors.push(
      new DataError(
        `${src.what} holds ${src.dtype} values; input "${input.name}" is i32 and takes an integer array`,
        at,
        undefined,
        'store labels as integers (uint8, int32 or int64)',
      ),
    );
    return false;
  }
  return true;
}

/** u8 pixels times `s` into f32 (one monomorphic loop: the general one reads through ArrayLike). */
function scaleBytes(v: Uint8Array, s: number, out: Float32Array): void {
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * s;
}

/** Index of the first value that is not finite (or, for i32, that the conversion changed); -1 if none. */
function firstBad(values: TypedArray, dtype: DType, src: ArrayLike<number>): number {
  const n = values.length;
  if (dtype === 'i32') {
    if (src === values) return -1;
    for (let i = 0; i < n; i++) if (values[i] !== src[i]) return i;
    return -1;
  }
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (x - x !== 0) return i;
  }
  return -1;
}
