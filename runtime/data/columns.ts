// Training and validation data as columns, one per input, checked against the inputs' shapes
// with the position of the offending row (in the YAML or the data file), and turned into flat
// arrays once. Data files are read here, on demand (sources.ts), not when the graph loads.

import { DataError, NameError, type GraphError, type SourceLoc } from '../errors.js';
import { suggest } from '../load/hint.js';
import type { DataSource, InputDecl, Located, Model } from '../load/model.js';
import { flatten } from '../load/values.js';
import { fmt, sampleShape } from './shapes.js';
import { readSources } from './sources.js';

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

/**
 * Training data columns, one per input, checked; errors name the row. `what` names the data in
 * messages, and `source` replaces the training data (validation data is checked the same way).
 */
export function trainingColumns(
  model: Model,
  errors: GraphError[],
  what = 'training data',
  source?: DataSource,
): Map<string, Column> | null {
  const t0 = model.training;
  if (!t0) return null;
  // An unreadable data file has reported its own errors; checking its absent columns adds noise.
  const read = readSources(model, errors);
  if (!read) return null;
  const data = source && source !== t0.data ? read.get(source)! : undefined;
  const t = { ...t0, data: data ?? read.get(t0.data)! };
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
    const src = source ?? t0.data;
    const c = column(input, col, errors, src.kind === 'file' ? (src.columns?.[name] ?? name) : undefined);
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

/** One input's column; `mapped` is the data file's column (or columns) it takes, if from a file. */
function column(
  input: InputDecl,
  col: Located<unknown[]>,
  errors: GraphError[],
  mapped?: string | string[],
): Column | null {
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
  // Rows of the wrong shape: one error, at the first, counting the rest (a whole column of them
  // is one mistake in the declaration or the column mapping, not one per row).
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
  if (misshaped) errors.push(shapeError(input, per, misshaped, col, mapped));
  return ok ? { input, rowSize, rows: col.value.length, values, batched: true, loc: (r) => col.itemLoc(r) } : null;
}

/** The error for rows shaped unlike the input's samples, with the likely fix as its hint. */
function shapeError(
  input: InputDecl,
  per: (number | string)[],
  m: { r: number; shape: number[]; count: number },
  col: Located<unknown[]>,
  mapped: string | string[] | undefined,
): DataError {
  const others = m.count > 1 ? ` (and ${m.count - 1} more row${m.count > 2 ? 's' : ''} like it)` : '';
  const at = col.itemLoc(m.r);
  // One value per row where the input wants [batch, 1]: a column named alone instead of in a list.
  const hint =
    m.shape.length === 0 && per.length === 1 && per[0] === 1
      ? typeof mapped === 'string'
        ? `name the column in a list to give each sample shape [1] (columns: {${input.name}: [${mapped}]}), or declare "${input.name}" with shape [batch]`
        : `write each row as a one-element list ([[1], [0], ...]), or declare "${input.name}" with shape [batch]`
      : `input "${input.name}" is declared with shape ${fmt(input.shape)}`;
  return new DataError(
    `row ${m.r} of "${input.name}" has shape ${fmt(m.shape)}, each sample of input "${input.name}" has shape ${fmt(per)}${others}`,
    at,
    undefined,
    hint,
  );
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
