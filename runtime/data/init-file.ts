// Initial values from a file (`init: {file: ...}`): read when the parameter is initialised,
// not when the graph loads; errors point into the file or at the graph's `file:`.

import { DataError, GraphErrors, type GraphError, type SourceLoc } from '../errors.js';
import { suggestFrom } from '../load/hint.js';
import { excerpt, type LoaderIO, readHint, refusal } from '../load/io.js';
import type { Init, Model, ParamDecl } from '../load/model.js';
import { decodeSafetensors, SafetensorsError } from '../load/safetensors.js';
import { SourceFile } from '../load/source.js';
import { numberAt, parseCsv } from './csv.js';

/**
 * A parameter's initial values from a safetensors file: the tensor called `tensor` (the
 * parameter's name), F32, F64 or I32, of the parameter's shape.
 */
function readSafetensors(
  io: LoaderIO,
  path: string,
  tensor: string,
  shape: number[],
  at: SourceLoc,
  errors: GraphError[],
): number[] | null {
  const fail = (message: string, hint?: string) => {
    errors.push(new DataError(message, at, undefined, hint));
    return null;
  };
  if (!io.readBytes) return fail(`cannot read initial values from "${path}": this file access reads text files only`);
  let bytes: Uint8Array;
  try {
    bytes = io.readBytes(path);
  } catch (e) {
    return fail(
      `cannot read initial values from "${path}"${refusal(e)}`,
      readHint(e, 'the path is relative to the graph file'),
    );
  }
  let file: ReturnType<typeof decodeSafetensors>;
  try {
    file = decodeSafetensors(bytes, path);
  } catch (e) {
    if (e instanceof SafetensorsError) return fail(e.message);
    throw e;
  }
  const t = file.tensors.get(tensor);
  if (!t) {
    return fail(
      `${path} has no tensor "${tensor}" (a parameter initialised from a safetensors file reads the tensor of its own name)`,
      suggestFrom(tensor, file.tensors.keys(), 'tensors'),
    );
  }
  if (t.shape.join(',') !== shape.join(','))
    return fail(
      `${path}: tensor "${tensor}" has shape [${t.shape.join(', ')}], the parameter has [${shape.join(', ')}]`,
    );
  return Array.from(t.data);
}

/**
 * A parameter's initial values from a file: a JSON nested list (its shape must be the
 * parameter's), a CSV grid of numbers without a header (row-major, as many as the parameter
 * has elements), or a safetensors file's tensor named `tensor`.
 */
export function readInitFile(
  io: LoaderIO,
  path: string,
  shape: number[],
  at: SourceLoc,
  errors: GraphError[],
  tensor = '',
): number[] | null {
  if (/\.safetensors$/i.test(path)) return readSafetensors(io, path, tensor, shape, at, errors);
  let text: string;
  try {
    text = io.read(path);
  } catch (e) {
    errors.push(
      new DataError(
        `cannot read initial values from "${path}"${refusal(e)}`,
        at,
        undefined,
        readHint(e, 'the path is relative to the graph file'),
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
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) flat(x, [...p, i]);
      } else if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
      else errors.push(new DataError(`${excerpt(String(JSON.stringify(v)))} is not a number`, parsed.loc(p)));
    };
    flat(parsed.value, []);
    const dims: number[] = [];
    for (let v: unknown = parsed.value; Array.isArray(v); v = v[0]) dims.push(v.length);
    // A ragged list ([1, [2, 3]]) has the right first dimensions but not the right count.
    const ragged = values.length !== dims.reduce((a, b) => a * b, 1);
    if (
      errors.length === before &&
      (ragged || dims.join(',') !== shape.join(',')) &&
      !(shape.length === 0 && dims.length === 0)
    ) {
      errors.push(
        new DataError(
          ragged
            ? `${path} holds a ragged list (${values.length} numbers in rows of different lengths), the parameter has [${shape.join(', ')}]`
            : `${path} holds a list of shape [${dims.join(', ')}], the parameter has [${shape.join(', ')}]`,
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

type FileInit = Extract<Init, { kind: 'file' }>;

/** Each file initialiser read once: its values, or the errors reading it gave. */
const read = new WeakMap<FileInit, { values: number[] | null; errors: GraphError[] }>();

function readOnce(p: InitOf & { init: FileInit }): { values: number[] | null; errors: GraphError[] } {
  let r = read.get(p.init);
  if (!r) {
    const errors: GraphError[] = [];
    const values = readInitFile(p.init.io, p.init.path, p.shape, p.init.loc, errors, p.init.tensor);
    r = { values, errors };
    read.set(p.init, r);
  }
  return r;
}

/** What reading needs of a parameter: its name, shape and initialiser. */
type InitOf = Pick<ParamDecl, 'name' | 'shape' | 'init'>;

const fromFile = <P extends InitOf>(p: P): p is P & { init: FileInit } => p.init.kind === 'file';

/**
 * Read every parameter's initial-values file, adding the problems to `errors` (validation);
 * false when a file cannot be used.
 */
export function checkInitFiles(model: Model, errors: GraphError[]): boolean {
  let ok = true;
  for (const p of model.params) {
    if (!fromFile(p)) continue;
    const r = readOnce(p);
    errors.push(...r.errors);
    if (!r.values) ok = false;
  }
  return ok;
}

/** A file-initialised parameter's values; throws GraphErrors when the file is unusable. */
export function initFileValues(p: InitOf): number[] {
  if (!fromFile(p)) throw new Error(`parameter "${p.name}" is not initialised from a file`);
  const r = readOnce(p);
  if (!r.values) throw new GraphErrors(r.errors);
  return r.values;
}
