// A data set named at run time (`graph-run eval --data`, `predict --data`, the library's
// readDataset): a data file read with the graph's column spec and checked like training data,
// or arrays in memory (trainOn, evaluate, predict from code) checked against the inputs' shapes.
// Built on the data stage's own readers (trainingColumns): the same formats, positions and checks.

import { DataError, GraphErrors, NameError, type GraphError, type SourceLoc } from '../errors.js';
import { suggest } from '../load/hint.js';
import type { FloatDType } from '../ir/types.js';
import type { LoaderIO } from '../load/io.js';
import type { DataSource, InputDecl, Model } from '../load/model.js';
import { arrayColumn, type Column, rowCount, trainingColumns } from './columns.js';
import { fmt, sampleShape } from './shapes.js';

/** Rows of data, one column per input (in data order). */
export interface Dataset {
  columns: Map<string, Column>;
  rows: number;
}

/** Options of readDataset: which inputs, which columns, which float dtype. */
export interface ReadDatasetOptions {
  /** The inputs the file must hold (default: every input data feeds; predictions need fewer). */
  inputs?: ReadonlySet<string>;
  /** Input -> column(s) of the file; default: `training.data`'s `columns:` when it is a file. */
  columns?: Record<string, string | string[]>;
  /** The float dtype of the session that will run it: float inputs' columns are f32 or f64 arrays. */
  float?: FloatDType;
}

/**
 * Read a data file (CSV, JSON, and whatever else `training.data` takes) into checked columns:
 * the graph's column spec, each input's shape and dtype, errors positioned in the file (or at
 * the column spec in the graph). Throws GraphErrors. `path` may instead map each input to a
 * binary array file of its own (`{image: 'test-images.idx', label: 'test-labels.idx'}`), read
 * as the graph's per-input training files are (their `array:` and `scale:` apply).
 * @example const test = readDataset(model, 'data/test.csv', nodeIO()); session.evaluateData(test);
 */
export function readDataset(
  model: Model,
  path: string | Record<string, string>,
  io: LoaderIO,
  opts: ReadDatasetOptions = {},
): Dataset {
  if (typeof path !== 'string') return readInputFiles(model, path, io, opts);
  const t = model.training;
  const fileLoc: SourceLoc = { file: path, line: 1, col: 1 };
  const wanted = model.inputs.filter((i) => !i.provided && (!opts.inputs || opts.inputs.has(i.name)));
  const names = new Set(wanted.map((i) => i.name));
  const graphSpec = t?.data.kind === 'file' && !opts.columns ? t.data : undefined;
  const spec = opts.columns ?? graphSpec?.columns;
  const errors: GraphError[] = [];
  const all = new Set(model.inputs.filter((i) => !i.provided).map((i) => i.name));
  for (const k of Object.keys(opts.columns ?? {}))
    if (!all.has(k))
      errors.push(new NameError(`columns for unknown input "${k}"`, fileLoc, undefined, suggest(k, all, 'inputs')));
  if (errors.length) throw new GraphErrors(errors);
  const columns = spec && Object.fromEntries(Object.entries(spec).filter(([k]) => names.has(k)));
  const source: DataSource = {
    kind: 'file',
    path,
    ...(columns ? { columns } : {}),
    // The column spec is the graph's (positioned there), the rest is the file's.
    at: (p, key) => (graphSpec && p[0] === 'columns' ? graphSpec.at(p, key) : fileLoc),
    io,
  };
  // The data stage reads and checks a training section's data: give it one that names this file.
  const view: Model = {
    ...model,
    inputs: wanted,
    training: { data: source, epochs: 0, batchSize: 1, logEvery: 1, loc: fileLoc },
  };
  const cols = trainingColumns(view, errors, `data file ${path}`, undefined, opts.float ?? 'f32');
  if (!cols || errors.length) throw new GraphErrors(errors);
  return { columns: cols, rows: rowCount(cols) };
}

