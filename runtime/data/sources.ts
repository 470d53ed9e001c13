// The columns of a model's training and validation data, from its description (DataSource):
// inline rows as written, data files read through the LoaderIO the graph was loaded with.
// Each model's data is read once per float dtype; a later call reports the same errors again.

import { DataError, NameError, type GraphError } from '../errors.js';
import type { FloatDType } from '../ir/types.js';
import { suggest } from '../load/hint.js';
import type { DataSource, Model, TrainingDecl } from '../load/model.js';
import { inputFileColumn } from './arrays.js';
import { checkColumn, type Column } from './column.js';
import { readDataFile } from './files.js';

type Cols = Map<string, Column>;
type Read = { cols: Map<DataSource, Cols> | null; errors: GraphError[] };

const cache = new WeakMap<TrainingDecl, Map<FloatDType, Read>>();

/**
 * Columns per data source of the model's training section (training data, and validation data
 * given apart), or null when a data file could not be used: its errors are added to `errors`,
 * and no data check follows (checking absent columns would only add noise).
 */
export function readSources(
  model: Model,
  errors: GraphError[],
  float: FloatDType = 'f32',
): Map<DataSource, Cols> | null {
  const t = model.training;
  if (!t) return null;
  let byFloat = cache.get(t);
  if (!byFloat) cache.set(t, (byFloat = new Map()));
  let r = byFloat.get(float);
  if (!r) {
    const errs: GraphError[] = [];
    const cols = new Map<DataSource, Cols>();
    let ok = true;
    const v = t.validation;
    const sources: [DataSource, string][] = [[t.data, 'training data']];
    if (v && 'data' in v) sources.push([v.data, 'validation data']);
    for (const [source, what] of sources) {
      const got = columnsOf(source, model, what, float, errs);
      if (got) cols.set(source, got);
      else ok = false;
    }
    r = { cols: ok ? cols : null, errors: errs };
    byFloat.set(float, r);
  }
  errors.push(...r.errors);
  return r.cols;
}

/**
 * Check the model's data as far as its headers tell, without reading the values of its files:
 * inline rows in full; a CSV file's header (its columns exist, as many as each input takes); a
 * binary file's header (shape and dtype against the input, its size against its claims); that a
 * JSON file can be opened. What validation reads. False when a data source cannot be used.
 */
export function checkDataHeaders(model: Model, errors: GraphError[]): boolean {
  const t = model.training;
  if (!t) return true;
  const v = t.validation;
  const sources: [DataSource, string][] = [[t.data, 'training data']];
  if (v && 'data' in v) sources.push([v.data, 'validation data']);
  let ok = true;
  for (const [source, what] of sources) if (!columnsOf(source, model, what, 'f32', errors, true)) ok = false;
  return ok;
}

function columnsOf(
  source: DataSource,
  model: Model,
  what: string,
  float: FloatDType,
  errors: GraphError[],
  headOnly = false,
): Cols | null {
  const before = errors.length;
  const inputs = new Map(model.inputs.map((i) => [i.name, i]));
  const out: Cols = new Map();
  if (source.kind === 'file') {
    const got = readDataFile(source, model.inputs, errors, float, headOnly);
    if (!got) return null;
    for (const [k, c] of got) out.set(k, c);
  } else {
    for (const [name, col] of source.columns) {
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
      const c = checkColumn(input, col, errors, float);
      if (c) out.set(name, c);
    }
    for (const [name, spec] of source.files ?? []) {
      const input = inputs.get(name);
      if (!input) {
        errors.push(
          new NameError(
            `${what} for unknown input "${name}"`,
            spec.at([], true),
            undefined,
            suggest(name, inputs.keys(), 'inputs'),
          ),
        );
        continue;
      }
      const c = inputFileColumn(input, spec, float, errors, headOnly);
      if (typeof c === 'object') out.set(name, c);
    }
    for (const i of model.inputs) {
      // Inputs the runtime feeds (step, epoch) have no data.
      if (!source.columns.has(i.name) && !source.files?.has(i.name) && !i.provided)
        errors.push(
          new DataError(
            `${what} has no column for input "${i.name}"`,
            model.training!.loc,
            undefined,
            `add ${i.name}: [...] under training.data`,
          ),
        );
    }
  }
  // A column with bad rows has reported them; the cross-column checks wait for good columns.
  return errors.length > before && source.kind === 'file' ? null : out;
}
