// Data checks and conversion: rows given in YAML (training data, predictions, feeds) are
// checked against the inputs' shapes, with the position of the offending row, and turned
// into flat typed arrays once.

import { DataError, NameError, type GraphError, type SourceLoc } from '../errors.js';
import { flatten } from '../load/resolve.js';
import type { Dim, InputDecl, Located, Model } from '../load/model.js';
import { suggest } from '../load/hint.js';

export interface Column {
  input: InputDecl;
  /** Elements per row (per sample), or the whole value for inputs without a batch axis. */
  rowSize: number;
  rows: number;
  values: number[];
  batched: boolean;
  /** Where row r of the data is written (YAML or data file), for errors about its values. */
  loc: (row: number) => SourceLoc;
}

function sampleShape(i: InputDecl): Dim[] | null {
  return i.shape[0] === 'batch' ? i.shape.slice(1) : null;
}

function fmt(shape: Dim[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Training data columns, one per input, checked; errors name the row. `what` names the data in
 * messages, and `data` replaces the training data (validation data is checked the same way).
 */
export function trainingColumns(
  model: Model,
  errors: GraphError[],
  what = 'training data',
  data?: Map<string, Located<unknown[]>>,
): Map<string, Column> | null {
  const t0 = model.training;
  // An unreadable data file has reported its own errors; checking its absent columns adds noise.
  if (!t0 || t0.unread) return null;
  const t = data ? { ...t0, data } : t0;
  const cols = new Map<string, Column>();
  const inputs = new Map(model.inputs.map((i) => [i.name, i]));
  let n: number | undefined, first: string | undefined;
  for (const [name, col] of t.data) {
    const input = inputs.get(name);
    if (!input) {
      errors.push(
        new NameError(
          `${what} for unknown input "${name}"`,
          col.loc,
          undefined,
          suggest(name, inputs.keys(), 'inputs'),
        ),
      );
      continue;
    }
    const c = column(input, col, errors);
    if (!c) continue;
    if (c.batched) {
      if (n === undefined) [n, first] = [c.rows, name];
      else if (c.rows !== n) {
        errors.push(
          new DataError(
            `${what} "${name}" has ${c.rows} rows, "${first}" has ${n}`,
            col.loc,
            undefined,
            'every data column needs one row per sample',
          ),
        );
        continue;
      }
    }
    cols.set(name, c);
  }
  for (const i of model.inputs) {
    // Inputs the runtime feeds (step, epoch) have no data.
    if (!t.data.has(i.name) && !i.provided)
      errors.push(
        new DataError(
          `${what} has no column for input "${i.name}"`,
          t.loc,
          undefined,
          `add ${i.name}: [...] under training.data`,
        ),
      );
  }
  if (n !== undefined && t.batchSize > n && !data) {
    errors.push(
      new DataError(`batch_size ${t.batchSize} is larger than the data (${n} rows)`, t.batchSizeLoc ?? t.loc),
    );
  }
  return cols;
}

function column(input: InputDecl, col: Located<unknown[]>, errors: GraphError[]): Column | null {
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
    return { input, rowSize: f.values.length, rows: 1, values: f.values, batched: false, loc: () => col.loc };
  }
  const values: number[] = [];
  const rowSize = per.reduce<number>((a, d) => a * (d as number), 1);
  let ok = true;
  col.value.forEach((row, r) => {
    const f = flatten(row);
    if (typeof f === 'string') {
      errors.push(new DataError(`row ${r} of "${input.name}": ${f}`, col.itemLoc(r)));
      ok = false;
      return;
    }
    if (f.shape.join(',') !== per.join(',')) {
      errors.push(
        new DataError(
          `row ${r} of "${input.name}" has shape ${fmt(f.shape)}, each sample of input "${input.name}" has shape ${fmt(per)}`,
          col.itemLoc(r),
          undefined,
          `input "${input.name}" is declared with shape ${fmt(input.shape)}`,
        ),
      );
      ok = false;
      return;
    }
    for (const v of f.values) {
      if (!Number.isFinite(v)) {
        errors.push(new DataError(`row ${r} of "${input.name}" holds ${v}`, col.itemLoc(r)));
        ok = false;
      } else if (input.dtype === 'i32' && !Number.isInteger(v)) {
        errors.push(
          new DataError(
            `row ${r} of "${input.name}" holds ${v}; input "${input.name}" is i32 and takes whole numbers`,
            col.itemLoc(r),
          ),
        );
        ok = false;
      }
      values.push(v);
    }
  });
  return ok ? { input, rowSize, rows: col.value.length, values, batched: true, loc: (r) => col.itemLoc(r) } : null;
}

/**
 * Values for one run (a prediction or a feed): each input gets either one sample (shape
 * without the batch axis) or a whole batch. Returns the batch size and flat values.
 */
export function feedValues(
  model: Model,
  feed: Map<string, Located<unknown>>,
  errors: GraphError[],
  what: string,
  needed: Set<string> | undefined,
  where: SourceLoc,
): { batch: number; values: Map<string, number[]> } | null {
  const inputs = new Map(model.inputs.map((i) => [i.name, i]));
  const values = new Map<string, number[]>();
  let batch: number | undefined;
  let ok = true;
  for (const [name, v] of feed) {
    const input = inputs.get(name);
    if (!input) {
      errors.push(
        new NameError(
          `${what} gives a value for unknown input "${name}"`,
          v.loc,
          undefined,
          suggest(name, inputs.keys(), 'inputs'),
        ),
      );
      ok = false;
      continue;
    }
    const f = flatten(v.value);
    if (typeof f === 'string') {
      errors.push(new DataError(`${what}: value of "${name}": ${f}`, v.loc));
      ok = false;
      continue;
    }
    const per = sampleShape(input);
    let b = 1;
    if (per && f.shape.length === per.length + 1 && f.shape.slice(1).join(',') === per.join(',')) b = f.shape[0]!;
    else if (per ? f.shape.join(',') !== per.join(',') : f.shape.join(',') !== input.shape.join(',')) {
      errors.push(
        new DataError(
          `${what}: value of "${name}" has shape ${fmt(f.shape)}, expected ${fmt(per ?? input.shape)}${per ? ` (one sample) or [n, ${per.join(', ')}]` : ''}`,
          v.loc,
        ),
      );
      ok = false;
      continue;
    }
    if (per) {
      if (batch !== undefined && b !== batch) {
        errors.push(new DataError(`${what}: "${name}" has ${b} samples, other inputs have ${batch}`, v.loc));
        ok = false;
        continue;
      }
      batch = b;
    }
    values.set(name, f.values);
  }
  for (const i of model.inputs) {
    if (!values.has(i.name) && !i.provided && (needed === undefined || needed.has(i.name)) && !feed.has(i.name)) {
      errors.push(
        new DataError(`${what} has no value for input "${i.name}"`, where, undefined, `add ${i.name}: ... to it`),
      );
      ok = false;
    }
  }
  return ok ? { batch: batch ?? 1, values } : null;
}

/** Rows of the batched columns (0 when there are none). */
export function rowCount(cols: Map<string, Column> | null): number {
  return Math.max(0, ...[...(cols?.values() ?? [])].filter((c) => c.batched).map((c) => c.rows));
}

/**
 * Training and validation columns. A validation `split` takes the last rows of the training
 * data (as Keras's validation_split: the first floor(n * (1 - split)) rows train); a validation
 * file or inline data is checked like training data.
 */
export function trainingSets(
  model: Model,
  errors: GraphError[],
): { train: Map<string, Column> | null; val: Map<string, Column> | null } {
  const train = trainingColumns(model, errors);
  const t = model.training;
  const v = t?.validation;
  if (!train || !t || !v) return { train, val: null };
  if (!('split' in v)) return { train, val: trainingColumns(model, errors, 'validation data', v.data) };
  const n = rowCount(train);
  const cut = Math.floor(n * (1 - v.split));
  if (cut < 1 || cut >= n) {
    errors.push(
      new DataError(
        `a validation split of ${v.split} leaves ${cut} of ${n} rows for training and ${n - cut} for validation; both need at least one`,
        v.loc,
      ),
    );
    return { train, val: null };
  }
  if (t.batchSize > cut) {
    errors.push(
      new DataError(
        `batch_size ${t.batchSize} is larger than the training data left after the validation split (${cut} rows)`,
        t.batchSizeLoc ?? t.loc,
      ),
    );
  }
  const part = (c: Column, from: number, to: number): Column =>
    c.batched
      ? { ...c, rows: to - from, values: c.values.slice(from * c.rowSize, to * c.rowSize), loc: (r) => c.loc(r + from) }
      : c;
  const a = new Map<string, Column>(),
    b = new Map<string, Column>();
  for (const [k, c] of train) {
    a.set(k, part(c, 0, cut));
    b.set(k, part(c, cut, n));
  }
  return { train: a, val: b };
}
