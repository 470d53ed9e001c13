// The rows of a model's training and validation data, from its description (DataSource):
// inline rows as written, data files read through the LoaderIO the graph was loaded with.
// Each model's files are read once; a later call reports the same errors again.

import type { GraphError } from '../errors.js';
import type { DataSource, Located, Model, TrainingDecl } from '../load/model.js';
import { readDataFile } from './files.js';

type Rows = Map<string, Located<unknown[]>>;

const cache = new WeakMap<TrainingDecl, { rows: Map<DataSource, Rows> | null; errors: GraphError[] }>();

/**
 * Rows per data source of the model's training section (training data, and validation data
 * given apart), or null when a data file could not be used: its errors are added to `errors`,
 * and no data check follows (checking absent columns would only add noise).
 */
export function readSources(model: Model, errors: GraphError[]): Map<DataSource, Rows> | null {
  const t = model.training;
  if (!t) return null;
  let r = cache.get(t);
  if (!r) {
    const errs: GraphError[] = [];
    const rows = new Map<DataSource, Rows>();
    let ok = true;
    const v = t.validation;
    for (const source of [t.data, ...(v && 'data' in v ? [v.data] : [])]) {
      const got = rowsOf(source, model, errs);
      if (got) rows.set(source, got);
      else ok = false;
    }
    r = { rows: ok ? rows : null, errors: errs };
    cache.set(t, r);
  }
  errors.push(...r.errors);
  return r.rows;
}

function rowsOf(source: DataSource, model: Model, errors: GraphError[]): Rows | null {
  return source.kind === 'inline' ? source.columns : readDataFile(source, model.inputs, errors);
}