/** readDataset over one binary array file per input. */
function readInputFiles(model: Model, paths: Record<string, string>, io: LoaderIO, opts: ReadDatasetOptions): Dataset {
  const first = Object.values(paths)[0] ?? model.file;
  const fileLoc: SourceLoc = { file: first, line: 1, col: 1 };
  const wanted = model.inputs.filter((i) => !i.provided && (!opts.inputs || opts.inputs.has(i.name)));
  const all = new Set(model.inputs.filter((i) => !i.provided).map((i) => i.name));
  const errors: GraphError[] = [];
  for (const k of Object.keys(paths))
    if (!all.has(k))
      errors.push(new NameError(`a data file for unknown input "${k}"`, fileLoc, undefined, suggest(k, all, 'inputs')));
  for (const i of wanted)
    if (paths[i.name] === undefined)
      errors.push(
        new DataError(
          `no data file for input "${i.name}"`,
          fileLoc,
          undefined,
          `give each input its file: ${wanted.map((w) => `${w.name}=FILE`).join(',')}`,
        ),
      );
  if (errors.length) throw new GraphErrors(errors);
  // The graph's own per-input files say how each is read (an .npz member, a scale).
  const d = model.training?.data;
  const own = d?.kind === 'inline' ? d.files : undefined;
  const files = new Map(
    wanted.map((i) => {
      const g = own?.get(i.name);
      const path = paths[i.name]!;
      const at = () => ({ file: path, line: 1, col: 1 });
      return [
        i.name,
        {
          path,
          io,
          at,
          ...(g?.array !== undefined ? { array: g.array } : {}),
          ...(g?.scale ? { scale: g.scale } : {}),
        },
      ];
    }),
  );
  const source: DataSource = { kind: 'inline', columns: new Map(), files };
  const view: Model = {
    ...model,
    inputs: wanted,
    training: { data: source, epochs: 0, batchSize: 1, logEvery: 1, loc: fileLoc },
  };
  const cols = trainingColumns(view, errors, 'data files', undefined, opts.float ?? 'f32');
  if (!cols || errors.length) throw new GraphErrors(errors);
  return { columns: cols, rows: rowCount(cols) };
}

/** Values of one input given in memory: flat (typed array or numbers, row-major) or nested lists. */
export type ArrayValues = ArrayLike<number> | readonly unknown[];

