// Training and validation data as columns, one per input, checked against the inputs' shapes
// with the position of the offending row (in the YAML or the data file), in typed arrays of the
// dtype the program computes in. Data files are read here, on demand (sources.ts), not when the
// graph loads.

import { DataError, type GraphError } from '../errors.js';
import type { FloatDType } from '../ir/types.js';
import type { DataSource, Model } from '../load/model.js';
import type { Column } from './column.js';
import { readSources } from './sources.js';

export { arrayColumn, checkColumn, columnDType, type ArraySource, type Column } from './column.js';

/**
 * Training data columns, one per input, checked; errors name the row. `what` names the data in
 * messages, and `source` replaces the training data (validation data is checked the same way).
 * `float` is the program's float dtype: float inputs' columns are Float32Array or Float64Array.
 */
export function trainingColumns(
  model: Model,
  errors: GraphError[],
  what = 'training data',
  source?: DataSource,
  float: FloatDType = 'f32',
): Map<string, Column> | null {
  const t0 = model.training;
  if (!t0) return null;
  // An unreadable data file has reported its own errors; checking its absent columns adds noise.
  const read = readSources(model, errors, float);
  if (!read) return null;
  const data = source && source !== t0.data ? read.get(source) : undefined;
  const t = { ...t0, cols: data ?? read.get(t0.data)! };
  const cols = new Map<string, Column>();
  let n: number | undefined, first: string | undefined;
  for (const [name, c] of t.cols) {
    if (c.batched) {
      if (n === undefined) [n, first] = [c.rows, name];
      else if (c.rows !== n) {
        errors.push(
          new DataError(
            `${what} "${name}" has ${c.rows} rows, "${first}" has ${n}`,
            c.where ?? c.loc(0),
            undefined,
            'every data column needs one row per sample',
          ),
        );
        continue;
      }
    }
    cols.set(name, c);
  }
  if (n !== undefined && t.batchSize > n && !data) {
    errors.push(
      new DataError(`batch_size ${t.batchSize} is larger than the data (${n} rows)`, t.batchSizeLoc ?? t.loc),
    );
  }
  return cols;
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
  float: FloatDType = 'f32',
): { train: Map<string, Column> | null; val: Map<string, Column> | null } {
  const train = trainingColumns(model, errors, 'training data', undefined, float);
  const t = model.training;
  const v = t?.validation;
  if (!train || !t || !v) return { train, val: null };
  if (!('split' in v)) return { train, val: trainingColumns(model, errors, 'validation data', v.data, float) };
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
  // Views, not copies: both parts share the training column's buffer.
  const part = (c: Column, from: number, to: number): Column =>
    c.batched
      ? {
          ...c,
          rows: to - from,
          values: c.values.subarray(from * c.rowSize, to * c.rowSize),
          loc: (r) => c.loc(r + from),
        }
      : c;
  const a = new Map<string, Column>(),
    b = new Map<string, Column>();
  for (const [k, c] of train) {
    a.set(k, part(c, 0, cut));
    b.set(k, part(c, cut, n));
  }
  return { train: a, val: b };
}
