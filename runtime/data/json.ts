// JSON data files: an object of input -> rows (like inline data), or a list of records taking
// fields by name. JSON is YAML, so the YAML reader gives every value its position.

import { DataError, type GraphError } from '../errors.js';
import { suggestFrom } from '../load/hint.js';
import type { InputDecl, Located, SpecLoc } from '../load/model.js';
import { SourceFile } from '../load/source.js';
import { columnsOf, type Columns } from './files.js';

export function readJson(
  text: string,
  path: string,
  spec: Columns,
  inputs: InputDecl[],
  at: SpecLoc,
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
                suggestFrom(c, Object.keys(rec), 'fields'),
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
          v === undefined ? suggestFrom(key, Object.keys(obj), 'keys') : undefined,
        ),
      );
      continue;
    }
    out.set(input.name, { value: v, loc: parsed.loc([key], true), itemLoc: (i) => parsed.loc([key, i]) });
  }
  return out;
}