const isFlat = (v: unknown): v is ArrayLike<number> =>
  ArrayBuffer.isView(v) || (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number'));

export interface ArrayDatasetOptions {
  /** Names the data in messages (default "data"). */
  what?: string;
  /** The inputs that need values (default: every input data feeds). */
  inputs?: ReadonlySet<string>;
  /** The float dtype of the session that will run it: float inputs' columns are f32 or f64 arrays. */
  float?: FloatDType;
  /** Where errors point (default: the graph file). */
  where?: SourceLoc;
}

/**
 * Arrays in memory as a data set: each input's values flat (a typed array, or numbers, row
 * after row) or as nested lists of rows. Every input data feeds needs values (or only those in
 * `inputs`); each must hold whole rows, and all the same number of rows. A typed array already
 * in the column's dtype is used without a copy. Throws GraphErrors.
 * @example arrayDataset(model, { x: Float32Array.of(0, 1, 1, 0), y: [1, 0] }) // 2 rows of x: [batch, 2]
 */
export function arrayDataset(
  model: Model,
  arrays: Record<string, ArrayValues>,
  opts: ArrayDatasetOptions = {},
): Dataset {
  const what = opts.what ?? 'data';
  const where = opts.where ?? { file: model.file, line: 1, col: 1 };
  const errors: GraphError[] = [];
  const decls = new Map(model.inputs.map((i) => [i.name, i]));
  const columns = new Map<string, Column>();
  let rows: number | undefined, first: string | undefined;
  for (const [name, v] of Object.entries(arrays)) {
    const input = decls.get(name);
    if (!input || input.provided) {
      errors.push(
        new NameError(`${what} for unknown input "${name}"`, where, undefined, suggest(name, decls.keys(), 'inputs')),
      );
      continue;
    }
    const c = inMemoryColumn(input, v, what, where, errors, opts.float ?? 'f32');
    if (!c) continue;
    if (c.batched) {
      if (rows === undefined) [rows, first] = [c.rows, name];
      else if (c.rows !== rows) {
        errors.push(new DataError(`${what}: "${name}" has ${c.rows} rows, "${first}" has ${rows}`, where));
        continue;
      }
    }
    columns.set(name, c);
  }
  for (const i of model.inputs)
    if (!i.provided && !(i.name in arrays) && (!opts.inputs || opts.inputs.has(i.name)))
      errors.push(new DataError(`${what} has no values for input "${i.name}"`, where, undefined, `add ${i.name}: ...`));
  if (errors.length) throw new GraphErrors(errors);
  return { columns, rows: rows ?? 0 };
}

/** One input's values in memory as a column: whole rows counted, then checked and converted by arrayColumn. */
function inMemoryColumn(
  input: InputDecl,
  v: ArrayValues,
  what: string,
  where: SourceLoc,
  errors: GraphError[],
  float: FloatDType,
): Column | null {
  const per = sampleShape(input);
  if (!(per ?? input.shape).every((d) => typeof d === 'number')) {
    errors.push(
      new DataError(`${what}: input "${input.name}" has shape ${fmt(input.shape)}, which data cannot fill`, where),
    );
    return null;
  }
  const rowSize = (per ?? input.shape).reduce<number>((a, d) => a * (d as number), 1);
  let flat: ArrayLike<number>;
  if (isFlat(v)) flat = v;
  else {
    const f = flattenRows(v as readonly unknown[], per ? rowSize : undefined);
    if (typeof f === 'string') {
      errors.push(new DataError(`${what}: values of "${input.name}": ${f}`, where));
      return null;
    }
    flat = f;
  }
  const n = flat.length;
  if (per ? rowSize === 0 || n % rowSize !== 0 : n !== rowSize) {
    errors.push(
      new DataError(
        `${what}: "${input.name}" holds ${n} values, not ${per ? `a whole number of rows of ${rowSize} (each sample has shape ${fmt(per)})` : `the ${rowSize} of shape ${fmt(input.shape)}`}`,
        where,
      ),
    );
    return null;
  }
  let integer = !(flat instanceof Float32Array || flat instanceof Float64Array);
  if (!ArrayBuffer.isView(flat)) {
    integer = true;
    for (let k = 0; k < n && integer; k++) integer = Number.isInteger(flat[k]);
  }
  const src = {
    what: `${what}: "${input.name}"`,
    shape: per ? [n / rowSize, rowSize] : [...(input.shape as number[])],
    integer,
    dtype: ArrayBuffer.isView(flat) ? flat.constructor.name : 'number',
    values: flat,
  };
  return arrayColumn(input, src, where, errors, float);
}

/**
 * Nested lists of numbers, flattened row-major; with `rowSize`, each item of the outer list is
 * one row and must hold that many numbers. Non-numbers are refused.
 */
function flattenRows(v: readonly unknown[], rowSize: number | undefined): number[] | string {
  const out: number[] = [];
  const walk = (x: unknown, path: string): string | undefined => {
    if (typeof x === 'number') {
      out.push(x);
      return undefined;
    }
    if (ArrayBuffer.isView(x)) {
      const a = x as unknown as ArrayLike<number>;
      for (let i = 0; i < a.length; i++) out.push(a[i]!);
      return undefined;
    }
    if (!Array.isArray(x)) return `item ${path} is ${x === null ? 'null' : typeof x}, not a number or a list`;
    for (let i = 0; i < x.length; i++) {
      const e = walk(x[i], `${path}[${i}]`);
      if (e) return e;
    }
    return undefined;
  };
  if (rowSize === undefined) return walk(v, '') ?? out;
  for (let r = 0; r < v.length; r++) {
    const start = out.length;
    const e = walk(v[r], `[${r}]`);
    if (e) return e;
    if (out.length - start !== rowSize) return `row ${r} holds ${out.length - start} values, a sample ${rowSize}`;
  }
  return out;
}
