// Inputs from binary array files: one file per input (`x: {file: images.idx}`: .npy, IDX, or an
// array of an .npz or safetensors file), or one .npz / safetensors file whose arrays the
// `columns` name. Every problem names the file and the array, at the graph's `file:`.

import { DataError, NameError, type GraphError, type SourceLoc } from '../errors.js';
import type { FloatDType } from '../ir/types.js';
import { suggestFrom } from '../load/hint.js';
import { readHint, refusal } from '../load/io.js';
import type { DataSource, InputDecl, InputFile, SpecLoc } from '../load/model.js';
import {
  arrayNames,
  BinaryError,
  type BinaryKind,
  binaryKind,
  holdsMany,
  ioError,
  MissingArray,
  readArray,
  readArrayHeader,
} from './binary.js';
import { arrayColumn, arrayFits, columnDType, type Column } from './column.js';

/** One array of a binary file as a column of `input`; errors at `at(['file'])` (or `nameAt`). */
function arrayInput(
  input: InputDecl,
  io: InputFile['io'],
  path: string,
  kind: BinaryKind,
  array: string,
  at: SpecLoc,
  nameAt: SourceLoc,
  float: FloatDType,
  errors: GraphError[],
  scale: number | undefined,
  headOnly: boolean,
): Column | boolean {
  const fileLoc = at(['file']);
  const what = holdsMany(kind) ? `${path} array "${array}"` : path;
  let arr: ReturnType<typeof readArray>;
  try {
    if (headOnly) {
      const h = readArrayHeader(io, path, kind, array);
      if (h && !arrayFits(input, { what, ...h }, fileLoc, errors, float)) return false;
      if (scale !== undefined && columnDType(input, float) === 'i32') {
        errors.push(new DataError(`input "${input.name}" is i32: its values cannot be scaled`, at(['scale'])));
        return false;
      }
      return true;
    }
    arr = readArray(io, path, kind, array);
  } catch (e) {
    if (e instanceof MissingArray) {
      let names: string[] = [];
      try {
        names = arrayNames(io, path, kind);
      } catch {}
      errors.push(
        new NameError(
          `${path} has no array "${array}" (for input "${input.name}")`,
          nameAt,
          undefined,
          suggestFrom(array, names, 'arrays'),
        ),
      );
      return false;
    }
    if (!ioError(e) && !(e instanceof BinaryError)) throw e;
    if (e instanceof BinaryError) errors.push(new DataError(`cannot read data file "${path}": ${e.message}`, fileLoc));
    else
      errors.push(
        new DataError(
          `cannot read data file "${path}"${refusal(e)}`,
          fileLoc,
          undefined,
          readHint(e, 'the path is relative to the graph file'),
        ),
      );
    return false;
  }
  if (scale !== undefined && columnDType(input, float) === 'i32') {
    errors.push(new DataError(`input "${input.name}" is i32: its values cannot be scaled`, at(['scale'])));
    return false;
  }
  return arrayColumn(input, { what, ...arr }, fileLoc, errors, float, scale) ?? false;
}

/** An input's own array file (`x: {file: ..., array?, scale?}`) as its column. */
export function inputFileColumn(
  input: InputDecl,
  spec: InputFile,
  float: FloatDType,
  errors: GraphError[],
  headOnly = false,
): Column | boolean {
  const kind = binaryKind(spec.path);
  if (!kind) {
    errors.push(
      new DataError(
        `"${spec.path}" is not a binary array file`,
        spec.at(['file']),
        undefined,
        'an input takes its own file when it is .npy, .npz, .safetensors or IDX (.idx, -ubyte, .gz); CSV and JSON files give all inputs: data: {file: data.csv}',
      ),
    );
    return false;
  }
  if (spec.array !== undefined && !holdsMany(kind)) {
    errors.push(
      new DataError(`${spec.path} holds one array: \`array\` is for .npz and safetensors files`, spec.at(['array'])),
    );
    return false;
  }
  const name = spec.array ?? input.name;
  const nameAt = spec.array !== undefined ? spec.at(['array']) : spec.at(['file']);
  return arrayInput(input, spec.io, spec.path, kind, name, spec.at, nameAt, float, errors, spec.scale, headOnly);
}

/** Columns of an .npz or safetensors file named as the whole data (`data: {file: train.npz}`). */
export function arrayFileColumns(
  spec: Extract<DataSource, { kind: 'file' }>,
  kind: BinaryKind,
  inputs: InputDecl[],
  float: FloatDType,
  errors: GraphError[],
  headOnly = false,
): Map<string, Column> | null {
  if (!holdsMany(kind)) {
    errors.push(
      new DataError(
        `${spec.path} holds one array; give each input its own file`,
        spec.at(['file']),
        undefined,
        'data: {x: {file: images.idx}, y: {file: labels.idx}}',
      ),
    );
    return null;
  }
  const before = errors.length;
  const out = new Map<string, Column>();
  for (const input of inputs) {
    const c = spec.columns?.[input.name];
    if (Array.isArray(c)) {
      errors.push(
        new DataError(
          `input "${input.name}" takes one array of ${spec.path}, not a list`,
          spec.at(['columns', input.name]),
        ),
      );
      continue;
    }
    const nameAt = c !== undefined ? spec.at(['columns', input.name]) : spec.at(['file']);
    const col = arrayInput(
      input,
      spec.io,
      spec.path,
      kind,
      c ?? input.name,
      spec.at,
      nameAt,
      float,
      errors,
      undefined,
      headOnly,
    );
    if (typeof col === 'object') out.set(input.name, col);
  }
  return errors.length > before ? null : out;
}
