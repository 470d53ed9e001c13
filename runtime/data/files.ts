// Data files for training and validation: CSV (a header row; inputs take columns by name) and
// JSON (json.ts). Read on demand from the model's description of its data (DataSource), through
// the LoaderIO the graph was loaded with; every value keeps its file:line:column.

import { DataError, NameError, type GraphError, type SourceLoc } from '../errors.js';
import { suggest } from '../load/hint.js';
import { MAX_YAML_BYTES, readHint, refusal } from '../load/io.js';
import type { DataSource, InputDecl, Located, SpecLoc } from '../load/model.js';
import type { FloatDType } from '../ir/types.js';
import { arrayFileColumns } from './arrays.js';
import { binaryKind, ioError, openData } from './binary.js';
import { checkColumn, type Column } from './column.js';
import { numberAt, parseCsv } from './csv.js';
import { pickColumns } from './names.js';
import { Quoted, readCsvFast } from './csv-fast.js';
import { readJson } from './json.js';
import { JsonStop, jsonError, readJsonFast } from './json-fast.js';

/** A data file's column spec: input -> the column (or columns) it takes. */
export interface Columns {
  columns?: Record<string, string | string[]>;
}

/** Columns an input takes: the spec's entry, or a column named like the input. */
export function columnsOf(spec: Columns, input: string): string[] {
  const c = spec.columns?.[input];
  return c === undefined ? [input] : Array.isArray(c) ? c : [c];
}

/** Values per sample of an input (its shape without the batch axis). */
function perSample(input: InputDecl): number | undefined {
  if (input.shape[0] !== 'batch') return undefined;
  let n = 1;
  for (const d of input.shape.slice(1)) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

/**
 * Read a data file into the same shape inline data has: input name -> rows, each row with
 * its position in the file. `spec.at(path, key)` positions a part of the spec in the graph file.
 */
export function readDataFile(
  spec: Extract<DataSource, { kind: 'file' }>,
  inputs: InputDecl[],
  errors: GraphError[],
  float: FloatDType = 'f32',
  headOnly = false,
): Map<string, Column> | null {
  const { io, path, at } = spec;
  const wanted = inputs.filter((i) => !i.provided);
  const kind = binaryKind(path);
  if (kind) {
    unknownColumns(spec, wanted, errors);
    return arrayFileColumns(spec, kind, wanted, float, errors, headOnly);
  }
  const json = /\.json$/i.test(path);
  if (headOnly && json) {
    // A JSON file has no header: that it can be opened is all validation reads.
    try {
      openData(io, path).close();
    } catch (e) {
      if (!ioError(e)) throw e;
      return cannotRead(e, spec, errors);
    }
    unknownColumns(spec, wanted, errors);
    return new Map();
  }
  if (json) {
    // Small files keep the positioned reader (every value's position for errors); larger ones
    // are streamed (the positioned reader costs ~250 MB per MB).
    let size: number;
    try {
      const f = openData(io, path);
      size = f.size;
      f.close();
    } catch (e) {
      if (!ioError(e)) throw e;
      return cannotRead(e, spec, errors);
    }
    if (size > MAX_YAML_BYTES) {
      unknownColumns(spec, wanted, errors);
      try {
        return readJsonFast(spec, wanted, float);
      } catch (e) {
        if (e instanceof JsonStop) errors.push(jsonError(e, spec));
        else if (ioError(e)) cannotRead(e, spec, errors);
        else throw e;
        return null;
      }
    }
  }
  if (!json) {
    try {
      const r = readCsvFast(spec, wanted, float, errors, headOnly);
      unknownColumns(spec, wanted, errors);
      return r;
    } catch (e) {
      if (headOnly && e instanceof Quoted) return new Map();
      // Quoted fields: the positioned reader below (with the size limit of files read whole).
      if (!(e instanceof Quoted)) {
        if (!ioError(e)) throw e;
        return cannotRead(e, spec, errors);
      }
    }
  }
  let text: string;
  try {
    text = io.read(path);
  } catch (e) {
    errors.push(
      new DataError(
        `cannot read data file "${path}"${refusal(e)}`,
        at(['file']),
        undefined,
        readHint(e, 'the path is relative to the graph file'),
      ),
    );
    return null;
  }
  unknownColumns(spec, wanted, errors);
  const before = errors.length;
  const data = /\.json$/i.test(path)
    ? readJson(text, path, spec, wanted, at, errors)
    : readCsv(text, path, spec, wanted, at, errors);
  if (errors.length > before || !data) return null;
  const out = new Map<string, Column>();
  for (const input of wanted) {
    const rows = data.get(input.name);
    const c = rows && checkColumn(input, rows, errors, float);
    if (c) out.set(input.name, c);
  }
  return errors.length > before ? null : out;
}

function readCsv(
  text: string,
  path: string,
  spec: Columns,
  inputs: InputDecl[],
  at: SpecLoc,
  errors: GraphError[],
): Map<string, Located<unknown[]>> | null {
  const csv = parseCsv(text, path, errors);
  if (!csv) return null;
  const header = csv.header.map((h) => h.name);
  const out = new Map<string, Located<unknown[]>>();
  for (const input of inputs) {
    const c = spec.columns?.[input.name];
    const specLoc = c !== undefined ? at(['columns', input.name]) : at(['file']);
    const picked = pickColumns(
      c,
      input.name,
      header,
      path,
      (k) => (k === undefined ? specLoc : at(['columns', input.name, k])),
      errors,
    );
    if (!picked) continue;
    const { indices: cols, names, vector } = picked;
    const per = perSample(input);
    if (per !== undefined && (vector ? names.length !== per : per !== 1)) {
      errors.push(
        new DataError(
          `input "${input.name}" takes ${per} value${per === 1 ? '' : 's'} per sample, but ${names.length} column${names.length === 1 ? ' is' : 's are'} given`,
          specLoc,
          undefined,
          `list ${per} column names: columns: {${input.name}: [...]}`,
        ),
      );
      continue;
    }
    const rows: unknown[] = [];
    const itemLocs: SourceLoc[] = [];
    for (const r of csv.rows) {
      const vals = cols.map((j) => numberAt(r.fields[j]!, r.locs[j]!, csv.header[j]!.name, errors));
      rows.push(vector ? vals : vals[0]);
      itemLocs.push(r.locs[cols[0]!]!);
    }
    out.set(input.name, { value: rows, loc: specLoc, itemLoc: (i) => itemLocs[i] ?? specLoc });
  }
  return out;
}

/** Report `columns` entries for inputs the graph does not have (reading goes on). */
function unknownColumns(spec: Columns & { at: SpecLoc }, wanted: InputDecl[], errors: GraphError[]): void {
  for (const name of Object.keys(spec.columns ?? {})) {
    if (!wanted.some((i) => i.name === name)) {
      errors.push(
        new NameError(
          `columns for unknown input "${name}"`,
          spec.at(['columns', name], true),
          undefined,
          suggest(
            name,
            wanted.map((i) => i.name),
            'inputs',
          ),
        ),
      );
    }
  }
}

function cannotRead(e: unknown, spec: { path: string; at: SpecLoc }, errors: GraphError[]): null {
  errors.push(
    new DataError(
      `cannot read data file "${spec.path}"${refusal(e)}`,
      spec.at(['file']),
      undefined,
      readHint(e, 'the path is relative to the graph file'),
    ),
  );
  return null;
}
