// Data files for training and validation: CSV (a header row; inputs take columns by name) and
// JSON (an object of input -> rows like inline data, or a list of records taking fields by
// name). Paths are relative to the graph file. Every value keeps its file:line:column, so a
// missing or non-numeric value, and later shape or label errors, point into the data file.

import { DataError, NameError, type GraphError, type SourceLoc } from '../errors.js';
import { suggest } from '../load/hint.js';
import type { InputDecl, Located } from '../load/model.js';
import { SourceFile } from '../load/source.js';

/** How a graph names a data file: `file`, and for each input the column (or columns) it takes. */
export interface DataFileSpec {
  file: string;
  columns?: Record<string, string | string[]>;
}

export interface FileAccess {
  read(path: string): string;
  resolve(from: string, spec: string): string;
}

/** A parsed CSV: header names and, per data row, its fields with their positions. */
export interface Csv {
  header: { name: string; loc: SourceLoc }[];
  rows: { fields: string[]; locs: SourceLoc[]; line: number }[];
}

/**
 * RFC 4180 CSV: commas, optional double quotes ("" inside quotes is a quote), CRLF or LF.
 * Blank lines are skipped. Fields are trimmed. Errors: a row with the wrong number of fields.
 */
export function parseCsv(text: string, file: string, errors: GraphError[]): Csv | null {
  const records: { fields: string[]; locs: SourceLoc[]; line: number }[] = [];
  let line = 1,
    col = 1,
    i = 0;
  const n = text.length;
  while (i < n) {
    const fields: string[] = [],
      locs: SourceLoc[] = [];
    const startLine = line;
    let blank = true;
    for (;;) {
      // One field: skip leading spaces, then a quoted or plain value.
      while (i < n && (text[i] === ' ' || text[i] === '\t')) [i, col] = [i + 1, col + 1];
      const loc = { file, line, col };
      let value = '';
      if (text[i] === '"') {
        blank = false;
        i++, col++;
        for (;;) {
          if (i >= n) {
            errors.push(new DataError('a quoted field is not closed', loc));
            return null;
          }
          const ch = text[i]!;
          if (ch === '"' && text[i + 1] === '"') [value, i, col] = [value + '"', i + 2, col + 2];
          else if (ch === '"') {
            i++, col++;
            break;
          } else {
            value += ch;
            i++;
            if (ch === '\n') [line, col] = [line + 1, 1];
            else col++;
          }
        }
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') [i, col] = [i + 1, col + 1];
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r')
          [value, i, col] = [value + text[i], i + 1, col + 1];
        value = value.trim();
        if (value !== '') blank = false;
      }
      fields.push(value);
      locs.push(loc);
      if (i < n && text[i] === ',') {
        blank = false;
        i++, col++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++, (col = 1);
    if (!blank) records.push({ fields, locs, line: startLine });
  }
  if (!records.length) {
    errors.push(
      new DataError('the CSV file is empty; it needs a header row naming the columns', { file, line: 1, col: 1 }),
    );
    return null;
  }
  const [head, ...rows] = records;
  const header = head!.fields.map((name, k) => ({ name, loc: head!.locs[k]! }));
  let ok = true;
  for (const r of rows) {
    if (r.fields.length !== header.length) {
      errors.push(
        new DataError(
          `row has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
          { file, line: r.line, col: 1 },
        ),
      );
      ok = false;
    }
  }
  return ok ? { header, rows } : null;
}

/** A CSV or JSON field as a number, or an error at its position. */
function numberAt(text: string, loc: SourceLoc, column: string, errors: GraphError[]): number | undefined {
  if (text === '') {
    errors.push(
      new DataError(
        `missing value in column "${column}"`,
        loc,
        undefined,
        'every row needs a number in every column the graph reads',
      ),
    );
    return undefined;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) {
    errors.push(new DataError(`"${text}" in column "${column}" is not a number`, loc));
    return undefined;
  }
  return v;
}

/** Columns an input takes: the spec's entry, or a column named like the input. */
function columnsOf(spec: DataFileSpec, input: string): string[] {
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
 * its position in the file. `at(path, key)` positions a part of the spec in the graph file.
 */
export function readDataFile(
  io: FileAccess,
  graphFile: string,
  spec: DataFileSpec,
  inputs: InputDecl[],
  at: (path: (string | number)[], key?: boolean) => SourceLoc,
  errors: GraphError[],
): Map<string, Located<unknown[]>> | null {
  const path = io.resolve(graphFile, spec.file);
  let text: string;
  try {
    text = io.read(path);
  } catch {
    errors.push(
      new DataError(
        `cannot read data file "${path}"`,
        at(['file']),
        undefined,
        'the path is relative to the graph file',
      ),
    );
    return null;
  }
  const wanted = inputs.filter((i) => !i.provided);
  for (const name of Object.keys(spec.columns ?? {})) {
    if (!wanted.some((i) => i.name === name)) {
      errors.push(
        new NameError(
          `columns for unknown input "${name}"`,
          at(['columns', name], true),
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
  const before = errors.length;
  const data = /\.json$/i.test(path)
    ? readJson(text, path, spec, wanted, at, errors)
    : readCsv(text, path, spec, wanted, at, errors);
  return errors.length > before ? null : data;
}

function readCsv(
  text: string,
  path: string,
  spec: DataFileSpec,
  inputs: InputDecl[],
  at: (p: (string | number)[], key?: boolean) => SourceLoc,
  errors: GraphError[],
): Map<string, Located<unknown[]>> | null {
  const csv = parseCsv(text, path, errors);
  if (!csv) return null;
  const index = new Map(csv.header.map((h, k) => [h.name, k]));
  const out = new Map<string, Located<unknown[]>>();
  for (const input of inputs) {
    const names = columnsOf(spec, input.name);
    const specLoc = spec.columns?.[input.name] !== undefined ? at(['columns', input.name]) : at(['file']);
    const cols: number[] = [];
    names.forEach((c, k) => {
      const j = index.get(c);
      if (j === undefined) {
        const where = Array.isArray(spec.columns?.[input.name]) ? at(['columns', input.name, k]) : specLoc;
        errors.push(
          new NameError(
            `${path} has no column "${c}" (for input "${input.name}")`,
            where,
            undefined,
            suggest(c, index.keys(), 'columns'),
          ),
        );
      } else cols.push(j);
    });
    if (cols.length !== names.length) continue;
    const per = perSample(input);
    const vector = Array.isArray(spec.columns?.[input.name]);
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

function readJson(
  text: string,
  path: string,
  spec: DataFileSpec,
  inputs: InputDecl[],
  at: (p: (string | number)[], key?: boolean) => SourceLoc,
  errors: GraphError[],
): Map<string, Located<unknown[]>> | null {
  // JSON is YAML: the YAML reader gives every value its position.
  const parsed = SourceFile.parse(path, text);
  if (Array.isArray(parsed)) {
    errors.push(...parsed);
    return null;
  }
  const doc = parsed.value;
  const out = new Map<string, Located<unknown[]>>();
  const top = { file: path, line: 1, col: 1 };
  if (Array.isArray(doc)) {
    // A list of records: input <- field(s) by name.
    for (const input of inputs) {
      const names = columnsOf(spec, input.name);
      const vector = Array.isArray(spec.columns?.[input.name]);
      const rows: unknown[] = [];
      doc.forEach((rec, r) => {
        if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
          errors.push(new DataError(`record ${r} is not an object`, parsed.loc([r])));
          return;
        }
        const vals = names.map((c) => {
          const v = (rec as Record<string, unknown>)[c];
          if (v === undefined) {
            errors.push(
              new DataError(
                `record ${r} has no field "${c}" (for input "${input.name}")`,
                parsed.loc([r]),
                undefined,
                suggest(c, Object.keys(rec), 'fields'),
              ),
            );
            return undefined;
          }
          if (typeof v !== 'number' && !Array.isArray(v)) {
            errors.push(new DataError(`field "${c}" of record ${r} is not a number`, parsed.loc([r, c])));
            return undefined;
          }
          return v;
        });
        rows.push(vector ? vals : vals[0]);
      });
      out.set(input.name, {
        value: rows,
        loc: spec.columns?.[input.name] !== undefined ? at(['columns', input.name]) : top,
        itemLoc: (i) => parsed.loc([i, names[0]!]),
      });
    }
    return out;
  }
  if (doc === null || typeof doc !== 'object') {
    errors.push(new DataError('a JSON data file holds an object (input -> rows) or a list of records', top));
    return null;
  }
  const obj = doc as Record<string, unknown>;
  for (const input of inputs) {
    const names = columnsOf(spec, input.name);
    if (names.length !== 1) {
      errors.push(
        new DataError(`input "${input.name}" takes one key of a JSON object of rows`, at(['columns', input.name])),
      );
      continue;
    }
    const key = names[0]!;
    const v = obj[key];
    if (!Array.isArray(v)) {
      errors.push(
        new DataError(
          v === undefined
            ? `${path} has no key "${key}" (for input "${input.name}")`
            : `"${key}" in ${path} is not a list of rows`,
          v === undefined ? top : parsed.loc([key]),
          undefined,
          v === undefined ? suggest(key, Object.keys(obj), 'keys') : undefined,
        ),
      );
      continue;
    }
    out.set(input.name, { value: v, loc: parsed.loc([key], true), itemLoc: (i) => parsed.loc([key, i]) });
  }
  return out;
}

/**
 * A parameter's initial values from a file: a JSON nested list (its shape must be the
 * parameter's), or a CSV grid of numbers without a header (row-major, as many as the parameter
 * has elements).
 */
export function readInitFile(
  io: FileAccess,
  graphFile: string,
  spec: string,
  shape: number[],
  at: SourceLoc,
  errors: GraphError[],
): number[] | null {
  const path = io.resolve(graphFile, spec);
  let text: string;
  try {
    text = io.read(path);
  } catch {
    errors.push(
      new DataError(
        `cannot read initial values from "${path}"`,
        at,
        undefined,
        'the path is relative to the graph file',
      ),
    );
    return null;
  }
  const want = shape.reduce((a, b) => a * b, 1);
  const before = errors.length;
  let values: number[] = [];
  if (/\.json$/i.test(path)) {
    const parsed = SourceFile.parse(path, text);
    if (Array.isArray(parsed)) {
      errors.push(...parsed);
      return null;
    }
    const flat = (v: unknown, p: (string | number)[]): void => {
      if (Array.isArray(v)) v.forEach((x, i) => flat(x, [...p, i]));
      else if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
      else errors.push(new DataError(`${JSON.stringify(v)} is not a number`, parsed.loc(p)));
    };
    flat(parsed.value, []);
    const dims: number[] = [];
    for (let v: unknown = parsed.value; Array.isArray(v); v = v[0]) dims.push(v.length);
    if (errors.length === before && dims.join(',') !== shape.join(',') && !(shape.length === 0 && dims.length === 0)) {
      errors.push(
        new DataError(
          `${path} holds a list of shape [${dims.join(', ')}], the parameter has [${shape.join(', ')}]`,
          at,
        ),
      );
    }
  } else {
    const csv = parseCsv(text, path, errors);
    if (!csv) return null;
    // No header: the first row is data too.
    const rows = [{ fields: csv.header.map((h) => h.name), locs: csv.header.map((h) => h.loc) }, ...csv.rows];
    values = [];
    for (const r of rows)
      r.fields.forEach((f, k) => {
        const v = numberAt(f, r.locs[k]!, String(k + 1), errors);
        if (v !== undefined) values.push(v);
      });
    if (errors.length === before && values.length !== want) {
      errors.push(new DataError(`${path} holds ${values.length} numbers, the parameter has ${want} elements`, at));
    }
  }
  return errors.length === before ? values : null;
}
